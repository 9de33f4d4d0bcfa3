//! The HTTP side of the receiver: actix-web on one worker, each POST checked in order (size,
//! faults, signature, duplicate, body, receipts) and recorded before it is answered.

use std::io::{self, Write};
use std::net::TcpListener;
use std::sync::{Mutex, MutexGuard};

use actix_web::http::{Method, StatusCode, header};
use actix_web::rt::signal::unix::{SignalKind, signal};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use ed25519_dalek::VerifyingKey;
use tf_webhooks::{HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, VerifierKey, WebhookHeaders};

use super::faults::{Fault, Faults};
use super::receive::{self, Refusal};
use super::store::{Recorded, Store};

/// How long requests in flight may finish after SIGTERM; held (`--hang-percent`) ones are cut.
const SHUTDOWN_GRACE_S: u64 = 1;

/// Everything a request is checked and recorded with.
pub struct Receiver {
    /// Webhook signing keys trusted.
    pub keys: Vec<VerifierKey>,
    /// The appliance's receipt key.
    pub receipt_key: VerifyingKey,
    /// `webhook-timestamp` tolerance either way, seconds.
    pub tolerance_s: u64,
    /// Larger bodies get 413.
    pub max_body_bytes: usize,
    /// Faults on purpose.
    pub faults: Faults,
    /// The record; one writer at a time keeps each message's lines together.
    pub store: Mutex<Store>,
}

/// Serves on `listener` until SIGTERM or SIGINT. Prints `listening on http://ADDR` once the
/// signal handlers are in place, so whoever waits for the line can stop it cleanly at once.
pub fn serve(listener: TcpListener, receiver: Receiver) -> io::Result<()> {
    let address = listener.local_addr()?;
    actix_web::rt::System::new().block_on(async move {
        let receiver = web::Data::new(receiver);
        let server = HttpServer::new(move || {
            App::new()
                .app_data(receiver.clone())
                .default_service(web::to(handle))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(SHUTDOWN_GRACE_S)
        .listen(listener)?
        .run();
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        let handle = server.handle();
        actix_web::rt::spawn(async move {
            futures_lite::future::or(terminate.recv(), interrupt.recv()).await;
            handle.stop(true).await;
        });
        let mut stdout = io::stdout().lock();
        writeln!(stdout, "listening on http://{address}")?;
        stdout.flush()?;
        drop(stdout);
        server.await
    })
}

/// What became of a message, for the answer and the log line.
enum Verdict {
    Recorded { event_type: String, receipts: usize },
    Duplicate,
    Malformed(String),
    Rejected { receipts: usize, reason: String },
}

async fn handle(
    request: HttpRequest,
    payload: web::Payload,
    receiver: web::Data<Receiver>,
) -> HttpResponse {
    let id = header_value(&request, HEADER_ID);
    let unread = About::default();
    if request.method() != Method::POST {
        let mut response = answer(
            id,
            unread,
            StatusCode::METHOD_NOT_ALLOWED,
            "refused",
            "POST a webhook here",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
        return response;
    }
    let declared = header_value(&request, header::CONTENT_LENGTH.as_str())
        .and_then(|length| length.parse::<u64>().ok());
    if declared.is_some_and(|length| length > receiver.max_body_bytes as u64) {
        return too_large(id, receiver.max_body_bytes);
    }
    let body = match payload.to_bytes_limited(receiver.max_body_bytes).await {
        Ok(Ok(body)) => body,
        Ok(Err(e)) => {
            let reason = format!("reading the body: {e}");
            return answer(id, unread, StatusCode::BAD_REQUEST, "malformed", &reason);
        }
        Err(_) => return too_large(id, receiver.max_body_bytes),
    };

    if let Some(fault) = receiver.faults.draw() {
        return injected(id, fault).await;
    }

    let received_at_us = tf_seam::clock::unix_micros();
    let headers = WebhookHeaders {
        id,
        timestamp: header_value(&request, HEADER_TIMESTAMP),
        signature: header_value(&request, HEADER_SIGNATURE),
    };
    let verified = tf_webhooks::verify(
        &headers,
        &body,
        &receiver.keys,
        received_at_us / 1_000_000,
        receiver.tolerance_s,
    );
    if let Err(e) = verified {
        return answer(
            id,
            unread,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            &e.to_string(),
        );
    }
    // Present and non-empty: the signature check requires it.
    let id = headers.id.unwrap_or_default().to_owned();

    // Receipt signatures and fsync would stall the event loop: they run on the blocking pool.
    let checked = {
        let (receiver, id) = (receiver.clone(), id.clone());
        web::block(move || accept(&receiver, &id, &body, received_at_us)).await
    };
    let id = Some(id.as_str());
    let verdict = match checked {
        Ok(Ok(verdict)) => verdict,
        Ok(Err(e)) => return not_recorded(id, &e.to_string()),
        Err(e) => return not_recorded(id, &e.to_string()),
    };
    match verdict {
        Verdict::Recorded {
            event_type,
            receipts,
        } => {
            let about = About {
                event_type: Some(&event_type),
                receipts: Some(receipts),
            };
            answer(id, about, StatusCode::OK, "recorded", "")
        }
        Verdict::Duplicate => answer(id, unread, StatusCode::OK, "duplicate", ""),
        Verdict::Malformed(reason) => {
            answer(id, unread, StatusCode::BAD_REQUEST, "malformed", &reason)
        }
        Verdict::Rejected { receipts, reason } => {
            let about = About {
                event_type: Some(tf_webhooks::EventType::ReceiptIssued.as_str()),
                receipts: Some(receipts),
            };
            answer(
                id,
                about,
                StatusCode::UNPROCESSABLE_ENTITY,
                "rejected",
                &reason,
            )
        }
    }
}

/// Checks a signed message and records it unless it was recorded before.
fn accept(receiver: &Receiver, id: &str, body: &[u8], received_at_us: u64) -> io::Result<Verdict> {
    // A retry of a recorded message is answered without checking it again; the lock is not
    // held while receipts are checked (`record` looks for the id again under it).
    if lock(&receiver.store)?.contains(id) {
        return Ok(Verdict::Duplicate);
    }
    match receive::judge(body, &receiver.receipt_key) {
        Ok(message) => {
            let recorded = lock(&receiver.store)?.record(id, received_at_us, &message, body)?;
            Ok(match recorded {
                Recorded::New => Verdict::Recorded {
                    event_type: message.event_type,
                    receipts: message.receipts.len(),
                },
                Recorded::Duplicate => Verdict::Duplicate,
            })
        }
        Err(Refusal::Malformed(reason)) => Ok(Verdict::Malformed(reason)),
        Err(Refusal::Receipt {
            timestamp,
            receipts,
            reason,
        }) => {
            lock(&receiver.store)?.reject(id, received_at_us, &timestamp, &reason, body)?;
            Ok(Verdict::Rejected { receipts, reason })
        }
    }
}

fn lock(store: &Mutex<Store>) -> io::Result<MutexGuard<'_, Store>> {
    // Only a bug panics under the lock; the files it may have left are repaired at start.
    store
        .lock()
        .map_err(|_| io::Error::other("the record is unusable after a panic; restart the receiver"))
}

async fn injected(id: Option<&str>, fault: Fault) -> HttpResponse {
    let unread = About::default();
    match fault {
        Fault::Fail => answer(
            id,
            unread,
            StatusCode::INTERNAL_SERVER_ERROR,
            "fault",
            "--fail-percent",
        ),
        Fault::Throttle(retry_after_s) => {
            let mut response = answer(
                id,
                unread,
                StatusCode::TOO_MANY_REQUESTS,
                "fault",
                "--throttle-percent",
            );
            response.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(retry_after_s),
            );
            response
        }
        Fault::Hang(hold) => {
            actix_web::rt::time::sleep(hold).await;
            let reason = format!("--hang-percent, held {} s", hold.as_secs());
            answer(
                id,
                unread,
                StatusCode::INTERNAL_SERVER_ERROR,
                "fault",
                &reason,
            )
        }
    }
}

fn too_large(id: Option<&str>, max: usize) -> HttpResponse {
    let reason = format!("body over {max} bytes (--max-body-bytes)");
    answer(
        id,
        About::default(),
        StatusCode::PAYLOAD_TOO_LARGE,
        "too-large",
        &reason,
    )
}

fn not_recorded(id: Option<&str>, error: &str) -> HttpResponse {
    let reason = format!("recording: {error}");
    answer(
        id,
        About::default(),
        StatusCode::INTERNAL_SERVER_ERROR,
        "error",
        &reason,
    )
}

/// What the log line says of a message beyond its id (`-` when it was not read).
#[derive(Clone, Copy, Default)]
struct About<'a> {
    event_type: Option<&'a str>,
    receipts: Option<usize>,
}

/// The answer (its body the reason, or the verdict), and the message's line on stderr.
fn answer(
    id: Option<&str>,
    about: About<'_>,
    status: StatusCode,
    verdict: &str,
    reason: &str,
) -> HttpResponse {
    let receipts = about
        .receipts
        .map_or_else(|| "-".to_owned(), |n| n.to_string());
    // Debug quoting: the id is unchecked when the signature failed, the reason may quote it.
    eprintln!(
        "webhook id={:?} type={} receipts={receipts} status={} verdict={verdict}{}",
        id.unwrap_or("-"),
        about.event_type.unwrap_or("-"),
        status.as_u16(),
        if reason.is_empty() {
            String::new()
        } else {
            format!(" reason={reason:?}")
        }
    );
    let text = if reason.is_empty() { verdict } else { reason };
    HttpResponse::build(status)
        .content_type("text/plain; charset=utf-8")
        .body(format!("{text}\n"))
}

fn header_value<'a>(request: &'a HttpRequest, name: &str) -> Option<&'a str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
}
