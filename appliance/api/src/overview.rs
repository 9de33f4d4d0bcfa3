//! `GET /api/v1/overview`: totals since start per tenant and outcome, decision latency as
//! cumulative buckets, connections and queue depth. A reader diffs two readings for rates and
//! recent percentiles (the console's live overview does).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::{KnownFormat, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::ids::TenantId;

/// The reply of `GET /api/v1/overview`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OverviewReply {
    /// Every tenant the shards serve, in slot order.
    pub tenants: Vec<TenantTotals>,
    /// Received to decided, over every statement kind and shard.
    pub decision_latency_seconds: LatencyHistogram,
    /// Requests queued for verification now, over every shard.
    pub queued: u64,
    /// Open partner connections now, over every shard.
    pub connections: u64,
    /// When this reading was taken, Unix milliseconds.
    pub at_unix_ms: u64,
    /// Answers delivered since start, over every shard.
    pub answered: u64,
}

/// One tenant's requests since start.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TenantTotals {
    /// The tenant.
    pub tenant: TenantId,
    /// Its requests by outcome.
    pub outcomes: Outcomes,
}

/// Requests by outcome, since start. The fields are the outcomes of the
/// `appliance_requests_total` metric, in its order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Outcomes {
    /// Verified.
    pub valid: u64,
    /// Well formed, did not verify.
    pub invalid: u64,
    /// Malformed, refused before verification.
    pub rejected: u64,
    /// Refused: above the tenant's admission rate.
    pub over_rate: u64,
    /// Refused: the shard's queue for the tenant was full.
    pub mailbox_full: u64,
    /// Refused: a verifying key the tenant may not use or that is not known.
    pub unknown_key: u64,
    /// Refused: a budget cap ran out.
    pub over_budget: u64,
    /// Refused by the bundle's Cedar policies.
    pub denied_by_policy: u64,
}

/// Cumulative latency buckets, Prometheus style.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LatencyHistogram {
    /// Every bucket, bounds rising, the last one `+Inf`.
    pub buckets: Vec<LatencyBucket>,
    /// How many were observed (the `+Inf` bucket's count).
    pub count: u64,
}

/// How many took at most `le` seconds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LatencyBucket {
    /// The bucket's upper bound, seconds.
    pub le: BucketBound,
    /// Observations at or below it.
    pub count: u64,
}

/// A bucket's upper bound: seconds as a JSON number, or the string `"+Inf"` for the last one.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum BucketBound {
    /// A finite bound, seconds.
    Finite(f64),
    /// The last bucket, which holds everything.
    Infinite,
}

impl Outcomes {
    /// The outcomes as the JSON and the metrics name them, in field order.
    pub const NAMES: [&'static str; 8] = [
        "valid",
        "invalid",
        "rejected",
        "over_rate",
        "mailbox_full",
        "unknown_key",
        "over_budget",
        "denied_by_policy",
    ];

    /// Counts given in the order of [`Outcomes::NAMES`].
    pub fn from_counts(counts: [u64; 8]) -> Self {
        let [
            valid,
            invalid,
            rejected,
            over_rate,
            mailbox_full,
            unknown_key,
            over_budget,
            denied_by_policy,
        ] = counts;
        Outcomes {
            valid,
            invalid,
            rejected,
            over_rate,
            mailbox_full,
            unknown_key,
            over_budget,
            denied_by_policy,
        }
    }

    /// The counts in the order of [`Outcomes::NAMES`].
    pub fn counts(&self) -> [u64; 8] {
        [
            self.valid,
            self.invalid,
            self.rejected,
            self.over_rate,
            self.mailbox_full,
            self.unknown_key,
            self.over_budget,
            self.denied_by_policy,
        ]
    }

    /// The outcomes that are refusals: the request was well formed, and the tenant's terms,
    /// its budget or the appliance's load turned it away before verification.
    pub const REFUSALS: [&'static str; 5] = [
        "over_rate",
        "mailbox_full",
        "unknown_key",
        "over_budget",
        "denied_by_policy",
    ];

    /// The outcomes that are errors: the request could not be decided (`rejected`: malformed,
    /// refused before verification). An invalid proof is not one: `invalid` is a verdict.
    pub const ERRORS: [&'static str; 1] = ["rejected"];

    /// Every request counted, whatever its outcome.
    pub fn total(&self) -> u64 {
        self.counts().iter().sum()
    }

    /// Verdicts reached by verification: valid and invalid.
    pub fn verified(&self) -> u64 {
        self.valid + self.invalid
    }

    /// Refusals ([`Outcomes::REFUSALS`]).
    pub fn refused(&self) -> u64 {
        self.over_rate
            + self.mailbox_full
            + self.unknown_key
            + self.over_budget
            + self.denied_by_policy
    }

    /// Errors ([`Outcomes::ERRORS`]).
    pub fn errors(&self) -> u64 {
        self.rejected
    }

    /// The counts that grew from `earlier` to `self` (a counter read twice).
    pub fn since(&self, earlier: &Outcomes) -> Outcomes {
        let (now, then) = (self.counts(), earlier.counts());
        Outcomes::from_counts(std::array::from_fn(|i| now[i].saturating_sub(then[i])))
    }
}

impl LatencyHistogram {
    /// The `q` quantile (0 to 1) of the observations made between `earlier` (a reading of the
    /// same histogram; `None`: since start) and this reading, seconds, interpolated inside the
    /// bucket it falls in (the last bucket is taken to reach twice its lower bound). `None`
    /// when nothing was observed in between.
    pub fn quantile_since(&self, earlier: Option<&LatencyHistogram>, q: f64) -> Option<f64> {
        let before = |i: usize| {
            earlier
                .and_then(|e| e.buckets.get(i))
                .map_or(0, |bucket| bucket.count)
        };
        let counts: Vec<u64> = (self.buckets.iter().enumerate())
            .map(|(i, bucket)| bucket.count.saturating_sub(before(i)))
            .collect();
        let total = *counts.last()?;
        if total == 0 {
            return None;
        }
        let rank = q.clamp(0.0, 1.0) * total as f64;
        let mut lower = 0.0;
        for (i, bucket) in self.buckets.iter().enumerate() {
            let upper = match bucket.le {
                BucketBound::Finite(bound) => bound,
                BucketBound::Infinite if lower > 0.0 => lower * 2.0,
                BucketBound::Infinite => 10.0,
            };
            let count = counts[i] as f64;
            if count >= rank {
                let below = if i == 0 { 0.0 } else { counts[i - 1] as f64 };
                let inside = count - below;
                let fraction = if inside > 0.0 {
                    (rank - below) / inside
                } else {
                    1.0
                };
                return Some(lower + (upper - lower) * fraction);
            }
            lower = upper;
        }
        None
    }
}

impl BucketBound {
    /// The JSON text of the last bound.
    pub const INFINITE: &'static str = "+Inf";

    /// `bound` as the reply gives it: anything not finite is the last bucket.
    pub fn from_seconds(bound: f64) -> Self {
        if bound.is_finite() {
            BucketBound::Finite(bound)
        } else {
            BucketBound::Infinite
        }
    }

    /// The bound in seconds (infinite for the last bucket).
    pub fn seconds(self) -> f64 {
        match self {
            BucketBound::Finite(bound) => bound,
            BucketBound::Infinite => f64::INFINITY,
        }
    }
}

impl Serialize for BucketBound {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            BucketBound::Finite(bound) => serializer.serialize_f64(*bound),
            BucketBound::Infinite => serializer.serialize_str(Self::INFINITE),
        }
    }
}

impl<'de> Deserialize<'de> for BucketBound {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Number(f64),
            Text(String),
        }
        match Written::deserialize(deserializer)? {
            Written::Number(bound) => Ok(BucketBound::Finite(bound)),
            Written::Text(text) if text == Self::INFINITE => Ok(BucketBound::Infinite),
            Written::Text(text) => Err(serde::de::Error::custom(format!(
                "a bucket bound is a number of seconds or \"+Inf\", not {text:?}"
            ))),
        }
    }
}

impl PartialSchema for BucketBound {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Number)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Double)))
                    .description(Some("A finite bound, seconds")),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some([Self::INFINITE]))
                    .description(Some("The last bucket, which holds everything")),
            )
            .description(Some(
                "A bucket's upper bound: seconds as a number, or \"+Inf\" for the last one",
            ))
            .into()
    }
}

impl ToSchema for BucketBound {}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::testing::assert_same_json;

    #[test]
    fn an_overview_reads_as_the_server_wrote_it() {
        let names = ["demo", "acme"];
        let counts: [[u64; 8]; 2] = [[10, 1, 2, 3, 0, 0, 4, 0], [0, 0, 0, 0, 5, 6, 0, 7]];
        let bounds = [0.0005, 0.001, 0.0025, 1.0, 10.0, f64::INFINITY];
        let cumulative = [1u64, 3, 3, 20, 21, 22];
        let typed = OverviewReply {
            tenants: names
                .iter()
                .zip(counts)
                .map(|(tenant, counts)| TenantTotals {
                    tenant: (*tenant).into(),
                    outcomes: Outcomes::from_counts(counts),
                })
                .collect(),
            decision_latency_seconds: LatencyHistogram {
                buckets: bounds
                    .iter()
                    .zip(cumulative)
                    .map(|(bound, count)| LatencyBucket {
                        le: BucketBound::from_seconds(*bound),
                        count,
                    })
                    .collect(),
                count: 22,
            },
            queued: 4,
            connections: 9,
            at_unix_ms: 1_767_323_045_123,
            answered: 41,
        };

        // metrics/summary.rs `overview`, then api.rs `overview_value` adds the last two.
        let tenants: Vec<Value> = names
            .iter()
            .zip(counts)
            .map(|(tenant, counts)| {
                let mut outcomes = serde_json::Map::new();
                for (o, outcome) in Outcomes::NAMES.iter().enumerate() {
                    outcomes.insert((*outcome).to_owned(), json!(counts[o]));
                }
                json!({ "tenant": tenant, "outcomes": outcomes })
            })
            .collect();
        let buckets: Vec<Value> = bounds
            .iter()
            .zip(cumulative)
            .map(|(&bound, count)| {
                json!({ "le": if bound.is_finite() { json!(bound) } else { json!("+Inf") }, "count": count })
            })
            .collect();
        let mut expected = json!({
            "tenants": tenants,
            "decision_latency_seconds": { "buckets": buckets, "count": 22u64 },
            "queued": 4usize,
            "connections": 9u64,
        });
        expected["at_unix_ms"] = json!(1_767_323_045_123u64);
        expected["answered"] = json!(41u64);
        assert_same_json(&typed, expected);
    }

    #[test]
    fn outcome_names_are_the_fields_in_order() {
        let counts = [1, 2, 3, 4, 5, 6, 7, 8];
        let outcomes = Outcomes::from_counts(counts);
        assert_eq!(outcomes.counts(), counts);
        assert_eq!(outcomes.total(), 36);
        let value = serde_json::to_value(outcomes).expect("serialises");
        let keys: Vec<&str> = value
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, Outcomes::NAMES);
        for (name, count) in Outcomes::NAMES.iter().zip(counts) {
            assert_eq!(value[*name], json!(count), "{name}");
        }
    }

    #[test]
    fn every_outcome_is_a_verdict_a_refusal_or_an_error_and_invalid_is_no_error() {
        let counts = [1, 2, 4, 8, 16, 32, 64, 128];
        let outcomes = Outcomes::from_counts(counts);
        assert_eq!(outcomes.verified(), 3);
        assert_eq!(outcomes.errors(), 4);
        assert_eq!(outcomes.refused(), 8 + 16 + 32 + 64 + 128);
        assert_eq!(
            outcomes.verified() + outcomes.refused() + outcomes.errors(),
            outcomes.total()
        );
        // The names say the same as the sums.
        let named = |names: &[&str]| -> u64 {
            names
                .iter()
                .map(|n| counts[Outcomes::NAMES.iter().position(|m| m == n).expect(n)])
                .sum()
        };
        assert_eq!(named(&Outcomes::REFUSALS), outcomes.refused());
        assert_eq!(named(&Outcomes::ERRORS), outcomes.errors());
        assert!(!Outcomes::ERRORS.contains(&"invalid"));
        let later = Outcomes::from_counts(counts.map(|c| c * 3));
        assert_eq!(later.since(&outcomes).counts(), counts.map(|c| c * 2));
        assert_eq!(
            outcomes.since(&later),
            Outcomes::default(),
            "never below zero"
        );
    }

    fn histogram(cumulative: [u64; 4]) -> LatencyHistogram {
        let bounds = [0.001, 0.01, 0.1, f64::INFINITY];
        LatencyHistogram {
            buckets: bounds
                .iter()
                .zip(cumulative)
                .map(|(bound, count)| LatencyBucket {
                    le: BucketBound::from_seconds(*bound),
                    count,
                })
                .collect(),
            count: cumulative[3],
        }
    }

    #[test]
    fn a_quantile_is_of_what_was_observed_in_between() {
        let earlier = histogram([100, 100, 100, 100]);
        // Since then: 90 in (0.001, 0.01], 10 in (0.01, 0.1].
        let now = histogram([100, 190, 200, 200]);
        let p50 = now.quantile_since(Some(&earlier), 0.5).expect("observed");
        assert!((p50 - (0.001 + 0.009 * 50.0 / 90.0)).abs() < 1e-12, "{p50}");
        let p99 = now.quantile_since(Some(&earlier), 0.99).expect("observed");
        assert!((p99 - (0.01 + 0.09 * 9.0 / 10.0)).abs() < 1e-12, "{p99}");
        assert_eq!(now.quantile_since(Some(&now), 0.99), None, "nothing new");
        // Since start, the 100 first ones are at most 1 ms.
        let since_start = now.quantile_since(None, 0.25).expect("observed");
        assert!(since_start <= 0.001, "{since_start}");
        // Past the last finite bound: up to twice it.
        let slow = histogram([0, 0, 0, 10]);
        assert_eq!(slow.quantile_since(None, 1.0), Some(0.2));
    }

    #[test]
    fn a_bound_is_a_number_or_plus_inf_and_nothing_else() {
        assert_eq!(json!(BucketBound::Finite(0.0025)), json!(0.0025));
        assert_eq!(json!(BucketBound::Finite(1.0)).to_string(), "1.0");
        assert_eq!(json!(BucketBound::Infinite), json!("+Inf"));
        assert_eq!(
            BucketBound::from_seconds(f64::INFINITY),
            BucketBound::Infinite
        );
        assert_eq!(BucketBound::Infinite.seconds(), f64::INFINITY);
        assert!(serde_json::from_str::<BucketBound>("\"-Inf\"").is_err());
        assert!(serde_json::from_str::<BucketBound>("null").is_err());
    }
}
