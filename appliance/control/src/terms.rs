//! Partners' terms requests. A partner asks for other rates, key quota or budget caps over its
//! own connection; within its invite's template the terms come into force at once, as a
//! bundle revision rewriting the partner's terms file; above it, the request waits for an
//! operator, who grants it (the same revision, then) or declines it. A request is granted in
//! the same transaction that records its switch.

use actix::prelude::*;
use tf_bundles::PartnerChange;
use tf_bundles::partners::{PartnerCap, PartnerTerms};
use tf_ledger::{NewTermsRequest, TermsRequestRow, TermsState};
use tf_seam::clock::unix_micros;
use tf_wire::{ErrorCode, Message, TermsReply, TermsRequest};

use crate::book::Book;
use crate::bundles::Bundles;
use crate::error::ControlError;
use crate::promote::{Authority, PendingSwitch, Switched};

/// Who grants a request within its template.
pub const TEMPLATE: &str = "template";

/// A partner's request for other terms; the tenant is its certificate's.
#[derive(Debug, Message)]
#[rtype(result = "Result<TermsOutcome, ControlError>")]
pub struct RequestTerms {
    /// The tenant asking.
    pub tenant: String,
    /// Admission rate asked for.
    pub rate_per_sec: u32,
    /// Admission burst asked for.
    pub burst: u32,
    /// Key quota asked for.
    pub max_registered_keys: u32,
    /// Caps asked for (all of them: one left out is removed).
    pub caps: Vec<PartnerCap>,
}

/// What came of a terms request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TermsOutcome {
    /// In force from `revision`.
    Applied {
        /// The request's number.
        request: u64,
        /// The revision that carries it.
        revision: u64,
    },
    /// Above the template: waiting for an operator.
    Waiting {
        /// The request's number.
        request: u64,
        /// What is above the template, in words.
        above: Vec<String>,
    },
}

/// Grants a waiting request: its terms come into force.
#[derive(Debug, Message)]
#[rtype(result = "Result<Switched, ControlError>")]
pub struct GrantTerms {
    /// The request.
    pub id: u64,
    /// Who grants it.
    pub by: String,
    /// Why.
    pub reason: String,
}

/// Declines a waiting request.
#[derive(Debug, Message)]
#[rtype(result = "Result<TermsRequestRow, ControlError>")]
pub struct DeclineTerms {
    /// The request.
    pub id: u64,
    /// Who declines it.
    pub by: String,
    /// Why (the partner may be told).
    pub reason: String,
}

/// Every terms request, newest first.
#[derive(Debug, Message)]
#[rtype(result = "Result<Vec<TermsRequestRow>, ControlError>")]
pub struct ListTerms;

/// What beginning a terms request came to.
pub(crate) enum Begun {
    Waiting {
        request: u64,
        above: Vec<String>,
    },
    Staged {
        request: u64,
        pending: Box<PendingSwitch>,
    },
}

impl Handler<RequestTerms> for Bundles {
    type Result = AtomicResponse<Self, Result<TermsOutcome, ControlError>>;

    fn handle(&mut self, ask: RequestTerms, _: &mut Self::Context) -> Self::Result {
        match self.book.begin_terms(&ask, unix_micros()) {
            Err(error) => AtomicResponse::new(Box::pin(fut::ready(Err(error)))),
            Ok(Begun::Waiting { request, above }) => {
                AtomicResponse::new(Box::pin(fut::ready(Ok(TermsOutcome::Waiting {
                    request,
                    above,
                }))))
            }
            Ok(Begun::Staged { request, pending }) => {
                let applied = self.switch_future(Ok(*pending)).map(move |switched, _, _| {
                    switched.map(|s| TermsOutcome::Applied {
                        request,
                        revision: s.to_revision,
                    })
                });
                AtomicResponse::new(Box::pin(applied))
            }
        }
    }
}

impl Handler<GrantTerms> for Bundles {
    type Result = AtomicResponse<Self, Result<Switched, ControlError>>;

    fn handle(&mut self, grant: GrantTerms, _: &mut Self::Context) -> Self::Result {
        let pending = self.book.begin_grant(&grant, unix_micros());
        self.run_switch(pending)
    }
}

impl Handler<DeclineTerms> for Bundles {
    type Result = Result<TermsRequestRow, ControlError>;

    fn handle(&mut self, decline: DeclineTerms, _: &mut Self::Context) -> Self::Result {
        self.book
            .ledger
            .decline_terms(decline.id, &decline.by, &decline.reason, unix_micros())?
            .map_err(|refused| match refused {
                tf_ledger::TermsRefusal::Unknown => {
                    refused_terms("unknown", format!("no terms request {}", decline.id))
                }
                tf_ledger::TermsRefusal::Decided => refused_terms(
                    "decided",
                    format!("terms request {} was already decided", decline.id),
                ),
            })
    }
}

impl Handler<ListTerms> for Bundles {
    type Result = Result<Vec<TermsRequestRow>, ControlError>;

    fn handle(&mut self, _: ListTerms, _: &mut Self::Context) -> Self::Result {
        Ok(self.book.ledger.terms_requests()?)
    }
}

fn refused_terms(reason: &'static str, detail: String) -> ControlError {
    ControlError::Terms { reason, detail }
}

impl Book {
    /// The terms file in force for partner `tenant`, with the bundle it is in.
    fn partner_in_force(
        &self,
        tenant: &str,
    ) -> Result<(std::sync::Arc<tf_bundles::Bundle>, PartnerTerms), ControlError> {
        let not_partner = || {
            refused_terms(
                "not-a-partner",
                format!(
                    "tenant {tenant} was not onboarded with an invite: its terms are set by the \
                     operator's bundles; ask the operator"
                ),
            )
        };
        let source = self.active.bundle.clone().ok_or_else(not_partner)?;
        let terms = source
            .content
            .partners
            .iter()
            .find(|p| p.tenant == tenant)
            .cloned()
            .ok_or_else(not_partner)?;
        Ok((source, terms))
    }

    pub(crate) fn begin_terms(
        &mut self,
        ask: &RequestTerms,
        now_us: u64,
    ) -> Result<Begun, ControlError> {
        let (source, current) = self.partner_in_force(&ask.tenant)?;
        let invite = self.ledger.invite(current.invite)?.ok_or_else(|| {
            ControlError::Storage(format!("invite {} is not stored", current.invite))
        })?;
        let ceiling = crate::partner_revisions::template_terms(&invite, &ask.tenant)?;
        let asked = PartnerTerms {
            rate_per_sec: ask.rate_per_sec,
            burst: ask.burst,
            max_registered_keys: ask.max_registered_keys,
            caps: ask.caps.clone(),
            ..current
        };
        // Built once to check the terms make a valid bundle, before anything is stored.
        let change = |request| PartnerChange {
            tenant: ask.tenant.clone(),
            source: source.revision(),
            invite: invite.id,
            request: Some(request),
        };
        self.partner_bundle(&source, &asked, change(0), String::from("check"), now_us)
            .map_err(|error| refused_terms("bad-request", error.to_string()))?;
        let above = above_template(&asked, &ceiling);
        let terms_json = serde_json::to_string(&asked).expect("terms serialise");
        let request = self.ledger.add_terms_request(&NewTermsRequest {
            tenant: &ask.tenant,
            terms: &terms_json,
            within_template: above.is_empty(),
            created_us: now_us,
        })?;
        if !above.is_empty() {
            return Ok(Begun::Waiting { request, above });
        }
        let note = format!(
            "tenant {}'s terms: {} (request {request}, within invite {}'s template)",
            ask.tenant,
            describe(&asked),
            invite.id
        );
        let actor = format!("tenant {}", ask.tenant);
        let grant = Authority::Grant {
            request,
            by: TEMPLATE.into(),
            reason: format!("within invite {}'s template", invite.id),
        };
        let pending = self.stage_partner(
            &source,
            &asked,
            change(request),
            note,
            &actor,
            grant,
            now_us,
        )?;
        Ok(Begun::Staged {
            request,
            pending: Box::new(pending),
        })
    }

    pub(crate) fn begin_grant(
        &mut self,
        grant: &GrantTerms,
        now_us: u64,
    ) -> Result<PendingSwitch, ControlError> {
        let row = self
            .ledger
            .terms_request(grant.id)?
            .ok_or_else(|| refused_terms("unknown", format!("no terms request {}", grant.id)))?;
        if row.state != TermsState::Pending {
            return Err(refused_terms(
                "decided",
                format!("terms request {} was already decided", grant.id),
            ));
        }
        let terms: PartnerTerms = serde_json::from_str(&row.terms).map_err(|e| {
            ControlError::Storage(format!("terms request {} does not read: {e}", row.id))
        })?;
        let (source, _) = self.partner_in_force(&row.tenant)?;
        let change = PartnerChange {
            tenant: row.tenant.clone(),
            source: source.revision(),
            invite: terms.invite,
            request: Some(row.id),
        };
        let note = format!(
            "tenant {}'s terms: {} (request {}, granted by {}: {})",
            row.tenant,
            describe(&terms),
            row.id,
            grant.by,
            grant.reason
        );
        let authority = Authority::Grant {
            request: row.id,
            by: grant.by.clone(),
            reason: grant.reason.clone(),
        };
        self.stage_partner(
            &source,
            &terms,
            change,
            note,
            &grant.by.clone(),
            authority,
            now_us,
        )
    }

    /// Builds the revision writing `terms`, checks it fits, and stages it to be recorded with
    /// `authority`.
    #[allow(clippy::too_many_arguments)] // one revision's every part, each different
    fn stage_partner(
        &mut self,
        source: &tf_bundles::Bundle,
        terms: &PartnerTerms,
        change: PartnerChange,
        note: String,
        actor: &str,
        authority: Authority,
        now_us: u64,
    ) -> Result<PendingSwitch, ControlError> {
        let bundle = self.partner_bundle(source, terms, change, note.clone(), now_us)?;
        let problems = self.fit_problems(&bundle);
        if !problems.is_empty() {
            return Err(tf_bundles::Refusal(problems).into());
        }
        let archive = bundle.files.to_tar_gz();
        let mut pending = self.stage(bundle, archive, "terms", actor, note);
        pending.authority = Some(authority);
        Ok(pending)
    }
}

/// What in `asked` is above `ceiling` (the template's terms), in words; empty when within it.
fn above_template(asked: &PartnerTerms, ceiling: &PartnerTerms) -> Vec<String> {
    let more = |what: &str, asked: u64, most: u64| {
        (asked > most).then(|| format!("{what} {asked} above the template's {most}"))
    };
    let mut above: Vec<String> = [
        more(
            "rate",
            asked.rate_per_sec.into(),
            ceiling.rate_per_sec.into(),
        ),
        more("burst", asked.burst.into(), ceiling.burst.into()),
        more(
            "key quota",
            asked.max_registered_keys.into(),
            ceiling.max_registered_keys.into(),
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    // A cap the template has and the request leaves out would be no limit at all.
    for most in &ceiling.caps {
        let kept = asked
            .caps
            .iter()
            .any(|c| c.class == most.class && c.window == most.window);
        if !kept {
            above.push(format!(
                "cap {} {} left out: the template limits it to {}",
                most.class, most.window, most.limit
            ));
        }
    }
    for cap in &asked.caps {
        let most = ceiling
            .caps
            .iter()
            .find(|c| c.class == cap.class && c.window == cap.window);
        above.extend(match most {
            Some(most) => more(
                &format!("cap {} {}", cap.class, cap.window),
                cap.limit,
                most.limit,
            ),
            None => Some(format!(
                "cap {} {}: the template has no cap in that class and window",
                cap.class, cap.window
            )),
        });
    }
    above
}

/// Terms in a line, for the timeline.
fn describe(terms: &PartnerTerms) -> String {
    let caps: Vec<String> = terms
        .caps
        .iter()
        .map(|c| format!("{} {} {}", c.class, c.window, c.limit))
        .collect();
    format!(
        "rate {}/s, burst {}, {} keys, caps [{}]",
        terms.rate_per_sec,
        terms.burst,
        terms.max_registered_keys,
        caps.join(", ")
    )
}

/// Answers a tenant's `TermsRequest`.
pub(crate) async fn answer(
    desk: &crate::desk::DeskWorker,
    tenant: &str,
    request: &TermsRequest,
) -> Result<Message, ErrorCode> {
    let ask = RequestTerms {
        tenant: tenant.to_owned(),
        rate_per_sec: request.rate_per_sec,
        burst: request.burst,
        max_registered_keys: request.max_registered_keys,
        caps: request
            .caps
            .iter()
            .map(|c| PartnerCap {
                class: c.dataset_class.name().to_owned(),
                window: c.window.clone(),
                limit: c.limit,
            })
            .collect(),
    };
    let reply = |terms_request, revision, detail| {
        Message::TermsReply(TermsReply {
            request_id: request.request_id,
            terms_request,
            revision,
            detail,
        })
    };
    match desk.bundles.send(ask).await {
        Ok(Ok(TermsOutcome::Applied { request, revision })) => Ok(reply(
            request,
            revision,
            format!("in force from bundle revision {revision}"),
        )),
        Ok(Ok(TermsOutcome::Waiting { request, above })) => Ok(reply(
            request,
            0,
            format!(
                "waiting for an operator's approval (request {request}): {}",
                above.join("; ")
            ),
        )),
        Ok(Err(ControlError::Terms { reason, detail })) => Err(match reason {
            "bad-request" => ErrorCode::Malformed { detail },
            _ => ErrorCode::Denied { reason: detail },
        }),
        Ok(Err(ControlError::Refused(refusal))) => Err(ErrorCode::Malformed {
            detail: refusal.to_string(),
        }),
        Ok(Err(other)) => Err(crate::desk::failed(other)),
        Err(_) => Err(ErrorCode::ShuttingDown),
    }
}
