//! The index: an in-toto Statement v1 whose subjects are every other file of the packet with
//! its SHA-256, and whose predicate summarises the snapshot; signed by the appliance key as a
//! DSSE envelope (`index.dsse.json`).

use serde::{Deserialize, Serialize};
use tf_receipts::{Envelope, ReceiptSigner};

use crate::digest::Sha256Digest;
use crate::model::SeqRange;

/// The in-toto Statement type.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// The DSSE payload type of an in-toto statement.
pub const INDEX_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// The predicate type of a compliance snapshot, layout version 2. The host is ours by the same
/// convention as the log's default origin (`trust-fabric.invalid`): a name, not a page.
pub const PREDICATE_TYPE: &str = "https://trust-fabric.invalid/compliance-snapshot/v2";

/// The index's statement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    /// [`STATEMENT_TYPE`].
    #[serde(rename = "_type")]
    pub statement_type: String,
    /// Every file of the packet but the index, sorted by name.
    pub subject: Vec<Subject>,
    /// [`PREDICATE_TYPE`].
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// The snapshot's summary.
    pub predicate: SnapshotSummary,
}

/// One file of the packet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subject {
    /// Its path inside the packet, `/`-separated.
    pub name: String,
    /// Its digest.
    pub digest: SubjectDigest,
}

/// A subject's digests (in-toto `DigestSet`); a packet gives SHA-256 only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubjectDigest {
    /// SHA-256 of the file's bytes.
    pub sha256: Sha256Digest,
}

/// The predicate: what the packet holds, in numbers an auditor checks first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotSummary {
    /// The packet's name.
    pub snapshot: String,
    /// Start of the period, Unix microseconds (inclusive).
    pub from_unix_us: u64,
    /// End of the period, Unix microseconds (exclusive).
    pub to_unix_us: u64,
    /// When the packet was made, Unix microseconds.
    pub made_at_unix_us: u64,
    /// The appliance key that signed the receipts and this index.
    pub appliance_key_id: String,
    /// Receipts of the period in all.
    pub receipts: u64,
    /// Budget units charged in all.
    pub charged: u64,
    /// Each tenant with receipts in the period, sorted by name.
    pub tenants: Vec<TenantSummary>,
    /// The receipts' place in the log.
    pub log: LogSummary,
    /// SHA-256 of the previous snapshot's `index.dsse.json`, when the maker gave it: packets
    /// chain like the log's checkpoints do.
    pub previous_index_sha256: Option<Sha256Digest>,
}

/// One tenant's part of the packet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantSummary {
    /// The tenant's name.
    pub tenant: String,
    /// Its receipts in the period.
    pub receipts: u64,
    /// Budget units charged.
    pub charged: u64,
    /// First and last of its receipts' sequence numbers.
    pub seqs: SeqRange,
}

/// The packet's log evidence in numbers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSummary {
    /// The size of the checkpoint's tree.
    pub tree_size: u64,
    /// First and last sequence numbers of the period's receipts (`None`: none).
    pub receipts: Option<SeqRange>,
    /// The size of the previous snapshot's checkpoint the consistency proof starts from
    /// (`None`: the first snapshot).
    pub previous_tree_size: Option<u64>,
}

impl Statement {
    /// A statement over `subjects` (sorted here, so the same files give the same index).
    pub(crate) fn new(mut subjects: Vec<Subject>, predicate: SnapshotSummary) -> Self {
        subjects.sort_by(|a, b| a.name.cmp(&b.name));
        Statement {
            statement_type: STATEMENT_TYPE.to_owned(),
            subject: subjects,
            predicate_type: PREDICATE_TYPE.to_owned(),
            predicate,
        }
    }

    /// The signed index file's bytes.
    pub(crate) fn sign(&self, signer: &mut ReceiptSigner) -> Vec<u8> {
        let payload = serde_json::to_vec_pretty(self)
            .expect("a statement of strings, numbers and lists always serialises");
        let mut bytes = signer
            .sign_payload(INDEX_PAYLOAD_TYPE, payload)
            .to_json()
            .into_bytes();
        bytes.push(b'\n');
        bytes
    }
}

/// Why an index cannot be trusted: nothing else in the packet can be then.
pub(crate) fn open_index(
    bytes: &[u8],
    key: &ed25519_dalek::VerifyingKey,
) -> Result<Statement, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_owned())?;
    let envelope = Envelope::from_json(text)?;
    if envelope.payload_type != INDEX_PAYLOAD_TYPE {
        return Err(format!(
            "payload type {:?} is not {INDEX_PAYLOAD_TYPE:?}",
            envelope.payload_type
        ));
    }
    tf_receipts::verify_signature(&envelope, key)
        .map_err(|e| format!("{e} (altered, or made by another appliance)"))?;
    let statement: Statement = serde_json::from_slice(&envelope.payload)
        .map_err(|e| format!("the signed statement does not parse: {e}"))?;
    if statement.statement_type != STATEMENT_TYPE {
        return Err(format!(
            "statement type {:?} is not {STATEMENT_TYPE:?}",
            statement.statement_type
        ));
    }
    if statement.predicate_type != PREDICATE_TYPE {
        return Err(format!(
            "predicate type {:?} is not {PREDICATE_TYPE:?}: a packet of another layout; use \
             the verifier of the appliance that made it",
            statement.predicate_type
        ));
    }
    Ok(statement)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary() -> SnapshotSummary {
        SnapshotSummary {
            snapshot: "snapshot-19700101T000001Z".into(),
            from_unix_us: 0,
            to_unix_us: 1_000_000,
            made_at_unix_us: 2_000_000,
            appliance_key_id: "k".into(),
            receipts: 0,
            charged: 0,
            tenants: Vec::new(),
            log: LogSummary {
                tree_size: 1,
                receipts: None,
                previous_tree_size: None,
            },
            previous_index_sha256: None,
        }
    }

    #[test]
    fn an_index_is_an_in_toto_statement_signed_as_dsse_and_opens_with_its_key_only() {
        let mut signer = ReceiptSigner::from_secret(&[1; 32]);
        let subjects = ["b.json", "a.json"]
            .map(|name| Subject {
                name: name.into(),
                digest: SubjectDigest {
                    sha256: Sha256Digest::of(name.as_bytes()),
                },
            })
            .to_vec();
        let statement = Statement::new(subjects, summary());
        assert_eq!(statement.subject[0].name, "a.json");
        let bytes = statement.sign(&mut signer);
        let envelope: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
        assert_eq!(envelope["payloadType"], INDEX_PAYLOAD_TYPE);

        assert_eq!(open_index(&bytes, &signer.public_key()), Ok(statement));
        let other = ReceiptSigner::from_secret(&[2; 32]).public_key();
        let refused = open_index(&bytes, &other).expect_err("another key");
        assert!(refused.contains("another appliance"), "{refused}");
    }

    #[test]
    fn a_statement_of_another_predicate_type_is_refused_by_name() {
        let mut signer = ReceiptSigner::from_secret(&[1; 32]);
        let mut statement = Statement::new(Vec::new(), summary());
        statement.predicate_type = "https://example.com/other/v1".into();
        let bytes = statement.sign(&mut signer);
        let refused = open_index(&bytes, &signer.public_key()).expect_err("other type");
        assert!(refused.contains("another layout"), "{refused}");
    }
}
