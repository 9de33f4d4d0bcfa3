//! The transparency log, read-only, at the C2SP tlog-tiles paths: `/checkpoint` and
//! `/tile/<L>/<N>[.p/<W>]`, `/tile/entries/<N>[.p/<W>]`. No token: the log holds only hashes,
//! and auditors mirror it with any standard client.

use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::{HttpResponse, web};
use tf_log::{LogDir, ServeError};

/// Adds the log's routes (when the appliance runs a log).
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/checkpoint", web::get().to(checkpoint))
        .route("/tile/{path:.*}", web::get().to(tile));
}

async fn checkpoint(log: web::Data<LogDir>) -> HttpResponse {
    match log.checkpoint() {
        Ok(Some(note)) => HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .insert_header((CACHE_CONTROL, HeaderValue::from_static("no-cache")))
            .body(note),
        Ok(None) => not_found("the log has no checkpoint yet"),
        Err(error) => unavailable(&error.to_string()),
    }
}

async fn tile(log: web::Data<LogDir>, path: web::Path<String>) -> HttpResponse {
    let size = match tf_log::checkpoint_size(&log) {
        Ok(Some(size)) => size,
        Ok(None) => return not_found("the log has no checkpoint yet"),
        Err(error) => return unavailable(&error.to_string()),
    };
    match tf_log::serve(&log, &format!("tile/{}", path.into_inner()), size) {
        Ok(served) => {
            let cache = match served.immutable {
                true => "public, max-age=31536000, immutable",
                false => "no-cache",
            };
            HttpResponse::Ok()
                .content_type("application/octet-stream")
                .insert_header((CACHE_CONTROL, HeaderValue::from_static(cache)))
                .body(served.bytes)
        }
        Err(error @ (ServeError::BadPath(_) | ServeError::Beyond(_))) => {
            not_found(&error.to_string())
        }
        Err(error) => {
            tracing::error!(%error, "a log tile could not be served");
            unavailable(&error.to_string())
        }
    }
}

fn not_found(why: &str) -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("text/plain; charset=utf-8")
        .body(format!("{why}\n"))
}

fn unavailable(why: &str) -> HttpResponse {
    HttpResponse::ServiceUnavailable()
        .content_type("text/plain; charset=utf-8")
        .body(format!("{why}\n"))
}
