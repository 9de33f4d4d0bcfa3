//! Compliance snapshots: a packet (a folder) that seals a period of the appliance's history
//! so that an auditor can check it offline with the appliance's public key, and so that the
//! ledger's receipts of the period can be pruned afterwards (the packet then holds them; their
//! hashes stay in the transparency log).
//!
//! [`make_snapshot`] writes a packet from the ledger and the log, streaming the receipts one
//! at a time (memory does not grow with the period); [`verify_packet`] checks one and names
//! every problem with its file; [`verify_chain`] checks that one packet follows another;
//! [`prune_packets`] keeps the newest N.
//!
//! # The packet
//!
//! `snapshot-20261202T000000Z/` (the period's end, UTC), written as
//! `.snapshot-20261202T000000Z.partial/` and renamed once complete and durable:
//!
//! | file | content |
//! |---|---|
//! | `index.dsse.json` | the index: an in-toto Statement v1 ([`Statement`]) in a DSSE envelope (payload type `application/vnd.in-toto+json`) signed by the appliance key. Its subjects are every other file with the SHA-256 of its bytes on disk (of the gzip file where gzipped, so `sha256sum` checks them); its predicate ([`SnapshotSummary`], type [`PREDICATE_TYPE`]) the period, receipts and charges per tenant and in all, the log range and tree size, and the previous packet's index digest |
//! | `period.json` | [`PeriodFile`]: name, period `[from, to)`, when made, the appliance key, and the caller's [`SnapshotContext`] (version, active bundle, configuration digest, preflight) |
//! | `timeline.json` | [`TimelineFile`]: promotions and rollbacks of the period (who, when, why, links, revisions, bundle hash) and the event in force at its start |
//! | `receipts/<tenant>.jsonl.gz` | every receipt of the tenant decided in the period, in sequence order, one per line: a JSON string whose value is the DSSE envelope exactly as issued (envelopes span several lines; their exact bytes are what the log entry hashes, so they are kept, escaped, rather than reformatted). One gzip member: `zcat receipts/acme.jsonl.gz \| jq -c fromjson` shows them as objects |
//! | `budgets/<tenant>.json` | [`tf_evidence::BudgetStatements`]: per purpose and class, requests, valid, invalid, rejected, charged |
//! | `budgets/<tenant>.charges.jsonl.gz` | [`ChargeLine`] per charged receipt, in sequence order, gzipped: what the statements add up from |
//! | `auditors.json` | [`AuditorReferences`]: per webhook endpoint, the messages that carried the period's receipts, how many were acknowledged, and a digest of the acknowledgements (the auditor reference) |
//! | `log/checkpoint` | the log's latest signed checkpoint when the packet was made; it covers every receipt of the packet |
//! | `log/range.json` | [`LogRange`]: the log key, origin, tree size, and first and last sequence number of the receipts |
//! | `log/consistency.json` | the [`tf_log::ConsistencyProofFile`] from the previous packet's checkpoint to this one (`null` for the first) |
//! | `log/tile/<L>/<N>[.p/<W>]` | the log's hash tiles that tie the receipts to the checkpoint (below) |
//!
//! `<tenant>` is the tenant's name where it is a tenant id (a-z, 0-9, `-`, `_`), else each
//! other byte as `%XX` ([`tenant_file_stem`]). Tenants without receipts in the period have no
//! files.
//!
//! # The log part
//!
//! Every receipt is the log's entry at its ledger sequence number (entry 0 is the log's
//! genesis), and the entry is the SHA-256 of its envelope. A packet shows every one of its
//! receipts is in the log without an inclusion proof per receipt (about 800 bytes each at ten
//! million entries) by carrying the log's own C2SP hash tiles: the level-0 tiles of the
//! receipts' range (32 bytes per entry of the range), at each level above the tiles holding
//! the range's ancestors (1/256 of the level below), and the tree's rightmost partial tile of
//! each level. The verifier checks that each full tile hashes to the hash its position names in
//! the tile above, and that the root of the checkpoint's tree computed from the tiles (which
//! reads the rightmost partial tiles, every hash of them) is the signed checkpoint's: then
//! every hash in the tiles is the log's, and a receipt is the log's entry when its leaf hash
//! is at its sequence number in a level-0 tile. The tiles are the ancestors' and the right
//! edge's, so `log/` is also a partial tile mirror from which a standard tlog client builds
//! the inclusion proof of any receipt of the range.
//!
//! The consistency proof shows that the log's tree at this checkpoint extends the previous
//! packet's: the log was not rewritten between them. [`make_snapshot`] refuses to make a
//! packet whose proof does not verify, and one whose receipts the log's checkpoint does not
//! cover yet (retry after the next checkpoint).

mod auditors;
mod digest;
mod error;
mod index;
mod layout;
mod make;
mod make_log;
mod make_tenants;
mod model;
mod packets;
mod problem;
mod retention;
mod staging;
mod tiles;
mod verify;

pub use digest::Sha256Digest;
pub use error::SnapshotError;
pub use index::{
    INDEX_PAYLOAD_TYPE, LogSummary, PREDICATE_TYPE, STATEMENT_TYPE, SnapshotSummary, Statement,
    Subject, SubjectDigest, TenantSummary,
};
pub use layout::{
    AUDITORS_FILE, INDEX_FILE, LOG_CHECKPOINT_FILE, LOG_CONSISTENCY_FILE, LOG_DIR, LOG_RANGE_FILE,
    PERIOD_FILE, TIMELINE_FILE, budgets_path, charges_path, receipts_path, snapshot_name,
    tenant_file_stem, tile_path,
};
pub use make::{PreviousSnapshot, Snapshot, SnapshotRequest, make_snapshot};
pub use model::{
    ActiveBundle, AuditorReferences, ChargeLine, CheckStatus, LogRange, Period, PeriodFile,
    PolicyEvent, PreflightCheck, PreflightResult, SeqRange, SnapshotContext, TimelineFile,
    WebhookDelivery,
};
pub use packets::{
    AnchorRecord, PacketInfo, anchor_path, list_packets, packet_info, packet_names, read_anchor,
    save_anchor,
};
pub use problem::Problem;
pub use retention::prune_packets;
pub use verify::{MAX_INDEX_BYTES, TreeHead, VerifiedSnapshot, verify_chain, verify_packet};
