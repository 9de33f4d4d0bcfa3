//! Where each part of a packet goes: fixed file names, per-tenant file names, the packet's
//! own name, and the transparency log's tiles at their C2SP paths under `log/`.

use std::fmt::Write as _;

use tf_tlog::TileId;

/// The signed index: an in-toto Statement v1 in a DSSE envelope.
pub const INDEX_FILE: &str = "index.dsse.json";
/// What the packet covers and under which appliance, bundle and configuration.
pub const PERIOD_FILE: &str = "period.json";
/// The policy timeline of the period.
pub const TIMELINE_FILE: &str = "timeline.json";
/// References to what auditors were sent (webhook deliveries).
pub const AUDITORS_FILE: &str = "auditors.json";
/// The log's signed checkpoint (a C2SP signed note), at the C2SP path under `log/`.
pub const LOG_CHECKPOINT_FILE: &str = "log/checkpoint";
/// The receipts' place in the log, and the log's key.
pub const LOG_RANGE_FILE: &str = "log/range.json";
/// The consistency proof from the previous snapshot's checkpoint (`null` for the first).
pub const LOG_CONSISTENCY_FILE: &str = "log/consistency.json";
/// The folder the log's hash tiles are under (`log/tile/<L>/<N>[.p/<W>]`).
pub const LOG_DIR: &str = "log";

/// The prefix of every complete packet's name.
const PACKET_PREFIX: &str = "snapshot-";

/// The receipts of a tenant, one per line, gzipped.
pub fn receipts_path(tenant: &str) -> String {
    format!("receipts/{}.jsonl.gz", tenant_file_stem(tenant))
}

/// A tenant's budget statements.
pub fn budgets_path(tenant: &str) -> String {
    format!("budgets/{}.json", tenant_file_stem(tenant))
}

/// The charges a tenant's budget statements add up from, one per line, gzipped.
pub fn charges_path(tenant: &str) -> String {
    format!("budgets/{}.charges.jsonl.gz", tenant_file_stem(tenant))
}

/// A hash tile's path in a packet: its C2SP path under `log/`, so `log/` is a tile mirror a
/// standard tlog client can read.
pub fn tile_path(tile: TileId) -> String {
    format!("{LOG_DIR}/{}", tile.path())
}

/// A tenant's name as a file name stem: itself when it is a tenant id as the configuration
/// allows them (a-z, 0-9, `-`, `_`), else each other byte as `%XX`. Distinct names give
/// distinct stems, and no stem holds `/` or `.` (the ledger names tenants from client
/// certificates, so a name reaching here is not trusted to be a safe path).
pub fn tenant_file_stem(tenant: &str) -> String {
    if tenant.is_empty() {
        // No `%XX` spelling is a lone `%`, so the empty name cannot collide.
        return "%".to_owned();
    }
    let mut stem = String::with_capacity(tenant.len());
    for byte in tenant.bytes() {
        if byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-' || byte == b'_' {
            stem.push(char::from(byte));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(stem, "%{byte:02X}");
        }
    }
    stem
}

/// A packet's name: `snapshot-` and the period's end as UTC to the second,
/// `snapshot-20261202T000000Z`. Names sort in the order of their periods.
pub fn snapshot_name(to_us: u64) -> String {
    let utc = tf_budgets::format_utc(to_us / 1_000_000);
    let compact: String = utc.chars().filter(|c| *c != '-' && *c != ':').collect();
    format!("{PACKET_PREFIX}{compact}")
}

/// Whether `name` is a complete packet's name (`snapshot-YYYYMMDDTHHMMSSZ`). Packets being
/// made have a temporary name, which never matches.
pub(crate) fn is_packet_name(name: &str) -> bool {
    let Some(stamp) = name.strip_prefix(PACKET_PREFIX) else {
        return false;
    };
    let bytes = stamp.as_bytes();
    bytes.len() == 16
        && bytes[8] == b'T'
        && bytes[15] == b'Z'
        && bytes[..8].iter().all(u8::is_ascii_digit)
        && bytes[9..15].iter().all(u8::is_ascii_digit)
}

/// The temporary name a packet is written under before it is renamed to `name`: hidden, and
/// never a packet's name.
pub(crate) fn staging_name(name: &str) -> String {
    format!(".{name}.partial")
}

/// Whether `name` is a temporary name a packet was being written under.
pub(crate) fn is_staging_name(name: &str) -> bool {
    name.starts_with(&format!(".{PACKET_PREFIX}")) && name.ends_with(".partial")
}

/// The temporary name a packet is renamed to before it is removed: hidden, and never a
/// packet's name nor a packet being made.
pub(crate) fn removing_name(name: &str) -> String {
    format!(".{name}.removing")
}

/// Whether `name` is a packet set aside to be removed.
pub(crate) fn is_removing_name(name: &str) -> bool {
    name.starts_with(&format!(".{PACKET_PREFIX}")) && name.ends_with(".removing")
}

#[cfg(test)]
mod tests {
    use tf_tlog::TileLevel;

    use super::*;

    #[test]
    fn tenant_ids_are_their_own_stems_and_other_names_cannot_escape_or_collide() {
        assert_eq!(tenant_file_stem("acme-eu_2"), "acme-eu_2");
        assert_eq!(tenant_file_stem("../etc"), "%2E%2E%2Fetc");
        assert_eq!(tenant_file_stem("Acme"), "%41cme");
        assert_eq!(tenant_file_stem("x.charges"), "x%2Echarges");
        assert_eq!(tenant_file_stem(""), "%");
        assert_eq!(tenant_file_stem("%"), "%25");
        assert_ne!(tenant_file_stem("%41"), tenant_file_stem("A"));
        assert_eq!(receipts_path("acme"), "receipts/acme.jsonl.gz");
        assert_eq!(budgets_path("acme"), "budgets/acme.json");
        assert_eq!(charges_path("acme"), "budgets/acme.charges.jsonl.gz");
    }

    #[test]
    fn packet_names_are_the_period_end_in_utc() {
        // 2026-12-02T00:00:00Z.
        let to_us = 1_796_169_600_000_000;
        let name = snapshot_name(to_us);
        assert_eq!(name, "snapshot-20261202T000000Z");
        assert!(is_packet_name(&name));
        assert!(!is_packet_name(&staging_name(&name)));
        assert!(is_staging_name(&staging_name(&name)));
        assert!(!is_staging_name(&removing_name(&name)));
        assert!(is_removing_name(&removing_name(&name)));
        assert!(!is_packet_name(&removing_name(&name)));
        assert!(!is_packet_name("snapshot-2026120T000000Z"));
        assert!(!is_packet_name("snapshot-20261202T000000Z.old"));
        assert!(!is_packet_name("evidence-20261202T000000Z"));
    }

    #[test]
    fn tiles_sit_at_their_c2sp_paths_under_log() {
        let full = TileId::full(TileLevel::Hashes(0), 1_234);
        assert_eq!(tile_path(full), "log/tile/0/x001/234");
        let partial = TileId::new(TileLevel::Hashes(1), 0, 7).expect("valid");
        assert_eq!(tile_path(partial), "log/tile/1/000.p/7");
    }
}
