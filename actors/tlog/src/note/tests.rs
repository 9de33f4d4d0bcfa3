use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use signed_note::{Note, StandardSigner, StandardVerifier, VerifierList};

use super::*;

/// The example key and note of Go's sumdb/note package, reproduced by the signed_note crate.
const GO_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const GO_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                       then you don't know what your problem is.\n";
const GO_NOTE: &str = "If you think cryptography is the answer to your problem,\n\
                       then you don't know what your problem is.\n\
                       \n\
                       \u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

fn go_signer() -> NoteSigner {
    // PRIVATE+KEY+<name>+<id>+<key>, where the base64 key may hold '+' itself.
    let key = GO_SKEY.splitn(5, '+').nth(4).expect("skey has five parts");
    let key = STANDARD.decode(key).expect("base64 key");
    assert_eq!(key[0], ED25519);
    let secret: [u8; 32] = key[1..].try_into().expect("32-byte secret");
    NoteSigner::new("PeterNeumann", &secret).expect("valid name")
}

fn signer(name: &str, seed: u8) -> NoteSigner {
    NoteSigner::new(name, &[seed; 32]).expect("valid name")
}

fn their_verifiers(vkeys: &[&str]) -> VerifierList {
    VerifierList::new(
        vkeys
            .iter()
            .map(|vkey| {
                Box::new(StandardVerifier::new(vkey).expect("signed_note reads the vkey"))
                    as Box<dyn signed_note::Verifier>
            })
            .collect(),
    )
}

#[test]
fn go_known_answer() {
    let signer = go_signer();
    assert_eq!(signer.key_id(), KeyId(0xc74f20a3));
    assert_eq!(signer.vkey(), GO_VKEY);
    assert_eq!(signer.sign(GO_TEXT), GO_NOTE);
    assert_eq!(signer.try_sign(GO_TEXT), Ok(GO_NOTE.to_owned()));
    let verifier = NoteVerifier::from_vkey(GO_VKEY).expect("valid vkey");
    assert_eq!(verifier.verify(GO_NOTE), Ok(GO_TEXT));
    assert_eq!(verifier.key_id().to_string(), "c74f20a3");
}

#[test]
fn our_notes_verify_with_signed_note() {
    let ours = signer("example.com/log", 7);
    let mut key = vec![ED25519];
    key.extend_from_slice(ours.public_key().as_bytes());
    assert_eq!(ours.key_id().0, signed_note::key_id(ours.name(), &key));
    assert_eq!(
        ours.vkey(),
        signed_note::new_ed25519_verifier_key(ours.name(), &ours.public_key())
    );
    for text in [
        "hello\n",
        "two\nlines\n",
        "with\n\nblank line\n",
        "\n",
        "ünïcode — ok\n",
    ] {
        let note = ours.sign(text);
        let parsed = Note::from_bytes(note.as_bytes()).expect("signed_note parses our note");
        let (verified, unverified) = parsed
            .verify(&their_verifiers(&[&ours.vkey()]))
            .expect("signed_note verifies our note");
        assert_eq!((verified.len(), unverified.len()), (1, 0));
        assert_eq!(parsed.text(), text.as_bytes());
        assert_eq!(parsed.to_bytes(), note.as_bytes());
    }
}

#[test]
fn signed_note_notes_verify_with_ours() {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let (skey, vkey) = signed_note::generate_key(&mut rng, "example.com/log");
    let (other_skey, _) = signed_note::generate_key(&mut rng, "witness.example/w1");
    // Same name, another key: its signature line must be ignored, not fail the note.
    let (same_name_skey, _) = signed_note::generate_key(&mut rng, "example.com/log");
    let text = "example.com/log\n42\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
    let signers: Vec<StandardSigner> = [&other_skey, &skey, &same_name_skey]
        .iter()
        .map(|k| StandardSigner::new(k).expect("signed_note key"))
        .collect();
    let mut note = Note::new(text.as_bytes(), &[]).expect("valid text");
    let refs: Vec<&dyn signed_note::Signer> = signers
        .iter()
        .map(|s| s as &dyn signed_note::Signer)
        .collect();
    note.add_sigs(&refs).expect("signing works");
    let note = String::from_utf8(note.to_bytes()).expect("UTF-8 note");
    assert_eq!(note.matches('\u{2014}').count(), 3);
    let verifier = NoteVerifier::from_vkey(&vkey).expect("signed_note vkey");
    assert_eq!(verifier.verify(&note), Ok(text));
}

#[test]
fn tampered_notes_and_wrong_keys_fail() {
    let ours = signer("example.com/log", 7);
    let verifier = NoteVerifier::from_vkey(&ours.vkey()).expect("valid vkey");
    let note = ours.sign("example.com/log\n10\n");
    assert!(verifier.verify(&note).is_ok());

    let changed = note.replacen("10", "11", 1);
    assert_eq!(verifier.verify(&changed), Err(NoteError::BadSignature));
    // Past the key id (the first 4 bytes, 6 base64 characters) into the signature.
    let signature_at = note.rfind(' ').expect("signature line") + 20;
    let mut flipped = note.clone().into_bytes();
    flipped[signature_at] = if flipped[signature_at] == b'A' {
        b'B'
    } else {
        b'A'
    };
    let flipped = String::from_utf8(flipped).expect("ASCII change");
    assert_eq!(verifier.verify(&flipped), Err(NoteError::BadSignature));

    // Another key under the same name, and the same key under another name: not this key.
    let same_name = NoteVerifier::from_vkey(&signer("example.com/log", 8).vkey()).expect("vkey");
    assert_eq!(same_name.verify(&note), Err(NoteError::NotSigned));
    let other_name = NoteVerifier::new("example.com/other", ours.public_key()).expect("name");
    assert_eq!(other_name.verify(&note), Err(NoteError::NotSigned));

    // A second line by this key that does not verify fails the note.
    let (text, signature) = note.split_at(note.rfind("\n\n").expect("split") + 2);
    // Characters 10..19 of the base64 blob (which starts at byte 20 of the line).
    let forged_line = format!("{}AAAAAAAAA{}", &signature[..30], &signature[39..]);
    let doubled = format!("{text}{signature}{forged_line}");
    assert_eq!(verifier.verify(&doubled), Err(NoteError::BadSignature));
}

#[test]
fn malformed_notes_are_refused() {
    let ours = signer("example.com/log", 7);
    let verifier = NoteVerifier::from_vkey(&ours.vkey()).expect("valid vkey");
    let note = ours.sign("text\n");
    let line = note.strip_prefix("text\n\n").expect("one line of text");
    let blob = line.rsplit(' ').next().expect("line has a blob").trim_end();
    let cases: Vec<(String, NoteError)> = vec![
        ("text\n".into(), NoteError::MalformedNote),
        (note.trim_end().into(), NoteError::MalformedNote),
        (note.replace("text", "te\rxt"), NoteError::MalformedNote),
        (note.replace("text", "te\txt"), NoteError::MalformedNote),
        ("text\n\n".into(), NoteError::MalformedNote),
        // A blank line after the signatures makes them text, and leaves no signature block.
        (format!("text\n\n{line}\n"), NoteError::MalformedNote),
        (
            format!("text\n\n- example.com/log {blob}\n"),
            NoteError::MalformedSignature { line: 0 },
        ),
        (
            format!("text\n\n\u{2014} example.com/log  {blob}\n"),
            NoteError::MalformedSignature { line: 0 },
        ),
        (
            format!("text\n\n\u{2014} a+b {blob}\n"),
            NoteError::MalformedSignature { line: 0 },
        ),
        (
            format!("text\n\n\u{2014} example.com/log {}\n", &blob[1..]),
            NoteError::MalformedSignature { line: 0 },
        ),
        (
            "text\n\n\u{2014} example.com/log AAAAAA==\n".into(),
            NoteError::MalformedSignature { line: 0 },
        ),
        (
            format!("text\n\n{line}\u{2014} example.com/log\n"),
            NoteError::MalformedSignature { line: 1 },
        ),
        (
            format!("{}\n\n{line}", "x".repeat(MAX_NOTE_SIZE)),
            NoteError::MalformedNote,
        ),
        (
            format!("text\n\n{}", line.repeat(MAX_SIGNATURES + 1)),
            NoteError::MalformedNote,
        ),
    ];
    for (note, error) in cases {
        assert_eq!(verifier.verify(&note), Err(error), "{note:?}");
    }
    // An unknown key's line with a short (but well-formed) signature is ignored.
    let extra = format!("{note}\u{2014} other AAAAAAA=\n");
    assert_eq!(verifier.verify(&extra), Ok("text\n"));
}

#[test]
fn names_texts_and_vkeys_are_validated() {
    for name in ["", "a b", "a+b", "a\tb", "a\u{00a0}b"] {
        assert_eq!(
            NoteSigner::new(name, &[1; 32]).map(|_| ()),
            Err(NoteError::KeyName)
        );
    }
    let ours = signer("example.com/log", 7);
    for text in ["", "no newline", "tab\there\n", "cr\r\n"] {
        assert_eq!(
            ours.try_sign(text),
            Err(NoteError::MalformedText),
            "{text:?}"
        );
    }
    let vkey = ours.vkey();
    // The base64 key may hold '+' itself: split at the first two only.
    let mut parts = vkey.splitn(3, '+');
    let (_, id, key) = (
        parts.next(),
        parts.next().expect("id"),
        parts.next().expect("key"),
    );
    let name_id = format!("example.com/log+{id}");
    let mut other_type = STANDARD.decode(key).expect("base64");
    other_type[0] = 0x02;
    let mut short = STANDARD.decode(key).expect("base64");
    short.pop();
    let wrong_id = if id == "00000000" {
        "00000001"
    } else {
        "00000000"
    };
    let cases: Vec<(String, NoteError)> = vec![
        (String::new(), NoteError::MalformedKey),
        ("example.com/log".into(), NoteError::MalformedKey),
        (name_id.clone(), NoteError::MalformedKey),
        (format!("+{id}+{key}"), NoteError::KeyName),
        (format!("a b+{id}+{key}"), NoteError::KeyName),
        (
            format!("example.com/log+{}+{key}", &id[1..]),
            NoteError::MalformedKey,
        ),
        (
            format!("example.com/log+0{id}+{key}"),
            NoteError::MalformedKey,
        ),
        (
            format!("example.com/log+{}g+{key}", &id[1..]),
            NoteError::MalformedKey,
        ),
        (
            format!("example.com/log+{wrong_id}+{key}"),
            NoteError::KeyIdMismatch,
        ),
        (
            format!("example.com/other+{id}+{key}"),
            NoteError::KeyIdMismatch,
        ),
        (format!("{name_id}+{key}x"), NoteError::MalformedKey),
        (format!("{name_id}+"), NoteError::MalformedKey),
        (
            format!("{name_id}+{}", STANDARD.encode(&other_type)),
            NoteError::UnsupportedKeyType(2),
        ),
        (
            format!("{name_id}+{}", STANDARD.encode(&short)),
            NoteError::MalformedKey,
        ),
    ];
    for (vkey, error) in cases {
        assert_eq!(
            NoteVerifier::from_vkey(&vkey).map(|v| v.key_id()),
            Err(error),
            "{vkey:?}"
        );
    }
    assert!(format!("{ours:?}").contains("example.com/log"));
}
