//! The drift guard against the appliance's own decision log: `POST /api/v1/bundles/drift`
//! replays a recent window under a candidate bundle (the request body, as for validate) and
//! under a stored revision, and answers with the report. A later promotion of that bundle
//! records the judgement in its timeline entry, and is refused if the bundle did not pass and
//! nobody overrode it.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::ids::{BundleHash, Revision};

/// The query of `POST /api/v1/bundles/drift`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DriftQuery {
    /// How far back to replay: a whole number and m, h or d. Default `7d`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
    /// The stored revision to compare against; default the one in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub against: Option<Revision>,
    /// The largest upper bound on the drift rate that passes, percent of decisions. Default
    /// 0.5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<f64>,
    /// An approver letting the bundle through although it does not pass (with `reason`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_by: Option<String>,
    /// Why (with `override_by`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl DriftQuery {
    /// The query as a URL's query string (without `?`).
    pub fn to_query_string(&self) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(window) = &self.window {
            pairs.push(("window", window.clone()));
        }
        if let Some(against) = self.against {
            pairs.push(("against", against.0.to_string()));
        }
        if let Some(tolerance) = self.tolerance {
            pairs.push(("tolerance", tolerance.to_string()));
        }
        if let Some(by) = &self.override_by {
            pairs.push(("override_by", by.clone()));
        }
        if let Some(reason) = &self.reason {
            pairs.push(("reason", reason.clone()));
        }
        crate::receipt_search::query_string(&pairs)
    }
}

/// The reply of `POST /api/v1/bundles/drift`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DriftReply {
    /// Whether the bundle may be promoted: the drift passes, or an approver overrode it.
    pub passes: bool,
    /// `pass`, `block` (over the tolerance) or `too-few-decisions` (the window cannot bound
    /// the drift within the tolerance).
    pub judgement: String,
    /// The approver who overrode the guard; `null` when none did.
    #[schema(required = true)]
    pub overridden_by: Option<String>,
    /// The candidate's hash, which a promotion of it matches to this judgement.
    pub candidate_hash: BundleHash,
    /// The candidate's revision.
    pub candidate_revision: Revision,
    /// The revision it was compared against.
    pub against_revision: Revision,
    /// Decisions judged.
    pub decisions: u64,
    /// Decisions whose answer flips.
    pub flips: u64,
    /// The drift rate's one-sided upper bound, percent.
    pub upper_bound_percent: f64,
    /// The tolerance, percent.
    pub tolerance_percent: f64,
    /// The report as a terminal summary.
    pub text: String,
    /// The report as a pull-request comment.
    pub markdown: String,
    /// The whole report, as `appliance bundle drift --format json` prints it.
    #[schema(value_type = Object)]
    pub report: serde_json::Value,
}

/// What the drift guard said of a promoted bundle, in its timeline entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TimelineDrift {
    /// The judgement made on this appliance; `null` when none was (an override then stands
    /// on one made elsewhere, such as CI on a sample).
    #[schema(required = true)]
    pub checked: Option<DriftCheck>,
    /// The approver who let the bundle through although it did not pass; `null` when none.
    #[schema(required = true)]
    pub overridden_by: Option<String>,
    /// Why; `null` when nobody overrode.
    #[schema(required = true)]
    pub override_reason: Option<String>,
}

/// A drift judgement made on this appliance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DriftCheck {
    /// `pass`, `block` or `too-few-decisions`.
    pub judgement: String,
    /// The drift rate's one-sided upper bound, percent.
    pub upper_bound_percent: f64,
    /// The tolerance, percent.
    pub tolerance_percent: f64,
    /// Decisions judged.
    pub decisions: u64,
    /// The revision compared against.
    pub against_revision: Revision,
    /// The window replayed, RFC 3339 UTC to the second.
    pub from: String,
    /// Its end.
    pub to: String,
}

impl TimelineDrift {
    /// In words, as `appliance ctl timeline` and the console show it.
    pub fn summary(&self) -> String {
        let checked = self.checked.as_ref().map(|c| {
            format!(
                "drift guard {}: up to {:.3} % of {} decisions against a tolerance of {:.3} %",
                c.judgement, c.upper_bound_percent, c.decisions, c.tolerance_percent
            )
        });
        let overridden = self.overridden_by.as_ref().map(|by| {
            format!(
                "overridden by {by}: {}",
                self.override_reason.as_deref().unwrap_or_default()
            )
        });
        match (checked, overridden) {
            (Some(checked), Some(overridden)) => format!("{checked}; {overridden}"),
            (Some(checked), None) => checked,
            (None, Some(overridden)) => format!("drift guard not run here; {overridden}"),
            (None, None) => String::new(),
        }
    }
}
