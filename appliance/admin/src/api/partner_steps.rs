//! Each partner's onboarding steps as the operator sees them: the checklist the partner asks
//! for over QUIC (`tf_control::checklist::steps`), with the sandbox and first-verdict receipts
//! found among its earliest receipts rather than named by the partner. Read on a blocking
//! thread through a read-only ledger connection of its own.

use std::path::Path;

use tf_admin_api::OnboardingStep;
use tf_bundles::partners::PartnerTerms;
use tf_control::checklist::{Named, steps};
use tf_ledger::SqliteLedger;
use tf_state::KeyStore;

use super::ApiState;

/// How many of a partner's earliest receipts are looked at for its first verdicts.
pub const EARLIEST_RECEIPTS: u32 = 1000;

/// Every partner's steps, in the order of `partners`; all empty when this server has no
/// ledger or key store to read, or reading failed (said in the log).
pub async fn onboarding_steps(
    state: &ApiState,
    partners: Vec<PartnerTerms>,
) -> Vec<Vec<OnboardingStep>> {
    let count = partners.len();
    let (Some(ledger), Some(keys)) = (state.ledger.clone(), state.partner_keys.clone()) else {
        return vec![Vec::new(); count];
    };
    let read = actix_web::rt::task::spawn_blocking(move || read(&ledger, &keys, &partners)).await;
    match read {
        Ok(Ok(steps)) => steps,
        Ok(Err(error)) => {
            tracing::warn!(%error, "reading partners' onboarding steps failed");
            vec![Vec::new(); count]
        }
        Err(_) => vec![Vec::new(); count],
    }
}

fn read(
    ledger: &Path,
    keys: &KeyStore,
    partners: &[PartnerTerms],
) -> Result<Vec<Vec<OnboardingStep>>, String> {
    let ledger = SqliteLedger::open_read_only(ledger).map_err(|e| e.to_string())?;
    partners
        .iter()
        .map(|terms| {
            let first = ledger
                .first_valid_receipts(
                    &terms.tenant,
                    tf_budgets::SANDBOX_PURPOSE,
                    EARLIEST_RECEIPTS,
                )
                .map_err(|e| e.to_string())?;
            let named = Named {
                sandbox: first.sandbox.unwrap_or(0),
                first: first.other.unwrap_or(0),
            };
            let shown = steps(&ledger, keys, terms, named)?;
            Ok(shown
                .into_iter()
                .map(|step| OnboardingStep {
                    name: step.name,
                    done: step.done,
                    detail: step.detail,
                })
                .collect())
        })
        .collect()
}
