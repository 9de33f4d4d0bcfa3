//! What a delivery attempt's result means for the message and the endpoint.
//!
//! Follows the spec's status handling: only `2xx` acknowledges; redirects are failures (the
//! receiver should update its URL, and following them would let it steer our requests); `410
//! Gone` asks us to disable the endpoint; `429`, `502`, `503` and `504` ask us to slow down, and
//! their `Retry-After` is taken into account; everything else is retried on the ladder.

use crate::retry_after::parse_retry_after;

/// What to do after one attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// `2xx`: delivered; the message is done.
    Acknowledged,
    /// `410 Gone`: the receiver wants no more; disable the endpoint.
    Gone,
    /// The receiver is overloaded or rate limiting: retry, no earlier than the hint.
    RetryAfter {
        /// Why, for metrics.
        class: FailureClass,
        /// When `Retry-After` allows the next attempt (unix µs); `None` if absent or malformed.
        not_before_us: Option<u64>,
    },
    /// Any other failure: retry on the ladder.
    Retry(FailureClass),
}

/// A failure before any HTTP status was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportFailure {
    /// Connection refused, reset, or DNS failure.
    Connect,
    /// No complete response within the request timeout.
    Timeout,
    /// TLS handshake or certificate failure.
    Tls,
    /// The response exceeded the size we read.
    TooLarge,
    /// The host resolved only to addresses the endpoint may not reach (private, loopback,
    /// link-local, ...).
    Destination,
}

/// Why an attempt failed: the `reason` label of delivery-failure metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum FailureClass {
    /// The request timed out.
    Timeout,
    /// The connection could not be made or was lost.
    Connect,
    /// TLS failed.
    Tls,
    /// A `4xx` other than `429` (`410` included).
    Status4xx,
    /// A `5xx`.
    Status5xx,
    /// `429 Too Many Requests`.
    RateLimited,
    /// A `3xx`; redirects are not followed.
    Redirect,
    /// The response was larger than we read.
    TooLarge,
    /// A status outside 200..=599 that is not a success (a stray `1xx`, or nonsense).
    StatusOther,
    /// The destination check refused every address of the endpoint's host.
    Destination,
}

impl FailureClass {
    /// Every class, so metrics can pre-register their label values.
    pub const ALL: [FailureClass; 10] = [
        Self::Timeout,
        Self::Connect,
        Self::Tls,
        Self::Status4xx,
        Self::Status5xx,
        Self::RateLimited,
        Self::Redirect,
        Self::TooLarge,
        Self::StatusOther,
        Self::Destination,
    ];

    /// The metric label value. Stable: dashboards and alerts match on it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Connect => "connect",
            Self::Tls => "tls",
            Self::Status4xx => "status_4xx",
            Self::Status5xx => "status_5xx",
            Self::RateLimited => "rate_limited",
            Self::Redirect => "redirect",
            Self::TooLarge => "too_large",
            Self::StatusOther => "status_other",
            Self::Destination => "destination",
        }
    }
}

impl Outcome {
    /// Classifies a response by its status and `Retry-After` value (if the header was sent).
    /// `now_us` anchors a delay-seconds `Retry-After`; a malformed one is ignored.
    pub fn from_status(status: u16, retry_after: Option<&str>, now_us: u64) -> Self {
        let throttled = |class| Self::RetryAfter {
            class,
            not_before_us: retry_after.and_then(|value| parse_retry_after(value, now_us).ok()),
        };
        match status {
            200..=299 => Self::Acknowledged,
            410 => Self::Gone,
            429 => throttled(FailureClass::RateLimited),
            502..=504 => throttled(FailureClass::Status5xx),
            300..=399 => Self::Retry(FailureClass::Redirect),
            400..=499 => Self::Retry(FailureClass::Status4xx),
            500..=599 => Self::Retry(FailureClass::Status5xx),
            _ => Self::Retry(FailureClass::StatusOther),
        }
    }

    /// Classifies a failure that produced no status; all are retried.
    pub fn from_transport(failure: TransportFailure) -> Self {
        Self::Retry(match failure {
            TransportFailure::Connect => FailureClass::Connect,
            TransportFailure::Timeout => FailureClass::Timeout,
            TransportFailure::Tls => FailureClass::Tls,
            TransportFailure::TooLarge => FailureClass::TooLarge,
            TransportFailure::Destination => FailureClass::Destination,
        })
    }

    /// The failure's metrics class; `None` for an acknowledgement.
    pub fn failure_class(&self) -> Option<FailureClass> {
        match *self {
            Self::Acknowledged => None,
            Self::Gone => Some(FailureClass::Status4xx),
            Self::RetryAfter { class, .. } | Self::Retry(class) => Some(class),
        }
    }

    /// Whether the message should be attempted again (subject to the ladder's horizon).
    pub fn should_retry(&self) -> bool {
        matches!(self, Self::RetryAfter { .. } | Self::Retry(_))
    }

    /// The `Retry-After` time to pass to [`crate::RetryLadder::next_attempt_at`].
    pub fn retry_after_us(&self) -> Option<u64> {
        match *self {
            Self::RetryAfter { not_before_us, .. } => not_before_us,
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000_000_000;

    #[test]
    fn status_table() {
        use FailureClass::*;
        let hint = |class| Outcome::RetryAfter {
            class,
            not_before_us: None,
        };
        let table = [
            (200, Outcome::Acknowledged),
            (202, Outcome::Acknowledged),
            (204, Outcome::Acknowledged),
            (299, Outcome::Acknowledged),
            (100, Outcome::Retry(StatusOther)),
            (0, Outcome::Retry(StatusOther)),
            (600, Outcome::Retry(StatusOther)),
            (301, Outcome::Retry(Redirect)),
            (307, Outcome::Retry(Redirect)),
            (308, Outcome::Retry(Redirect)),
            (400, Outcome::Retry(Status4xx)),
            (401, Outcome::Retry(Status4xx)),
            (404, Outcome::Retry(Status4xx)),
            (409, Outcome::Retry(Status4xx)),
            (410, Outcome::Gone),
            (413, Outcome::Retry(Status4xx)),
            (429, hint(RateLimited)),
            (500, Outcome::Retry(Status5xx)),
            (501, Outcome::Retry(Status5xx)),
            (502, hint(Status5xx)),
            (503, hint(Status5xx)),
            (504, hint(Status5xx)),
            (505, Outcome::Retry(Status5xx)),
            (599, Outcome::Retry(Status5xx)),
        ];
        for (status, expected) in table {
            assert_eq!(
                Outcome::from_status(status, None, NOW),
                expected,
                "{status}"
            );
            assert_eq!(
                expected.should_retry(),
                status != 410 && !(200..300).contains(&status)
            );
        }
        assert_eq!(Outcome::Gone.failure_class(), Some(Status4xx));
        assert_eq!(Outcome::Acknowledged.failure_class(), None);
    }

    #[test]
    fn retry_after_is_read_only_where_the_spec_says_to_throttle() {
        let in_a_minute = Some(NOW + 60_000_000);
        for status in [429, 502, 503, 504] {
            let outcome = Outcome::from_status(status, Some("60"), NOW);
            assert_eq!(outcome.retry_after_us(), in_a_minute, "{status}");
            let dated = Outcome::from_status(status, Some("Tue, 14 Nov 2023 22:14:20 GMT"), NOW);
            assert_eq!(dated.retry_after_us(), in_a_minute, "{status}");
            // Malformed: ignored, still throttled.
            let junk = Outcome::from_status(status, Some("in a bit"), NOW);
            assert!(
                matches!(
                    junk,
                    Outcome::RetryAfter {
                        not_before_us: None,
                        ..
                    }
                ),
                "{status}"
            );
        }
        for status in [200, 301, 404, 410, 500] {
            assert_eq!(
                Outcome::from_status(status, Some("60"), NOW).retry_after_us(),
                None
            );
        }
    }

    #[test]
    fn transport_failures_are_retried_with_their_class() {
        use FailureClass::*;
        let table = [
            (TransportFailure::Connect, Connect),
            (TransportFailure::Timeout, Timeout),
            (TransportFailure::Tls, Tls),
            (TransportFailure::TooLarge, TooLarge),
        ];
        for (failure, class) in table {
            assert_eq!(Outcome::from_transport(failure), Outcome::Retry(class));
        }
    }

    #[test]
    fn labels_are_stable_and_distinct() {
        let labels: Vec<&str> = FailureClass::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            labels,
            [
                "timeout",
                "connect",
                "tls",
                "status_4xx",
                "status_5xx",
                "rate_limited",
                "redirect",
                "too_large",
                "status_other",
                "destination"
            ]
        );
    }
}
