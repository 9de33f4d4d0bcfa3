//! C2SP entry bundles: each entry as a big-endian u16 length, then its bytes.

/// The longest entry a bundle can hold.
pub const MAX_ENTRY_SIZE: usize = u16::MAX as usize;

/// Why bytes are not an entry bundle of the expected width.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// The bytes end inside entry `entry` (its length prefix or its body).
    #[error("entry bundle truncated in entry {entry}")]
    Truncated {
        /// Position of the cut entry within the bundle.
        entry: u16,
    },
}

/// Appends one entry to a bundle. The caller has checked `entry.len() <= MAX_ENTRY_SIZE`.
pub(crate) fn push_entry(bundle: &mut Vec<u8>, entry: &[u8]) {
    debug_assert!(entry.len() <= MAX_ENTRY_SIZE, "checked by the caller");
    bundle.extend_from_slice(&(entry.len() as u16).to_be_bytes());
    bundle.extend_from_slice(entry);
}

/// The entries of a bundle, in order; an error ends the iteration.
pub fn bundle_entries(bundle: &[u8]) -> BundleEntries<'_> {
    BundleEntries {
        rest: bundle,
        position: 0,
    }
}

/// The byte length of the first `width` entries of `bundle` (a stored bundle may hold more).
pub fn bundle_prefix_len(bundle: &[u8], width: u16) -> Result<usize, BundleError> {
    let mut entries = bundle_entries(bundle);
    for _ in 0..width {
        entries.next().unwrap_or(Err(BundleError::Truncated {
            entry: entries.position,
        }))?;
    }
    Ok(bundle.len() - entries.rest.len())
}

/// Iterator over the entries of a bundle (see [`bundle_entries`]).
#[derive(Clone, Debug)]
pub struct BundleEntries<'a> {
    rest: &'a [u8],
    position: u16,
}

impl<'a> Iterator for BundleEntries<'a> {
    type Item = Result<&'a [u8], BundleError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let truncated = BundleError::Truncated {
            entry: self.position,
        };
        let Some((&[high, low], body)) = self.rest.split_first_chunk::<2>() else {
            self.rest = &[];
            return Some(Err(truncated));
        };
        let len = usize::from(u16::from_be_bytes([high, low]));
        let Some((entry, rest)) = body.split_at_checked(len) else {
            self.rest = &[];
            return Some(Err(truncated));
        };
        self.rest = rest;
        self.position = self.position.wrapping_add(1);
        Some(Ok(entry))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_with_u16_prefixes() {
        let entries: [&[u8]; 4] = [b"", b"a", &[7u8; 300], &[1u8; MAX_ENTRY_SIZE]];
        let mut bundle = Vec::new();
        for entry in entries {
            push_entry(&mut bundle, entry);
        }
        assert_eq!(&bundle[..2], &[0, 0]);
        assert_eq!(&bundle[2..5], &[0, 1, b'a']);
        assert_eq!(&bundle[5..7], &[0x01, 0x2c]);
        let parsed: Vec<&[u8]> = bundle_entries(&bundle)
            .collect::<Result<_, _>>()
            .expect("well-formed bundle");
        assert_eq!(parsed, entries);
        assert_eq!(bundle_prefix_len(&bundle, 0), Ok(0));
        assert_eq!(bundle_prefix_len(&bundle, 2), Ok(5));
        assert_eq!(bundle_prefix_len(&bundle, 4), Ok(bundle.len()));
        assert_eq!(
            bundle_prefix_len(&bundle, 5),
            Err(BundleError::Truncated { entry: 4 })
        );
    }

    #[test]
    fn truncated_bundles_are_errors_not_panics() {
        let mut bundle = Vec::new();
        push_entry(&mut bundle, b"hello");
        push_entry(&mut bundle, b"world");
        for cut in 1..bundle.len() {
            let prefix = &bundle[..cut];
            let results: Vec<_> = bundle_entries(prefix).collect();
            if cut == 7 {
                assert_eq!(results, [Ok(&b"hello"[..])]);
            } else {
                let entry = u16::from(cut > 7);
                assert_eq!(
                    results.last(),
                    Some(&Err(BundleError::Truncated { entry })),
                    "cut at {cut}"
                );
            }
        }
    }
}
