//! LEB128 varints and zigzag signed deltas: most of a decision's numbers are small, or close
//! to the previous decision's.

/// Appends `value` in 7-bit groups, low first.
pub fn put(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Appends the signed difference `now - before`, zigzag-encoded (small either way).
pub fn put_delta(out: &mut Vec<u8>, before: u64, now: u64) {
    let delta = now.wrapping_sub(before) as i64;
    put(out, ((delta << 1) ^ (delta >> 63)) as u64);
}

/// A reader over an encoded block that fails rather than panics on short or overlong input.
pub struct Reader<'a> {
    bytes: &'a [u8],
}

/// The input ended early or held a number longer than 64 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Truncated;

impl<'a> Reader<'a> {
    /// Reads from the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes }
    }

    /// Whether everything was read.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// One byte.
    pub fn byte(&mut self) -> Result<u8, Truncated> {
        let (&first, rest) = self.bytes.split_first().ok_or(Truncated)?;
        self.bytes = rest;
        Ok(first)
    }

    /// `len` bytes.
    pub fn take(&mut self, len: usize) -> Result<&'a [u8], Truncated> {
        if len > self.bytes.len() {
            return Err(Truncated);
        }
        let (taken, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        Ok(taken)
    }

    /// A varint.
    pub fn u64(&mut self) -> Result<u64, Truncated> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            let bits = u64::from(byte & 0x7f);
            if shift == 63 && bits > 1 {
                return Err(Truncated);
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(Truncated)
    }

    /// A varint that counts something held in memory: at most `max`.
    pub fn count(&mut self, max: usize) -> Result<usize, Truncated> {
        let value = self.u64()?;
        usize::try_from(value)
            .ok()
            .filter(|v| *v <= max)
            .ok_or(Truncated)
    }

    /// The value `before + delta` for a delta written by [`put_delta`].
    pub fn delta(&mut self, before: u64) -> Result<u64, Truncated> {
        let zigzag = self.u64()?;
        let delta = ((zigzag >> 1) as i64) ^ -((zigzag & 1) as i64);
        Ok(before.wrapping_add(delta as u64))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn every_number_and_delta_reads_back(a in any::<u64>(), b in any::<u64>()) {
            let mut out = Vec::new();
            put(&mut out, a);
            put_delta(&mut out, a, b);
            let mut reader = Reader::new(&out);
            prop_assert_eq!(reader.u64(), Ok(a));
            prop_assert_eq!(reader.delta(a), Ok(b));
            prop_assert!(reader.is_empty());
        }
    }

    #[test]
    fn small_deltas_take_one_byte_either_way() {
        for (before, now) in [(1000, 1001), (1001, 1000), (5, 5)] {
            let mut out = Vec::new();
            put_delta(&mut out, before, now);
            assert_eq!(out.len(), 1, "{before} -> {now}");
        }
    }

    #[test]
    fn short_and_overlong_input_is_refused() {
        assert_eq!(Reader::new(&[0x80]).u64(), Err(Truncated));
        assert_eq!(Reader::new(&[0xff; 11]).u64(), Err(Truncated));
        assert_eq!(
            Reader::new(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]).u64(),
            Err(Truncated),
            "a 65th bit"
        );
        assert_eq!(Reader::new(&[5]).count(4), Err(Truncated));
    }
}
