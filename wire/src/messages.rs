//! The protocol's messages. Plain structs, enums, arrays and vectors only, so every archive
//! validates without shared pointers and nests at most a few levels deep.

use rkyv::{Archive, Deserialize, Serialize};

/// One protocol message; the body of every frame.
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[rkyv(derive(Debug))]
#[non_exhaustive]
pub enum Message {
    /// Partner to appliance: verify this statement.
    Submit(Submit),
    /// Appliance to partner: the verdict and its signed receipt.
    Verdict(VerdictReply),
    /// Appliance to partner: the request was not verified, and why.
    Error(ErrorReply),
    /// Partner to appliance: register a Groth16 verifying key for this tenant.
    RegisterKey(RegisterKey),
    /// Appliance to partner: the key is registered under this id.
    KeyRegistered(KeyRegistered),
    /// Partner to appliance: where do my budgets stand?
    BudgetQuery(BudgetQuery),
    /// Appliance to partner: the tenant's caps.
    BudgetStatus(BudgetStatus),
    /// Partner to appliance: prove that log entry `index` is in the transparency log.
    LogProofQuery(LogProofQuery),
    /// Appliance to partner: the latest signed checkpoint and the inclusion proof under it.
    LogProof(LogProof),
    /// Partner to appliance: whom does this connection speak for, and which keys check what
    /// the appliance signs?
    AboutQuery(AboutQuery),
    /// Appliance to partner: the tenant, the receipt key and the log key.
    About(About),
    /// Partner to appliance, on the onboarding protocol ([`ONBOARDING_ALPN`]) only: redeem an
    /// invite and certify this key.
    Onboard(Onboard),
    /// Appliance to partner: the tenant is in force; its certificate and what it needs next.
    Onboarded(Onboarded),
    /// Partner to appliance: change my rate, key quota or budget caps.
    TermsRequest(TermsRequest),
    /// Appliance to partner: the terms are in force, or wait for an operator's approval.
    TermsReply(TermsReply),
    /// Partner to appliance: where does my onboarding stand?
    ChecklistQuery(ChecklistQuery),
    /// Appliance to partner: the onboarding steps, signed by the appliance once all are done.
    Checklist(Checklist),
    /// Partner to appliance: my evidence bundle over these sandbox submissions, as an auditor
    /// would get it.
    EvidencePreviewQuery(EvidencePreviewQuery),
    /// Appliance to partner: the preview bundle's files.
    EvidencePreview(EvidencePreview),
}

impl Message {
    /// Every message type's name, in tag order (the archived tag is the index), written once
    /// for documentation checks. [`Message::name`] matches every variant to its entry, so a
    /// variant added without a name here fails to compile (the index would be out of bounds).
    pub const NAMES: [&'static str; 19] = [
        "Submit",
        "Verdict",
        "Error",
        "RegisterKey",
        "KeyRegistered",
        "BudgetQuery",
        "BudgetStatus",
        "LogProofQuery",
        "LogProof",
        "AboutQuery",
        "About",
        "Onboard",
        "Onboarded",
        "TermsRequest",
        "TermsReply",
        "ChecklistQuery",
        "Checklist",
        "EvidencePreviewQuery",
        "EvidencePreview",
    ];

    /// This message's type name, one of [`Message::NAMES`].
    pub fn name(&self) -> &'static str {
        match self {
            Message::Submit(_) => Self::NAMES[0],
            Message::Verdict(_) => Self::NAMES[1],
            Message::Error(_) => Self::NAMES[2],
            Message::RegisterKey(_) => Self::NAMES[3],
            Message::KeyRegistered(_) => Self::NAMES[4],
            Message::BudgetQuery(_) => Self::NAMES[5],
            Message::BudgetStatus(_) => Self::NAMES[6],
            Message::LogProofQuery(_) => Self::NAMES[7],
            Message::LogProof(_) => Self::NAMES[8],
            Message::AboutQuery(_) => Self::NAMES[9],
            Message::About(_) => Self::NAMES[10],
            Message::Onboard(_) => Self::NAMES[11],
            Message::Onboarded(_) => Self::NAMES[12],
            Message::TermsRequest(_) => Self::NAMES[13],
            Message::TermsReply(_) => Self::NAMES[14],
            Message::ChecklistQuery(_) => Self::NAMES[15],
            Message::Checklist(_) => Self::NAMES[16],
            Message::EvidencePreviewQuery(_) => Self::NAMES[17],
            Message::EvidencePreview(_) => Self::NAMES[18],
        }
    }
}

/// A Groth16 verifying key to register. Once registered, the tenant may submit proofs under its
/// key id (the SHA-256 of the canonical bytes, so the partner can compute it too).
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub struct RegisterKey {
    /// Chosen by the partner; echoed in the reply.
    pub request_id: u64,
    /// The key's curve.
    pub curve: Curve,
    /// arkworks canonical compressed verifying key.
    pub key: Vec<u8>,
}

/// The answer to a key registration.
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub struct KeyRegistered {
    /// The registration's request id.
    pub request_id: u64,
    /// The key id to submit proofs under.
    pub key_id: [u8; 32],
}

/// A request to verify one statement. The tenant is never a field: it is the identity of the
/// client certificate the connection was authenticated with.
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub struct Submit {
    /// Chosen by the partner, unique per tenant; echoed in the reply.
    pub request_id: u64,
    /// Why the data is processed (budgets are kept per purpose).
    pub purpose: String,
    /// The sensitivity class of the data behind the statement.
    pub dataset_class: DatasetClass,
    /// What to verify.
    pub statement: Statement,
}

/// Dataset sensitivity classes; P0 is the most sensitive.
#[derive(Archive, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[rkyv(derive(Debug, PartialEq, Eq))]
#[non_exhaustive]
pub enum DatasetClass {
    /// Most sensitive.
    P0,
    /// Sensitive.
    P1,
    /// Least sensitive.
    P2,
}

impl DatasetClass {
    /// The class as configuration, receipts and the ledger spell it: `P0`, `P1`, `P2`.
    pub fn name(self) -> &'static str {
        match self {
            DatasetClass::P0 => "P0",
            DatasetClass::P1 => "P1",
            DatasetClass::P2 => "P2",
        }
    }

    /// The class named `P0`, `P1` or `P2`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "P0" => Some(DatasetClass::P0),
            "P1" => Some(DatasetClass::P1),
            "P2" => Some(DatasetClass::P2),
            _ => None,
        }
    }
}

/// A statement to verify.
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[rkyv(derive(Debug))]
#[non_exhaustive]
pub enum Statement {
    /// One BLS signature by one key over one message.
    BlsSingle {
        /// Compressed G1 public key.
        public_key: [u8; 48],
        /// The signed message.
        message: Vec<u8>,
        /// Compressed G2 signature.
        signature: [u8; 96],
    },
    /// An aggregate BLS signature, one message per key.
    BlsAggregate {
        /// Compressed G1 public keys.
        public_keys: Vec<[u8; 48]>,
        /// One message per key.
        messages: Vec<Vec<u8>>,
        /// Compressed G2 aggregate signature.
        signature: [u8; 96],
    },
    /// An aggregate BLS signature by many keys over one message.
    BlsFastAggregate {
        /// Compressed G1 public keys.
        public_keys: Vec<[u8; 48]>,
        /// The message all keys signed.
        message: Vec<u8>,
        /// Compressed G2 aggregate signature.
        signature: [u8; 96],
    },
    /// A Groth16 proof under a registered verifying key.
    Groth16 {
        /// The key's curve.
        curve: Curve,
        /// The key's id: SHA-256 of its arkworks canonical compressed bytes.
        key_id: [u8; 32],
        /// arkworks canonical compressed proof (A, B, C).
        proof: Vec<u8>,
        /// Public inputs, 32 bytes little-endian each.
        public_inputs: Vec<[u8; 32]>,
    },
}

/// A Groth16 curve.
#[derive(Archive, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[rkyv(derive(Debug, PartialEq, Eq))]
#[non_exhaustive]
pub enum Curve {
    /// BN254 (snarkjs: bn128).
    Bn254,
    /// BLS12-381.
    Bls12_381,
}

/// The answer to a submit that was verified.
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub struct VerdictReply {
    /// The submit's request id.
    pub request_id: u64,
    /// The verdict.
    pub verdict: VerdictCode,
    /// Why, in words, for `Invalid` and `Rejected`; empty for `Valid`.
    pub reason: String,
    /// What was verified: key id and public inputs (or keys and messages) digested.
    pub statement_digest: [u8; 32],
    /// The signed receipt.
    pub receipt: ReceiptEnvelope,
}

/// A verdict.
#[derive(Archive, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[rkyv(derive(Debug, PartialEq, Eq))]
#[non_exhaustive]
pub enum VerdictCode {
    /// Verifies.
    Valid,
    /// Well formed, does not verify.
    Invalid,
    /// Malformed (a point off the curve, a wrong input count, ...).
    Rejected,
}

/// A DSSE envelope: the receipt payload and signatures over its pre-authentication encoding.
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub struct ReceiptEnvelope {
    /// Names the receipt schema.
    pub payload_type: String,
    /// The exact payload bytes that were signed.
    pub payload: Vec<u8>,
    /// Signatures (one per appliance key).
    pub signatures: Vec<ReceiptSignature>,
}

/// One DSSE signature.
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub struct ReceiptSignature {
    /// Which key signed.
    pub key_id: String,
    /// Ed25519 signature.
    pub signature: Vec<u8>,
}

/// The answer to a submit that was not verified.
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub struct ErrorReply {
    /// The submit's request id (0 when the frame could not be read far enough to know it).
    pub request_id: u64,
    /// What went wrong.
    pub code: ErrorCode,
}

/// Why a request was not verified, with the numbers a partner needs to act.
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[rkyv(derive(Debug))]
#[non_exhaustive]
pub enum ErrorCode {
    /// The appliance or the tenant's queue is full: retry after this long.
    Busy {
        /// Milliseconds to wait before retrying.
        retry_after_ms: u32,
    },
    /// The request would overspend a privacy budget; it was not verified and not charged.
    OverBudget(OverBudget),
    /// Policy does not allow this tenant, purpose, class or key.
    Denied {
        /// The rule or reason, in words.
        reason: String,
    },
    /// The Groth16 key id is not registered for this tenant.
    UnknownKey {
        /// The key id sent.
        key_id: [u8; 32],
    },
    /// The frame or message is malformed; the text says which field.
    Malformed {
        /// What is wrong.
        detail: String,
    },
    /// The frame's protocol version is not spoken here.
    UnsupportedVersion {
        /// The version the appliance speaks.
        supported: u16,
    },
    /// The appliance failed; the request may be retried.
    Internal,
    /// The appliance is shutting down and takes no new requests; retry on another appliance or
    /// after it restarts.
    ShuttingDown,
    /// The verifying key could not be registered.
    KeyRefused {
        /// Why, naming the field (a point off the curve, too many inputs, the registry full).
        detail: String,
    },
    /// The active policy bundle's Cedar policies do not allow this tenant to submit this
    /// statement for this purpose and dataset class. Not verified, not charged.
    DeniedByPolicy(PolicyDenial),
    /// The log entry asked for is beyond the latest signed checkpoint: its receipt is stored
    /// but not yet covered by a checkpoint (one is signed about every second), or it does not
    /// exist yet.
    NotInLogYet {
        /// The entry asked for.
        index: u64,
        /// Entries the latest checkpoint covers (`0..tree_size`); 0 before the first.
        tree_size: u64,
        /// Milliseconds to wait before asking again: the log's checkpoint interval, within
        /// which the next checkpoint is due.
        retry_after_ms: u32,
    },
    /// The appliance cannot prove log inclusion: it keeps no transparency log, or cannot read
    /// it right now. Nothing about the receipt is implied.
    LogUnavailable {
        /// Which of the two, in words.
        detail: String,
    },
    /// The appliance cannot store receipts right now (its disk is full, or the ledger cannot
    /// be written): the request was not verified, or its verdict was not stored, and nothing
    /// was charged. The appliance resumes by itself once the ledger can commit again.
    Unavailable {
        /// Milliseconds to wait before retrying: how often the appliance tries its ledger.
        retry_after_ms: u32,
        /// The storage fault, by name (`disk-full`, `io-error`, `read-only`, `cannot-open`, `locked`).
        detail: String,
    },
    /// An [`Onboard`] request was refused; nothing was created and the invite is as it was.
    OnboardingRefused {
        /// Why, by name: `unknown`, `used`, `revoked`, `expired`, `wrong-tenant`,
        /// `tenant-exists`, `bad-request`, `no-bundle` or `refused`.
        reason: String,
        /// What happened and what to do, in words.
        detail: String,
    },
}

impl ErrorCode {
    /// Every error code's name, in tag order (the archived tag is the index), written once for
    /// documentation checks. [`ErrorCode::name`] matches every variant to its entry, so a
    /// variant added without a name here fails to compile (the index would be out of bounds).
    pub const NAMES: [&'static str; 14] = [
        "Busy",
        "OverBudget",
        "Denied",
        "UnknownKey",
        "Malformed",
        "UnsupportedVersion",
        "Internal",
        "ShuttingDown",
        "KeyRefused",
        "DeniedByPolicy",
        "NotInLogYet",
        "LogUnavailable",
        "Unavailable",
        "OnboardingRefused",
    ];

    /// This code's name, one of [`ErrorCode::NAMES`].
    pub fn name(&self) -> &'static str {
        match self {
            ErrorCode::Busy { .. } => Self::NAMES[0],
            ErrorCode::OverBudget(_) => Self::NAMES[1],
            ErrorCode::Denied { .. } => Self::NAMES[2],
            ErrorCode::UnknownKey { .. } => Self::NAMES[3],
            ErrorCode::Malformed { .. } => Self::NAMES[4],
            ErrorCode::UnsupportedVersion { .. } => Self::NAMES[5],
            ErrorCode::Internal => Self::NAMES[6],
            ErrorCode::ShuttingDown => Self::NAMES[7],
            ErrorCode::KeyRefused { .. } => Self::NAMES[8],
            ErrorCode::DeniedByPolicy(_) => Self::NAMES[9],
            ErrorCode::NotInLogYet { .. } => Self::NAMES[10],
            ErrorCode::LogUnavailable { .. } => Self::NAMES[11],
            ErrorCode::Unavailable { .. } => Self::NAMES[12],
            ErrorCode::OnboardingRefused { .. } => Self::NAMES[13],
        }
    }
}

/// A request the policy bundle in force denied, naming that bundle and the deciding rules.
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub struct PolicyDenial {
    /// The bundle revision that decided.
    pub revision: u64,
    /// Its hash (SHA-256 of the signed manifest).
    pub bundle_hash: [u8; 32],
    /// The `forbid` policies that matched (by `@id`); empty when no `permit` matched.
    pub policies: Vec<String>,
    /// What was asked, in words (tenant, purpose, class, kind).
    pub request: String,
}

/// A cap that a request would overspend, with everything the partner needs to act.
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub struct OverBudget {
    /// The cap that was hit (the one that frees up last, when several were).
    pub cap: CapState,
    /// What the request would cost.
    pub requested: u64,
    /// How to ask for more budget, in words.
    pub contact: String,
    /// Whether the cap itself ran out, or only this appliance's share of it.
    pub reason: OverBudgetReason,
}

/// Why a request was refused over budget: what ran out, and so what the partner should do.
#[derive(Archive, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[rkyv(derive(Debug))]
#[non_exhaustive]
pub enum OverBudgetReason {
    /// The cap itself is spent for its window: wait until `resets_at_unix_ms`, or ask for
    /// more as `contact` says. Another appliance of the fleet would answer the same.
    Cap,
    /// This appliance's share of the cap, leased from its fleet, is spent, or the fleet's
    /// database cannot be reached to lease more: the cap itself may still have room. Retry
    /// after a short wait (the appliance leases more as it needs), or on another appliance
    /// of the fleet.
    FleetShare,
}

impl OverBudgetReason {
    /// The reason's name as the partner CLI's `--json` and the SDKs spell it: `cap` or
    /// `fleet-share`.
    pub fn name(self) -> &'static str {
        match self {
            OverBudgetReason::Cap => "cap",
            OverBudgetReason::FleetShare => "fleet-share",
        }
    }
}

/// One budget cap of the asking tenant and where it stands.
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub struct CapState {
    /// The tenant (from its certificate).
    pub tenant: String,
    /// The purpose the cap limits; empty for a cap across all purposes of the class.
    pub purpose: String,
    /// The dataset class it limits.
    pub dataset_class: DatasetClass,
    /// Its window: `hour`, `day`, `week`, `month` (UTC) or `rolling Ns`.
    pub window: String,
    /// Units allowed per window.
    pub limit: u64,
    /// Charged in the current window (in a fleet, by this appliance).
    pub used: u64,
    /// Held by requests still being verified.
    pub reserved: u64,
    /// Left to spend on this appliance: of `granted`, what neither charges nor requests in
    /// verification hold.
    pub remaining: u64,
    /// When the window resets, or for a rolling window when enough frees up, Unix
    /// milliseconds; 0 when never (a request larger than the whole cap, or nothing charged).
    pub resets_at_unix_ms: u64,
    /// What this appliance may spend of the cap in the current window: `limit`, or in a
    /// fleet the share of it this appliance has leased (0 until it has leased one).
    pub granted: u64,
}

/// Partner to appliance: where do my budgets stand?
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub struct BudgetQuery {
    /// Chosen by the partner; echoed in the reply.
    pub request_id: u64,
}

/// Appliance to partner: every cap of the asking tenant.
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub struct BudgetStatus {
    /// The query's request id.
    pub request_id: u64,
    /// The caps; empty when the tenant has none (no budget limits).
    pub caps: Vec<CapState>,
}

/// Partner to appliance: prove that log entry `index` is in the transparency log. Any index
/// may be asked for: the log holds only hashes of receipts, and its size is public in every
/// checkpoint.
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub struct LogProofQuery {
    /// Chosen by the partner; echoed in the reply.
    pub request_id: u64,
    /// The entry: a receipt's `ledger_seq` (entry 0 is the log's genesis entry).
    pub index: u64,
}

/// Partner to appliance: whom the connection speaks for and the appliance's public keys, so a
/// partner that connected with its certificate and the CA alone can check receipts and log
/// proofs (the TLS handshake vouches for the answer).
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub struct AboutQuery {
    /// Chosen by the partner; echoed in the reply.
    pub request_id: u64,
}

/// Appliance to partner: the answer to [`AboutQuery`].
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub struct About {
    /// The query's request id.
    pub request_id: u64,
    /// The tenant the connection is authenticated as (its client certificate's).
    pub tenant: String,
    /// The Ed25519 public key receipts are signed with.
    pub receipt_public_key: [u8; 32],
    /// The transparency log's verifier key (C2SP signed-note `vkey`); empty when the appliance
    /// keeps no log.
    pub log_key: String,
}

/// Partner to appliance, on [`ONBOARDING_ALPN`]: an invite and a certificate signing request.
/// The partner made its key pair itself; only the request (its public key, signed by it)
/// travels.
#[derive(Archive, Serialize, Deserialize, Clone, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub struct Onboard {
    /// Chosen by the partner; echoed in the reply.
    pub request_id: u64,
    /// The invite's number.
    pub invite_id: u64,
    /// The invite's secret.
    pub secret: [u8; 16],
    /// The tenant asked for: the invite's, or a name under its prefix.
    pub tenant: String,
    /// A PKCS#10 certificate signing request, DER. Only its public key and signature are used:
    /// the appliance names the certificate itself.
    pub csr: Vec<u8>,
}

/// The secret stays out of logs and panics.
impl std::fmt::Debug for Onboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Onboard")
            .field("request_id", &self.request_id)
            .field("invite_id", &self.invite_id)
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

/// Appliance to partner: the answer to [`Onboard`].
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub struct Onboarded {
    /// The query's request id.
    pub request_id: u64,
    /// The tenant now in force.
    pub tenant: String,
    /// Its client certificate, DER, signed by the appliance's CA.
    pub certificate: Vec<u8>,
    /// The appliance's CA certificate, DER: the root partners trust the appliance by.
    pub ca_certificate: Vec<u8>,
    /// The Ed25519 public key receipts are signed with.
    pub receipt_public_key: [u8; 32],
    /// The transparency log's verifier key (C2SP signed-note `vkey`); empty without a log.
    pub log_key: String,
    /// The policy bundle revision that put the tenant in force.
    pub revision: u64,
}

/// Partner to appliance: the terms it asks for, in full (what is not asked for again is
/// dropped: a cap left out is removed). Within its invite's template they apply at once, as a
/// new bundle revision; above it they wait for an operator's approval. Purposes and classes
/// stay as onboarding set them.
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub struct TermsRequest {
    /// Chosen by the partner; echoed in the reply.
    pub request_id: u64,
    /// Admission rate, requests per second.
    pub rate_per_sec: u32,
    /// Admission burst.
    pub burst: u32,
    /// Verifying keys it may register.
    pub max_registered_keys: u32,
    /// Budget caps (at most 16).
    pub caps: Vec<TermsCap>,
}

/// One budget cap asked for.
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub struct TermsCap {
    /// The dataset class it limits.
    pub dataset_class: DatasetClass,
    /// Its window: `hour`, `day`, `week`, `month` (UTC) or `rolling Ns`.
    pub window: String,
    /// Units allowed per window.
    pub limit: u64,
}

/// Appliance to partner: the answer to [`TermsRequest`].
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub struct TermsReply {
    /// The query's request id.
    pub request_id: u64,
    /// The terms request's number on the appliance (operators approve it by this number).
    pub terms_request: u64,
    /// The bundle revision that put the terms in force; 0 while they wait for approval.
    pub revision: u64,
    /// What happened, in words: what was above the template, when waiting.
    pub detail: String,
}

/// Partner to appliance: the onboarding checklist of the connection's tenant. The partner
/// names the receipts that show its sandbox submission and its first verdict (it holds them;
/// 0 for none yet), and the appliance checks them in its ledger.
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub struct ChecklistQuery {
    /// Chosen by the partner; echoed in the reply.
    pub request_id: u64,
    /// The ledger sequence number of a valid receipt of a sandbox submission; 0 for none.
    pub sandbox_receipt: u64,
    /// The ledger sequence number of a valid receipt for another purpose; 0 for none.
    pub first_receipt: u64,
}

/// One onboarding step and where it stands.
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub struct ChecklistStep {
    /// `onboarded`, `keys`, `terms`, `sandbox` or `first-verdict`.
    pub name: String,
    /// Whether it is done.
    pub done: bool,
    /// What shows it is done, or what to do.
    pub detail: String,
}

/// Appliance to partner: the answer to [`ChecklistQuery`].
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub struct Checklist {
    /// The query's request id.
    pub request_id: u64,
    /// Every step, in order.
    pub steps: Vec<ChecklistStep>,
    /// Once every step is done: the checklist as a DSSE envelope (JSON text) signed with the
    /// receipt key; empty before.
    pub envelope: String,
}

/// Partner to appliance: a preview of the connection's tenant's evidence bundle, over the
/// receipts of sandbox submissions it names (it holds them): the bundle an auditor would get,
/// signed by the appliance, with the log's inclusion proofs and the budget statements.
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub struct EvidencePreviewQuery {
    /// Chosen by the partner; echoed in the reply.
    pub request_id: u64,
    /// Ledger sequence numbers of this tenant's sandbox receipts (at most
    /// `MAX_PREVIEW_RECEIPTS`).
    pub receipts: Vec<u64>,
}

/// One file of an evidence bundle.
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub struct EvidenceFile {
    /// Its `/`-separated path inside the bundle.
    pub path: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// Appliance to partner: the answer to [`EvidencePreviewQuery`]: every file of the bundle,
/// its signed manifest among them. Nothing here is trusted by the partner before it checks the
/// bundle against the appliance's key, as an auditor does.
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub struct EvidencePreview {
    /// The query's request id.
    pub request_id: u64,
    /// The bundle's files.
    pub files: Vec<EvidenceFile>,
}

/// Appliance to partner: the latest signed checkpoint and the RFC 9162 inclusion proof of the
/// entry in the tree it signs. Nothing here is checked by the appliance for the partner: the
/// partner verifies the checkpoint's signature with the log's key and the proof against the
/// checkpoint's root.
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[rkyv(derive(Debug))]
pub struct LogProof {
    /// The query's request id.
    pub request_id: u64,
    /// The checkpoint as a C2SP signed note, exactly as the log stored it.
    pub checkpoint: String,
    /// The entry proven.
    pub index: u64,
    /// The size of the tree the proof is for (the checkpoint's).
    pub tree_size: u64,
    /// The inclusion path, leaf side first (at most 64 hashes: the depth of a 2^64 tree).
    pub hashes: Vec<[u8; 32]>,
}

/// QUIC application close codes the appliance uses, so a partner can tell why a connection
/// ended without parsing text.
pub mod close_code {
    /// The peer is done (normal close).
    pub const DONE: u32 = 0;
    /// The appliance is shutting down; in-flight requests were answered first.
    pub const SHUTTING_DOWN: u32 = 0x100;
    /// The client certificate names no tenant (`urn:trust-fabric:tenant:<id>` URI SAN).
    pub const NO_TENANT_IDENTITY: u32 = 0x101;
    /// The client certificate names a tenant this appliance does not serve.
    pub const UNKNOWN_TENANT: u32 = 0x102;
    /// The peer broke the protocol (for example, opened a unidirectional stream).
    pub const PROTOCOL_VIOLATION: u32 = 0x103;
    /// The tenant holds as many connections on this shard as it may.
    pub const TOO_MANY_CONNECTIONS: u32 = 0x104;
    /// The handshake did not identify a tenant in time.
    pub const HANDSHAKE_TIMEOUT: u32 = 0x105;
    /// The policy bundle in force no longer lists the tenant (closed at the switch, and
    /// refused at the handshake from then on).
    pub const TENANT_REMOVED: u32 = 0x106;
    /// Too many onboarding attempts came from this address: the reason says when to retry.
    pub const ONBOARDING_RATE_LIMITED: u32 = 0x107;
    /// The request does not belong on this protocol (anything but `Onboard` on the onboarding
    /// protocol, a second `Onboard` on one connection).
    pub const WRONG_PROTOCOL: u32 = 0x108;
}

/// The ALPN protocol id of this wire protocol over QUIC.
pub const ALPN: &[u8] = b"trust-fabric/1";

/// The ALPN protocol id of onboarding: no client certificate, one [`Onboard`] request per
/// connection, nothing else.
pub const ONBOARDING_ALPN: &[u8] = b"trust-fabric-onboard/1";
