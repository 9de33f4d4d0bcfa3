//! Feeds arbitrary bytes to the frame decoder as the data plane does: whole frames, bare bodies,
//! and frames with a valid header in front so the fuzzer reaches rkyv validation and the limit
//! checks quickly. Whatever decodes re-encodes to a frame that decodes to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tf_wire::{FrameDecoder, MAGIC, Message, PROTOCOL_VERSION, WireLimits, encode, to_owned};

fuzz_target!(|data: &[u8]| {
    let mut decoder = FrameDecoder::new(WireLimits::DEFAULT);
    if let Ok(message) = decoder.decode(data) {
        round_trip(to_owned(message));
    }
    if let Ok(message) = decoder.decode_body(data) {
        round_trip(to_owned(message));
    }
    let mut framed = Vec::with_capacity(data.len() + 8);
    framed.extend_from_slice(&MAGIC);
    framed.extend_from_slice(&PROTOCOL_VERSION.to_le_bytes());
    framed.extend_from_slice(&(data.len() as u32).to_le_bytes());
    framed.extend_from_slice(data);
    if let Ok(message) = decoder.decode(&framed) {
        round_trip(to_owned(message));
    }
});

fn round_trip(message: Message) {
    let mut frame = Vec::new();
    encode(&message, &mut frame).expect("a message that decoded within the limits encodes");
    let mut decoder = FrameDecoder::new(WireLimits::DEFAULT);
    let again = decoder
        .decode(&frame)
        .map(to_owned)
        .expect("an encoded message decodes");
    assert_eq!(again, message);
}
