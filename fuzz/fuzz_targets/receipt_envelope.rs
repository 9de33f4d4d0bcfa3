//! Feeds arbitrary bytes to `appliance receipt verify`'s path: a DSSE JSON envelope, verified
//! against the fixed appliance key the seeds are signed with. The envelope's JSON form round-
//! trips; and re-signed by that key, its payload gets past the signature to the receipt parser,
//! which must then answer a receipt or say the payload is not one, never blame the signature.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tf_receipts::{Envelope, Receipt, ReceiptError};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(envelope) = Envelope::from_json(text) else {
        return;
    };
    let again = Envelope::from_json(&envelope.to_json());
    assert_eq!(again.as_ref(), Ok(&envelope));
    let mut signer = tf_fuzz::appliance_signer();
    let key = signer.public_key();
    let _ = tf_receipts::verify(&envelope, &key);
    let resigned = signer.sign_payload(&envelope.payload_type, envelope.payload);
    match tf_receipts::verify(&resigned, &key) {
        Ok(receipt) => {
            assert_eq!(receipt.appliance_key_id, signer.key_id().as_str());
            let json = serde_json::to_vec(&receipt).expect("a receipt serialises");
            let parsed: Receipt = serde_json::from_slice(&json).expect("and parses back");
            assert_eq!(parsed, receipt);
        }
        Err(ReceiptError::WrongPayloadType { .. } | ReceiptError::MalformedPayload(_)) => {}
        Err(other) => panic!("a payload signed by the key was refused: {other}"),
    }
});
