//! `GET /api/v1/receipts`: stored receipts found by tenant, decision time, request id and
//! verdict, newest first, a page at a time.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::ids::TenantId;
use crate::receipts::ReceiptReply;
use crate::time::UtcTime;

/// The query of `GET /api/v1/receipts`. Every filter is optional and those given must all
/// hold. A parameter given empty (as an HTML form sends an empty field) counts as not given;
/// a parameter not listed here, or given twice, is refused. Parsing checks everything, so a
/// `ReceiptsQuery` that parsed is one the server runs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(try_from = "RawQuery")]
pub struct ReceiptsQuery {
    /// Only this tenant's receipts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<TenantId>,
    /// Only receipts decided at or after this moment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<UtcTime>,
    /// Only receipts decided before this moment (after `from`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<UtcTime>,
    /// Only receipts answering this partner request id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<u64>,
    /// Only receipts with this verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<ReceiptVerdict>,
    /// Only receipts after this one in the order of the reply: the previous page's
    /// `next_before`, a stored receipt's ledger sequence number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<u64>,
    /// How many receipts a page holds at most, 1 to 500 (default 50).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// A receipt's verdict. Serialised in lowercase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ReceiptVerdict {
    /// The proof or signature verified.
    Valid,
    /// Well formed, and it did not verify.
    Invalid,
    /// Malformed: refused before verification.
    Rejected,
}

/// The reply of `GET /api/v1/receipts`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReceiptsReply {
    /// The receipts found, newest first: by decision time, then by ledger sequence number.
    pub receipts: Vec<ReceiptReply>,
    /// More may match: ask again with `before` set to this for the next page. `null` on the
    /// last page.
    #[schema(required = true)]
    pub next_before: Option<u64>,
}

/// Why a receipt query was refused: the parameter and what it takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryProblem(pub String);

impl ReceiptsQuery {
    /// Receipts per page when `limit` is not given.
    pub const DEFAULT_LIMIT: u32 = 50;
    /// The most receipts a page holds.
    pub const MAX_LIMIT: u32 = 500;

    /// Receipts per page: `limit`, or [`ReceiptsQuery::DEFAULT_LIMIT`].
    pub fn page_size(&self) -> u32 {
        self.limit.unwrap_or(Self::DEFAULT_LIMIT)
    }

    /// The same query for the page after `next_before`.
    pub fn after(&self, next_before: u64) -> Self {
        ReceiptsQuery {
            before: Some(next_before),
            ..self.clone()
        }
    }

    /// The query string (without `?`) that asks for this, parameters in their order here.
    pub fn to_query_string(&self) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(tenant) = &self.tenant {
            pairs.push(("tenant", tenant.0.clone()));
        }
        if let Some(from) = self.from {
            pairs.push(("from", from.rfc3339()));
        }
        if let Some(to) = self.to {
            pairs.push(("to", to.rfc3339()));
        }
        if let Some(id) = self.request_id {
            pairs.push(("request_id", id.to_string()));
        }
        if let Some(verdict) = self.verdict {
            pairs.push(("verdict", verdict.name().to_owned()));
        }
        if let Some(before) = self.before {
            pairs.push(("before", before.to_string()));
        }
        if let Some(limit) = self.limit {
            pairs.push(("limit", limit.to_string()));
        }
        query_string(&pairs)
    }
}

/// `name=value` pairs joined with `&`, each value percent-encoded.
pub(crate) fn query_string(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(name, value)| format!("{name}={}", percent_encoded(value)))
        .collect::<Vec<_>>()
        .join("&")
}

impl ReceiptVerdict {
    /// Every verdict.
    pub const ALL: [ReceiptVerdict; 3] = [
        ReceiptVerdict::Valid,
        ReceiptVerdict::Invalid,
        ReceiptVerdict::Rejected,
    ];

    /// The verdict as receipts and the query spell it.
    pub fn name(self) -> &'static str {
        match self {
            ReceiptVerdict::Valid => "valid",
            ReceiptVerdict::Invalid => "invalid",
            ReceiptVerdict::Rejected => "rejected",
        }
    }

    /// The verdict spelled `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.name() == name)
    }
}

impl fmt::Display for ReceiptVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for QueryProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The query as given, each value still text (or a number, from JSON).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuery {
    #[serde(default)]
    tenant: Option<Given>,
    #[serde(default)]
    from: Option<Given>,
    #[serde(default)]
    to: Option<Given>,
    #[serde(default)]
    request_id: Option<Given>,
    #[serde(default)]
    verdict: Option<Given>,
    #[serde(default)]
    before: Option<Given>,
    #[serde(default)]
    limit: Option<Given>,
}

/// One parameter's value: text from a query string, or a number from JSON.
#[derive(Deserialize)]
#[serde(untagged)]
enum Given {
    Number(u64),
    Text(String),
}

impl Given {
    /// The value as text, `None` when it is empty or blank.
    fn text(self) -> Option<String> {
        let text = match self {
            Given::Number(number) => number.to_string(),
            Given::Text(text) => text,
        };
        let trimmed = text.trim();
        (!trimmed.is_empty()).then(|| trimmed.to_owned())
    }
}

impl TryFrom<RawQuery> for ReceiptsQuery {
    type Error = QueryProblem;

    fn try_from(raw: RawQuery) -> Result<Self, QueryProblem> {
        let tenant = parsed(raw.tenant, "tenant", |text| {
            TenantId::is_well_formed(text)
                .then(|| TenantId::from(text))
                .ok_or("1 to 64 characters of a-z, 0-9, - and _")
        })?;
        let time = |given, name| {
            parsed(given, name, |text| {
                UtcTime::parse(text).map_err(|_| UtcTime::FORMS)
            })
        };
        let from = time(raw.from, "from")?;
        let to = time(raw.to, "to")?;
        if let (Some(from), Some(to)) = (from, to)
            && from >= to
        {
            return Err(QueryProblem(format!(
                "from: {from} is not before to ({to}): the period is [from, to)"
            )));
        }
        let request_id = parsed(raw.request_id, "request_id", |text| {
            text.parse::<u64>()
                .map_err(|_| "a whole number, such as 42")
        })?;
        let verdict = parsed(raw.verdict, "verdict", |text| {
            ReceiptVerdict::parse(text).ok_or("valid, invalid or rejected")
        })?;
        let before = parsed(raw.before, "before", |text| {
            text.parse::<u64>()
                .map_err(|_| "a ledger sequence number: the previous page's next_before")
        })?;
        let limit = parsed(raw.limit, "limit", |text| {
            text.parse::<u32>()
                .ok()
                .filter(|n| (1..=ReceiptsQuery::MAX_LIMIT).contains(n))
                .ok_or("a whole number from 1 to 500")
        })?;
        Ok(ReceiptsQuery {
            tenant,
            from,
            to,
            request_id,
            verdict,
            before,
            limit,
        })
    }
}

/// A parameter read with `parse`; a refusal names the parameter, what it takes and what it
/// was given.
fn parsed<T>(
    given: Option<Given>,
    name: &str,
    parse: impl Fn(&str) -> Result<T, &'static str>,
) -> Result<Option<T>, QueryProblem> {
    let Some(text) = given.and_then(Given::text) else {
        return Ok(None);
    };
    parse(&text)
        .map(Some)
        .map_err(|takes| QueryProblem(format!("{name}: {takes}, not {text:?}")))
}

/// `text` with everything but RFC 3986's unreserved characters percent-encoded.
fn percent_encoded(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A query string as serde_urlencoded would hand its pairs over, as JSON strings.
    fn read(pairs: &[(&str, &str)]) -> Result<ReceiptsQuery, String> {
        let object: serde_json::Map<String, serde_json::Value> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect();
        serde_json::from_value(serde_json::Value::Object(object)).map_err(|e| e.to_string())
    }

    #[test]
    fn every_parameter_is_read_into_its_type() {
        let query = read(&[
            ("tenant", "acme"),
            ("from", "2026-11-24"),
            ("to", "2026-11-24T10:00:00Z"),
            ("request_id", "7"),
            ("verdict", "invalid"),
            ("before", "120"),
            ("limit", "500"),
        ])
        .expect("reads");
        assert_eq!(
            query,
            ReceiptsQuery {
                tenant: Some("acme".into()),
                from: Some(UtcTime(1_795_478_400_000_000)),
                to: Some(UtcTime(1_795_514_400_000_000)),
                request_id: Some(7),
                verdict: Some(ReceiptVerdict::Invalid),
                before: Some(120),
                limit: Some(500),
            }
        );
        assert_eq!(query.page_size(), 500);
        assert_eq!(ReceiptsQuery::default().page_size(), 50);
    }

    #[test]
    fn empty_fields_are_not_given() {
        let query = read(&[
            ("tenant", ""),
            ("from", " "),
            ("verdict", ""),
            ("limit", ""),
        ])
        .expect("reads");
        assert_eq!(query, ReceiptsQuery::default());
    }

    #[test]
    fn a_refusal_names_the_parameter_and_what_it_takes() {
        for (pairs, expected) in [
            (vec![("tenant", "Acme!")], "tenant: 1 to 64 characters"),
            (vec![("from", "yesterday")], "from: RFC 3339"),
            (vec![("to", "2026-13-01")], "to: RFC 3339"),
            (vec![("request_id", "x")], "request_id: a whole number"),
            (vec![("request_id", "-1")], "request_id: a whole number"),
            (
                vec![("verdict", "ok")],
                "verdict: valid, invalid or rejected",
            ),
            (vec![("before", "1.5")], "before: a ledger sequence number"),
            (vec![("limit", "0")], "limit: a whole number from 1 to 500"),
            (
                vec![("limit", "501")],
                "limit: a whole number from 1 to 500",
            ),
            (
                vec![("from", "2026-11-24"), ("to", "2026-11-24")],
                "from: 2026-11-24T00:00:00Z is not before to",
            ),
            (vec![("seq", "1")], "unknown field `seq`"),
        ] {
            let error = read(&pairs).expect_err(expected);
            assert!(error.contains(expected), "{pairs:?}: {error}");
        }
    }

    #[test]
    fn the_query_string_reads_back_as_the_same_query() {
        let query = ReceiptsQuery {
            tenant: Some("acme".into()),
            from: Some(UtcTime(1_795_478_400_000_000)),
            to: Some(UtcTime(1_795_514_400_000_001)),
            request_id: Some(7),
            verdict: Some(ReceiptVerdict::Rejected),
            before: Some(3),
            limit: Some(10),
        };
        let text = query.to_query_string();
        assert_eq!(
            text,
            "tenant=acme&from=2026-11-24T00%3A00%3A00Z&to=2026-11-24T10%3A00%3A00.000001Z\
             &request_id=7&verdict=rejected&before=3&limit=10"
        );
        let pairs: Vec<(String, String)> = text
            .split('&')
            .map(|pair| {
                let (k, v) = pair.split_once('=').expect("a pair");
                (k.to_owned(), v.replace("%3A", ":"))
            })
            .collect();
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (&**k, &**v)).collect();
        assert_eq!(read(&pairs), Ok(query.clone()));
        assert_eq!(query.after(9).before, Some(9));
        assert_eq!(ReceiptsQuery::default().to_query_string(), "");
    }

    #[test]
    fn a_reply_says_where_the_next_page_starts() {
        let reply = ReceiptsReply {
            receipts: Vec::new(),
            next_before: None,
        };
        assert_eq!(
            serde_json::to_value(&reply).expect("json"),
            json!({ "receipts": [], "next_before": null })
        );
    }
}
