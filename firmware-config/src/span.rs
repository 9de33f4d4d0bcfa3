//! Lengths of time written the way operators write them: `90s`, `15m`, `12h`, `30d`.

/// Microseconds in a second.
const SECOND_US: u64 = 1_000_000;

/// A length of time as `<whole number><unit>`, the unit one of `s`, `m`, `h` or `d`, in
/// microseconds; `None` for anything else (no unit, a fraction, a sign, an overflow).
pub fn parse_span_us(text: &str) -> Option<u64> {
    let text = text.trim();
    // The unit is one ASCII letter; anything else (a multi-byte last character too) is refused
    // before the text is split, so no input can split inside a character.
    let unit_us = match text.as_bytes().last()? {
        b's' => SECOND_US,
        b'm' => 60 * SECOND_US,
        b'h' => 3_600 * SECOND_US,
        b'd' => 86_400 * SECOND_US,
        _ => return None,
    };
    let number = &text[..text.len() - 1];
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    number.parse::<u64>().ok()?.checked_mul(unit_us)
}

/// A length of time in the largest unit that writes it whole (`30d`, `36h`, `90s`), the way
/// [`parse_span_us`] reads it; whole seconds (anything finer is dropped).
pub fn format_span_us(us: u64) -> String {
    let secs = us / SECOND_US;
    for (unit, length) in [("d", 86_400), ("h", 3_600), ("m", 60)] {
        if secs > 0 && secs.is_multiple_of(length) {
            return format!("{}{unit}", secs / length);
        }
    }
    format!("{secs}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_unit_and_nothing_else() {
        assert_eq!(parse_span_us("90s"), Some(90_000_000));
        assert_eq!(parse_span_us("15m"), Some(900_000_000));
        assert_eq!(parse_span_us("12h"), Some(43_200_000_000));
        assert_eq!(parse_span_us(" 30d "), Some(2_592_000_000_000));
        for span in ["30d", "36h", "90m", "90s", "0s"] {
            assert_eq!(format_span_us(parse_span_us(span).expect(span)), span);
        }
        for bad in [
            "",
            "d",
            "30",
            "1.5d",
            "-1d",
            "+1d",
            "30 d",
            "30w",
            "99999999999999999d",
            "2é",
            "é",
            "1日",
            "１d",
        ] {
            assert_eq!(parse_span_us(bad), None, "{bad:?}");
        }
    }
}
