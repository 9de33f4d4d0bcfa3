//! `appliance evidence verify`: checks a bundle offline against the appliance's public key and
//! names every file that was altered, removed or added.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use ed25519_dalek::VerifyingKey;
use tf_receipts::Envelope;

use super::manifest::{
    BUDGETS_FILE, BudgetStatements, MANIFEST_FILE, Manifest, PAYLOAD_TYPE, receipt_path, sha256_hex,
};

/// Largest file read from a bundle: receipts and manifests are far smaller.
const MAX_FILE_BYTES: u64 = 256 << 20;

/// A verified bundle's summary.
pub struct Verified {
    /// The manifest.
    pub manifest: Manifest,
}

/// Checks the bundle. `Err` lists every problem found, each naming its file.
pub fn verify(dir: &Path, key: &VerifyingKey) -> Result<Verified, Vec<String>> {
    let manifest = read_manifest(dir, key).map_err(|problem| vec![problem])?;
    let mut problems = Vec::new();
    let mut contents: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for file in &manifest.files {
        let path = dir.join(&file.path);
        match read(&path) {
            Err(_) if !path.exists() => problems.push(format!(
                "{}: listed in the manifest but missing (removed)",
                file.path
            )),
            Err(problem) => problems.push(format!("{}: {problem}", file.path)),
            Ok(bytes) => {
                if sha256_hex(&bytes) != file.sha256 || bytes.len() as u64 != file.bytes {
                    problems.push(format!(
                        "{}: its SHA-256 differs from the manifest's (altered)",
                        file.path
                    ));
                } else {
                    contents.insert(file.path.clone(), bytes);
                }
            }
        }
    }
    let listed: BTreeSet<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    for extra in files_on_disk(dir) {
        if extra != MANIFEST_FILE && !listed.contains(extra.as_str()) {
            problems.push(format!("{extra}: not listed in the manifest (added)"));
        }
    }
    let expected: BTreeSet<String> = manifest
        .receipts
        .seqs
        .iter()
        .map(|seq| receipt_path(*seq))
        .collect();
    for path in &expected {
        if !listed.contains(path.as_str()) {
            problems.push(format!(
                "{path}: a receipt the manifest counts has no file entry"
            ));
        }
    }
    if manifest.receipts.count != manifest.receipts.seqs.len() as u64 {
        problems.push(format!(
            "{MANIFEST_FILE}: counts {} receipts but lists {}",
            manifest.receipts.count,
            manifest.receipts.seqs.len()
        ));
    }
    // Each intact receipt must be genuine and belong to this tenant and period; the budget
    // statements must add up to the receipts.
    let mut recomputed = BudgetStatements {
        tenant: manifest.tenant.clone(),
        from_unix_us: manifest.from_unix_us,
        to_unix_us: manifest.to_unix_us,
        lines: Vec::new(),
    };
    for path in &expected {
        let Some(bytes) = contents.get(path) else {
            continue;
        };
        match check_receipt(bytes, key, &manifest) {
            Ok(receipt) => recomputed.add(
                &receipt.purpose,
                &receipt.dataset_class,
                receipt.verdict.as_str(),
                receipt.budget_charged,
            ),
            Err(problem) => problems.push(format!("{path}: {problem}")),
        }
    }
    recomputed.sort();
    if let Some(bytes) = contents.get(BUDGETS_FILE) {
        match serde_json::from_slice::<BudgetStatements>(bytes) {
            Ok(statements) if problems.is_empty() && statements != recomputed => problems.push(
                format!("{BUDGETS_FILE}: the statements do not add up to the receipts"),
            ),
            Ok(_) => {}
            Err(error) => problems.push(format!("{BUDGETS_FILE}: not a budget statement: {error}")),
        }
    } else if !listed.contains(BUDGETS_FILE) {
        problems.push(format!("{BUDGETS_FILE}: not listed in the manifest"));
    }
    if problems.is_empty() {
        Ok(Verified { manifest })
    } else {
        Err(problems)
    }
}

fn read_manifest(dir: &Path, key: &VerifyingKey) -> Result<Manifest, String> {
    let path = dir.join(MANIFEST_FILE);
    let bytes = read(&path).map_err(|problem| format!("{MANIFEST_FILE}: {problem}"))?;
    let text = String::from_utf8(bytes).map_err(|_| format!("{MANIFEST_FILE}: not UTF-8"))?;
    let envelope =
        Envelope::from_json(&text).map_err(|problem| format!("{MANIFEST_FILE}: {problem}"))?;
    if envelope.payload_type != PAYLOAD_TYPE {
        return Err(format!(
            "{MANIFEST_FILE}: payload type {:?} is not an evidence manifest",
            envelope.payload_type
        ));
    }
    tf_receipts::verify_signature(&envelope, key).map_err(|error| {
        format!("{MANIFEST_FILE}: {error} (altered, or another appliance's key)")
    })?;
    serde_json::from_slice(&envelope.payload)
        .map_err(|error| format!("{MANIFEST_FILE}: the signed manifest does not parse: {error}"))
}

fn check_receipt(
    bytes: &[u8],
    key: &VerifyingKey,
    manifest: &Manifest,
) -> Result<tf_receipts::Receipt, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8".to_owned())?;
    let envelope = Envelope::from_json(text)?;
    let receipt = tf_receipts::verify(&envelope, key).map_err(|e| e.to_string())?;
    if receipt.tenant != manifest.tenant {
        return Err(format!(
            "a receipt of tenant {:?}, not {:?}",
            receipt.tenant, manifest.tenant
        ));
    }
    if !(manifest.from_unix_us..manifest.to_unix_us).contains(&receipt.decided_at_unix_us) {
        return Err("decided outside the bundle's period".to_owned());
    }
    Ok(receipt)
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    let metadata = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if metadata.len() > MAX_FILE_BYTES {
        return Err(format!("larger than {MAX_FILE_BYTES} bytes"));
    }
    std::fs::read(path).map_err(|e| e.to_string())
}

/// Every regular file under the bundle, as `/`-separated relative paths.
fn files_on_disk(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(top) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in top.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() {
            if let Ok(inner) = std::fs::read_dir(entry.path()) {
                for file in inner.flatten() {
                    found.push(format!("{name}/{}", file.file_name().to_string_lossy()));
                }
            }
        } else {
            found.push(name);
        }
    }
    found
}
