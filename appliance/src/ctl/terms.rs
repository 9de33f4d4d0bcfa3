//! `appliance ctl terms`: partners' terms requests through the admin API (list, grant,
//! decline), and partners' terms files of the bundle in force written to a folder, for authors
//! to keep in the bundles they build.

use std::path::{Path, PathBuf};

use tf_admin_api::{Operation, TermsDecision, TermsRequestsReply};

use super::Request;
use super::connect::Failure;
use crate::cli::terms_ctl::TermsCtl;
use crate::output;

/// The call a terms command makes.
pub(super) fn request(what: &TermsCtl) -> Result<Request, String> {
    let decide = |operation: Operation, id: u64, reason: &str| {
        Request::json(
            operation,
            operation.route().path.replace("{id}", &id.to_string()),
            &TermsDecision {
                reason: reason.to_owned(),
            },
        )
    };
    match what {
        TermsCtl::List | TermsCtl::Files { .. } => Ok(Request::get(
            Operation::TermsRequests,
            Operation::TermsRequests.route().path.to_owned(),
        )),
        TermsCtl::Grant { id, reason } => decide(Operation::GrantTerms, *id, reason),
        TermsCtl::Decline { id, reason } => decide(Operation::DeclineTerms, *id, reason),
    }
}

/// `ctl terms files --out DIR`: each partner's terms file in `body` (the terms requests'
/// listing) written as `DIR/<tenant>.toml`, and what was written printed.
pub(super) fn write_files(body: &str, out: &Path, json: bool) -> Result<(), Failure> {
    let reply: TermsRequestsReply = serde_json::from_str(body).map_err(|e| {
        Failure::Failed(format!(
            "the terms requests' answer is not the reply this version knows: {e}"
        ))
    })?;
    let unwritable = |e: std::io::Error| Failure::Usage(format!("--out {}: {e}", out.display()));
    std::fs::create_dir_all(out).map_err(unwritable)?;
    let mut written: Vec<(String, PathBuf)> = Vec::new();
    for partner in &reply.partners {
        let tenant = partner.tenant.0.as_str();
        // The name comes from the appliance: a file name only when it is one, never a path.
        if !tf_config::is_valid_tenant_id(tenant) {
            return Err(Failure::Failed(format!(
                "the appliance names a partner {tenant:?}, which is no tenant name \
                 (1 to 64 of a-z, 0-9, - and _): nothing more written"
            )));
        }
        let path = out.join(format!("{tenant}.toml"));
        std::fs::write(&path, &partner.file).map_err(unwritable)?;
        written.push((tenant.to_owned(), path));
    }
    if json {
        let listed: Vec<_> = written
            .iter()
            .map(|(tenant, path)| serde_json::json!({"tenant": tenant, "path": path.display().to_string()}))
            .collect();
        output::line(
            serde_json::to_string_pretty(&serde_json::json!({ "written": listed }))
                .unwrap_or_default(),
        );
        return Ok(());
    }
    if written.is_empty() {
        output::line("no partners in the bundle in force: nothing written");
    }
    for (tenant, path) in &written {
        output::line(format!("wrote {} (partner {tenant})", path.display()));
    }
    Ok(())
}
