//! The compact form of a receipt (schema 4): what its columns hold, how the receipt is rebuilt
//! from them, and how its envelope is kept.
//!
//! The envelope is rebuilt on read rather than stored: its payload is the receipt serialised
//! again, which is byte for byte what was signed because the signer serialised the same struct
//! the same way (`serde_json::to_vec`, in field order). That is checked at every append, not
//! assumed: a receipt whose payload would not come back exactly keeps its payload verbatim, and
//! an envelope that is not one signature, by the receipt's own key, over a receipt keeps its
//! whole JSON.

use std::borrow::Cow;

use rusqlite::ToSql;
use rusqlite::types::{ToSqlOutput, ValueRef};
use tf_receipts::{Envelope, EnvelopeSignature, PAYLOAD_TYPE, Receipt, VerdictLabel};

/// A receipt's fields as its row holds them. Names are text here; which dictionary id stands
/// for each is the store's business.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Columns<'a> {
    pub(crate) seq: u64,
    pub(crate) tenant: &'a str,
    pub(crate) request_id: u64,
    pub(crate) statement_digest: Hex<'a>,
    pub(crate) kind: &'a str,
    pub(crate) verdict: &'a str,
    pub(crate) reason: Option<&'a str>,
    pub(crate) purpose: &'a str,
    pub(crate) dataset_class: &'a str,
    pub(crate) charged: u64,
    pub(crate) budget_remaining: Option<u64>,
    pub(crate) shard: u16,
    pub(crate) received_us: u64,
    pub(crate) decided_us: u64,
    pub(crate) bundle_revision: u64,
    pub(crate) bundle_hash: Hex<'a>,
    pub(crate) key_id: &'a str,
}

/// A hex text as stored: the 32 bytes when it is a SHA-256 in lowercase hex (what the
/// appliance writes), else the text itself, so that any text comes back exactly as it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Hex<'a> {
    /// 64 lowercase hex digits, as bytes.
    Digest([u8; 32]),
    /// Anything else, verbatim.
    Text(&'a str),
}

/// How a receipt's envelope is kept beside its columns.
#[derive(Debug)]
pub(crate) struct Kept<'a> {
    /// The signature; `None` when `envelope` keeps everything.
    pub(crate) signature: Option<&'a [u8]>,
    /// The signed payload verbatim, only when the columns would not rebuild it exactly.
    pub(crate) payload: Option<&'a [u8]>,
    /// The whole envelope JSON, only for an envelope the columns cannot describe.
    pub(crate) envelope: Option<Cow<'a, str>>,
}

/// Buffers reused across appends to check that each payload rebuilds exactly, so the commit
/// path allocates nothing for it once warm.
#[derive(Debug)]
pub(crate) struct Scratch {
    receipt: Receipt,
    payload: Vec<u8>,
}

impl<'a> Columns<'a> {
    /// The columns that store `receipt`.
    pub(crate) fn of(receipt: &'a Receipt) -> Self {
        Columns {
            seq: receipt.ledger_seq,
            tenant: &receipt.tenant,
            request_id: receipt.request_id,
            statement_digest: Hex::of(&receipt.statement_digest),
            kind: &receipt.kind,
            verdict: receipt.verdict.as_str(),
            reason: receipt.reason.as_deref(),
            purpose: &receipt.purpose,
            dataset_class: &receipt.dataset_class,
            charged: receipt.budget_charged,
            budget_remaining: receipt.budget_remaining,
            shard: receipt.shard,
            received_us: receipt.received_at_unix_us,
            decided_us: receipt.decided_at_unix_us,
            bundle_revision: receipt.bundle_revision,
            bundle_hash: Hex::of(&receipt.bundle_hash),
            key_id: &receipt.appliance_key_id,
        }
    }

    /// Rebuilds the receipt these columns hold into `out`, reusing its buffers. False if a
    /// column holds what no receipt of this build has (a verdict it does not know): such a
    /// receipt keeps its payload verbatim.
    pub(crate) fn rebuild_into(&self, out: &mut Receipt) -> bool {
        let verdict = match self.verdict {
            "valid" => VerdictLabel::Valid,
            "invalid" => VerdictLabel::Invalid,
            "rejected" => VerdictLabel::Rejected,
            _ => return false,
        };
        set(&mut out.tenant, self.tenant);
        out.request_id = self.request_id;
        self.statement_digest.write_into(&mut out.statement_digest);
        set(&mut out.kind, self.kind);
        out.verdict = verdict;
        match self.reason {
            Some(reason) => set(out.reason.get_or_insert_with(String::new), reason),
            None => out.reason = None,
        }
        set(&mut out.purpose, self.purpose);
        set(&mut out.dataset_class, self.dataset_class);
        out.budget_charged = self.charged;
        out.budget_remaining = self.budget_remaining;
        out.ledger_seq = self.seq;
        out.shard = self.shard;
        out.received_at_unix_us = self.received_us;
        out.decided_at_unix_us = self.decided_us;
        set(&mut out.appliance_key_id, self.key_id);
        out.bundle_revision = self.bundle_revision;
        self.bundle_hash.write_into(&mut out.bundle_hash);
        true
    }
}

impl<'a> Hex<'a> {
    /// How `text` is stored.
    pub(crate) fn of(text: &'a str) -> Self {
        let mut digest = [0; 32];
        // Uppercase digits decode too but would come back lowercase: they stay text.
        let lowercase = text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if lowercase && hex::decode_to_slice(text, &mut digest).is_ok() {
            Hex::Digest(digest)
        } else {
            Hex::Text(text)
        }
    }

    /// Reads a stored value: a 32-byte BLOB or TEXT, `None` for anything else.
    pub(crate) fn read(value: ValueRef<'a>) -> Option<Self> {
        match value {
            ValueRef::Blob(bytes) => bytes.try_into().ok().map(Hex::Digest),
            ValueRef::Text(text) => std::str::from_utf8(text).ok().map(Hex::Text),
            _ => None,
        }
    }

    /// The text this stands for, written over `out`.
    fn write_into(&self, out: &mut String) {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        out.clear();
        match self {
            Hex::Digest(bytes) => {
                for byte in bytes {
                    out.push(char::from(DIGITS[usize::from(byte >> 4)]));
                    out.push(char::from(DIGITS[usize::from(byte & 0xf)]));
                }
            }
            Hex::Text(text) => out.push_str(text),
        }
    }
}

impl ToSql for Hex<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Hex::Digest(bytes) => ValueRef::Blob(bytes),
            Hex::Text(text) => ValueRef::Text(text.as_bytes()),
        }))
    }
}

impl<'a> Kept<'a> {
    /// Keeps an envelope's JSON as it is, for one the columns cannot rebuild.
    pub(crate) fn verbatim(json: impl Into<Cow<'a, str>>) -> Self {
        Kept {
            signature: None,
            payload: None,
            envelope: Some(json.into()),
        }
    }
}

impl Scratch {
    /// Empty buffers.
    pub(crate) fn new() -> Self {
        Scratch {
            receipt: blank_receipt(),
            payload: Vec::with_capacity(1024),
        }
    }
}

/// Decides how to keep `envelope` beside the columns of the receipt it signs: normally the
/// signature alone; also the payload if the columns would not rebuild it byte for byte; the
/// whole JSON if the envelope is not one signature by the receipt's key over a receipt.
pub(crate) fn keep<'a>(
    columns: &Columns<'_>,
    envelope: &'a Envelope,
    scratch: &mut Scratch,
) -> Kept<'a> {
    match envelope.signatures.as_slice() {
        [signature]
            if envelope.payload_type == PAYLOAD_TYPE && signature.key_id == columns.key_id =>
        {
            let exact = rebuilds_exactly(columns, &envelope.payload, scratch);
            Kept {
                signature: Some(&signature.sig),
                payload: (!exact).then_some(envelope.payload.as_slice()),
                envelope: None,
            }
        }
        _ => Kept::verbatim(envelope.to_json()),
    }
}

/// The envelope JSON as issued, from what a row keeps: its JSON if it kept that, else the
/// envelope rebuilt from the columns, the signature and (if kept) the payload. `Err` says what
/// the row lacks.
pub(crate) fn envelope_json(
    columns: &Columns<'_>,
    signature: Option<&[u8]>,
    payload: Option<&[u8]>,
    envelope: Option<&str>,
) -> Result<String, &'static str> {
    if let Some(json) = envelope {
        return Ok(json.to_owned());
    }
    let signature = signature.ok_or("it keeps neither a signature nor an envelope")?;
    let payload = match payload {
        Some(payload) => payload.to_vec(),
        None => {
            let mut receipt = blank_receipt();
            if !columns.rebuild_into(&mut receipt) {
                return Err("its verdict is not one this build knows, and no payload is kept");
            }
            serde_json::to_vec(&receipt).map_err(|_| "its receipt does not serialise")?
        }
    };
    let envelope = Envelope {
        payload_type: PAYLOAD_TYPE.to_owned(),
        payload,
        signatures: vec![EnvelopeSignature {
            key_id: columns.key_id.to_owned(),
            sig: signature.to_vec(),
        }],
    };
    Ok(envelope.to_json())
}

/// Whether the payload rebuilt from `columns` is byte for byte `signed`.
fn rebuilds_exactly(columns: &Columns<'_>, signed: &[u8], scratch: &mut Scratch) -> bool {
    if !columns.rebuild_into(&mut scratch.receipt) {
        return false;
    }
    scratch.payload.clear();
    // What the signer does (`serde_json::to_vec` of the receipt), into a reused buffer.
    serde_json::to_writer(&mut scratch.payload, &scratch.receipt).is_ok()
        && scratch.payload == signed
}

fn set(field: &mut String, value: &str) {
    field.clear();
    field.push_str(value);
}

/// A receipt for `rebuild_into` to fill.
fn blank_receipt() -> Receipt {
    Receipt {
        tenant: String::new(),
        request_id: 0,
        statement_digest: String::new(),
        kind: String::new(),
        verdict: VerdictLabel::Valid,
        reason: None,
        purpose: String::new(),
        dataset_class: String::new(),
        budget_charged: 0,
        budget_remaining: None,
        ledger_seq: 0,
        shard: 0,
        received_at_unix_us: 0,
        decided_at_unix_us: 0,
        appliance_key_id: String::new(),
        bundle_revision: 0,
        bundle_hash: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_texts_come_back_as_they_were_and_only_lowercase_digests_become_bytes() {
        let digest = "0123456789abcdef".repeat(4);
        let cases = [
            (digest.clone(), true),
            (digest.to_uppercase(), false),
            (String::new(), false),
            ("ab".into(), false),
            (format!("{digest}00"), false),
            ("zz".repeat(32), false),
        ];
        for (text, as_bytes) in cases {
            let stored = Hex::of(&text);
            assert_eq!(matches!(stored, Hex::Digest(_)), as_bytes, "{text:?}");
            let mut back = String::from("left over");
            stored.write_into(&mut back);
            assert_eq!(back, text);
        }
    }
}
