//! A deadline on a request's body. actix-web bounds how long a request's headers may take, but
//! not its body: without this, a client that sends a large `Content-Length` and then trickles
//! bytes holds its connection for as long as it likes.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::error::{PayloadError, UrlencodedError};
use actix_web::rt::time::{Instant, Sleep, sleep_until};
use actix_web::web::Bytes;
use futures_lite::Stream;

/// The body of a request, ended with an error once `timeout` has passed.
pub fn limit(payload: Payload, timeout: Duration) -> Payload {
    let stream: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> = Box::pin(Deadline {
        inner: payload,
        sleep: Box::pin(sleep_until(Instant::now() + timeout)),
        expired: false,
    });
    Payload::from(stream)
}

/// Whether a body extractor failed because the body's deadline passed.
pub fn expired(error: &actix_web::Error) -> bool {
    let payload =
        error
            .as_error::<PayloadError>()
            .or_else(|| match error.as_error::<UrlencodedError>() {
                Some(UrlencodedError::Payload(payload)) => Some(payload),
                _ => None,
            });
    matches!(payload, Some(PayloadError::Io(io)) if io.get_ref().is_some_and(|e| e.is::<Expired>()))
}

/// The error a body ends with when its deadline passes.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
struct Expired;

struct Deadline {
    inner: Payload,
    sleep: Pin<Box<Sleep>>,
    expired: bool,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.expired {
            return Poll::Ready(None);
        }
        // What has arrived is handed on first: a body that made it is never refused.
        if let Poll::Ready(item) = Pin::new(&mut this.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        if this.sleep.as_mut().poll(cx).is_ready() {
            this.expired = true;
            let error = std::io::Error::new(std::io::ErrorKind::TimedOut, Expired);
            return Poll::Ready(Some(Err(PayloadError::Io(error))));
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use actix_web::FromRequest;
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn a_body_that_never_ends_fails_as_expired_and_one_that_arrived_is_read() {
        actix_web::rt::System::new().block_on(async {
            let (request, _) = TestRequest::post().to_http_parts();
            // A body whose sender stays open and silent.
            let stalled: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
                Box::pin(futures_lite::stream::pending());
            let mut payload = limit(Payload::from(stalled), Duration::from_millis(10));
            let error = Bytes::from_request(&request, &mut payload)
                .await
                .expect_err("the deadline ends it");
            assert!(expired(&error), "{error}");

            let (request, mut whole) = TestRequest::post().set_payload("all here").to_http_parts();
            let mut payload = limit(whole.take(), Duration::from_millis(10));
            let body = Bytes::from_request(&request, &mut payload)
                .await
                .expect("read");
            assert_eq!(&body[..], b"all here");
        });
    }
}
