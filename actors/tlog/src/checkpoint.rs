//! C2SP tlog-checkpoint: the note text naming a log, its size and its root.

use crate::hash::Hash;

/// A checkpoint: the log's origin line, the tree size and the root hash.
///
/// [`Checkpoint::new`] and [`Checkpoint::parse`] check the origin; a checkpoint built from its
/// fields must keep it non-empty and free of control characters (newlines) for its text to be
/// a checkpoint (signing checks it: [`crate::NoteSigner::sign_checkpoint`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's identity, by convention its schema-less URL prefix (`example.com/log`).
    pub origin: String,
    /// The tree size.
    pub size: u64,
    /// The root hash of the tree of that size.
    pub root: Hash,
}

/// Why text is not a checkpoint (or an origin not a valid origin line).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The text does not end in a newline, or has fewer than three lines.
    #[error("a checkpoint is at least three lines, each ending in a newline")]
    Lines,
    /// The origin is empty or holds a control character.
    #[error("the origin must be non-empty, without control characters")]
    Origin,
    /// The size is not a decimal without leading zeros that fits 64 bits.
    #[error("the size must be a decimal without leading zeros")]
    Size,
    /// The root is not standard base64 of 32 bytes.
    #[error("the root must be base64 of 32 bytes")]
    Root,
    /// An extension line is empty, or holds a control character.
    #[error("extension lines must be non-empty, without control characters")]
    Extension,
}

impl Checkpoint {
    /// A checkpoint; the origin must be non-empty and free of control characters (newlines).
    pub fn new(origin: &str, size: u64, root: Hash) -> Result<Checkpoint, CheckpointError> {
        if !is_line(origin) {
            return Err(CheckpointError::Origin);
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
        })
    }

    /// Whether the origin is a valid origin line (non-empty, no control characters).
    pub fn has_valid_origin(&self) -> bool {
        is_line(&self.origin)
    }

    /// The note text: exactly `origin\nsize\nbase64(root)\n`, without extension lines.
    pub fn to_text(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            self.root.to_base64()
        )
    }

    /// Parses a checkpoint's note text strictly. Extension lines are allowed (they must be
    /// non-empty) but not kept.
    pub fn parse(text: &str) -> Result<Checkpoint, CheckpointError> {
        let body = text.strip_suffix('\n').ok_or(CheckpointError::Lines)?;
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(CheckpointError::Lines);
        };
        if lines.any(|line| !is_line(line)) {
            return Err(CheckpointError::Extension);
        }
        let root = Hash::from_base64(root).map_err(|_| CheckpointError::Root)?;
        Checkpoint::new(origin, parse_size(size)?, root)
    }
}

/// A non-empty line without control characters (which signed notes forbid, but for newline).
fn is_line(line: &str) -> bool {
    !line.is_empty() && !line.chars().any(char::is_control)
}

fn parse_size(text: &str) -> Result<u64, CheckpointError> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    if !canonical {
        return Err(CheckpointError::Size);
    }
    text.parse().map_err(|_| CheckpointError::Size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    fn checkpoint() -> Checkpoint {
        Checkpoint::new("example.com/log", 923_748, leaf_hash(b"root")).expect("valid origin")
    }

    #[test]
    fn text_is_exact_and_round_trips() {
        let c = checkpoint();
        let text = c.to_text();
        assert_eq!(
            text,
            format!(
                "example.com/log\n923748\n{}\n",
                leaf_hash(b"root").to_base64()
            )
        );
        assert_eq!(Checkpoint::parse(&text), Ok(c.clone()));
        let empty = Checkpoint::new("o", 0, crate::empty_root()).expect("valid origin");
        assert_eq!(
            empty.to_text(),
            "o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
        );
        assert_eq!(Checkpoint::parse(&empty.to_text()), Ok(empty));
        let max = Checkpoint::new("o", u64::MAX, c.root).expect("valid origin");
        assert_eq!(Checkpoint::parse(&max.to_text()), Ok(max));
    }

    #[test]
    fn extension_lines_are_accepted_and_dropped() {
        let c = checkpoint();
        let text = format!("{}ext one\nanother ext\n", c.to_text());
        assert_eq!(Checkpoint::parse(&text), Ok(c));
    }

    #[test]
    fn interoperates_with_tlog_tiles() {
        let c = checkpoint();
        let theirs = tlog_tiles::Checkpoint::from_bytes(c.to_text().as_bytes())
            .expect("tlog_tiles parses our checkpoint");
        assert_eq!(theirs.origin(), c.origin);
        assert_eq!(theirs.size(), c.size);
        assert_eq!(theirs.hash().0, c.root.0);
        assert_eq!(theirs.extension(), "");
        let with_extension = tlog_tiles::Checkpoint::new(
            "example.com/other",
            17,
            tlog_tiles::record_hash(b"x"),
            "a\nb\n",
        )
        .expect("valid checkpoint");
        let text = String::from_utf8(with_extension.to_bytes()).expect("UTF-8");
        let ours = Checkpoint::parse(&text).expect("we parse tlog_tiles' checkpoint");
        assert_eq!(
            (ours.origin.as_str(), ours.size, ours.root.0),
            ("example.com/other", 17, tlog_tiles::record_hash(b"x").0)
        );
    }

    #[test]
    fn strict_parsing_rejects_malformed_text() {
        let root = leaf_hash(b"root").to_base64();
        let bad: Vec<(String, CheckpointError)> = vec![
            (String::new(), CheckpointError::Lines),
            (format!("o\n1\n{root}"), CheckpointError::Lines),
            ("o\n1\n".into(), CheckpointError::Lines),
            (format!("\n1\n{root}\n"), CheckpointError::Origin),
            (format!("o\r\n1\n{root}\n"), CheckpointError::Origin),
            (format!("o\n01\n{root}\n"), CheckpointError::Size),
            (format!("o\n00\n{root}\n"), CheckpointError::Size),
            (format!("o\n+1\n{root}\n"), CheckpointError::Size),
            (format!("o\n-1\n{root}\n"), CheckpointError::Size),
            (format!("o\n 1\n{root}\n"), CheckpointError::Size),
            (format!("o\n\n{root}\n"), CheckpointError::Size),
            (
                format!("o\n18446744073709551616\n{root}\n"),
                CheckpointError::Size,
            ),
            ("o\n1\nAAAA\n".into(), CheckpointError::Root),
            (format!("o\n1\n{}\n", &root[..43]), CheckpointError::Root),
            (format!("o\n1\n{root} \n"), CheckpointError::Root),
            (
                format!("o\n1\n{}\n", hex::encode([0u8; 32])),
                CheckpointError::Root,
            ),
            (format!("o\n1\n{root}\n\n"), CheckpointError::Extension),
            (format!("o\n1\n{root}\next\n\n"), CheckpointError::Extension),
            (format!("o\n1\n{root}\n\next\n"), CheckpointError::Extension),
            (format!("o\n1\n{root}\nex\tt\n"), CheckpointError::Extension),
        ];
        for (text, error) in bad {
            assert_eq!(Checkpoint::parse(&text), Err(error), "{text:?}");
        }
        assert_eq!(
            Checkpoint::new("", 1, leaf_hash(b"")),
            Err(CheckpointError::Origin)
        );
        assert_eq!(
            Checkpoint::new("a\nb", 1, leaf_hash(b"")),
            Err(CheckpointError::Origin)
        );
        let mut forged = checkpoint();
        assert!(forged.has_valid_origin());
        forged.origin = "a\x01b".into();
        assert!(!forged.has_valid_origin());
    }
}
