//! Feeds arbitrary bytes to the frame decoder: whole frames, bare bodies, and frames with a
//! valid header in front so the fuzzer reaches rkyv validation and the limit checks quickly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tf_wire::{FrameDecoder, MAGIC, PROTOCOL_VERSION, WireLimits, to_owned};

fuzz_target!(|data: &[u8]| {
    let mut decoder = FrameDecoder::new(WireLimits::DEFAULT);
    if let Ok(message) = decoder.decode(data) {
        let _ = to_owned(message);
    }
    let _ = decoder.decode_body(data);
    let mut framed = Vec::with_capacity(data.len() + 8);
    framed.extend_from_slice(&MAGIC);
    framed.extend_from_slice(&PROTOCOL_VERSION.to_le_bytes());
    framed.extend_from_slice(&(data.len() as u32).to_le_bytes());
    framed.extend_from_slice(data);
    if let Ok(message) = decoder.decode(&framed) {
        let _ = to_owned(message);
    }
});
