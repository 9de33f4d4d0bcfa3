//! Free text people type (a reason, a name) that other people read later, in a terminal, a
//! web page or a pull request: it must say what it shows.

/// Whether `text` is plain text on one line of at most `most` characters: no control
/// characters, and none of those that break or reorder a line without showing (line and
/// paragraph separators, bidirectional overrides and isolates, zero-width characters).
pub fn is_plain_line(text: &str, most: usize) -> bool {
    text.chars().count() <= most && !text.chars().any(|c| c.is_control() || invisible(c))
}

fn invisible(c: char) -> bool {
    matches!(c,
        '\u{2028}' | '\u{2029}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_pass_and_hidden_or_breaking_characters_do_not() {
        assert!(is_plain_line("noisy host: known, ticket OPS-12 ✓", 100));
        assert!(!is_plain_line("two\nlines", 100));
        assert!(!is_plain_line("right\u{202E}left", 100));
        assert!(!is_plain_line("zero\u{200B}width", 100));
        assert!(!is_plain_line(&"x".repeat(101), 100));
    }
}
