//! Webhook deliveries on the wire: the appliance's side of one `POST` to an auditor's
//! endpoint. [`Destination`] reads an endpoint's URL and [`address_allowed`] decides which
//! resolved addresses it may reach; [`Session`] makes attempts over a kept-alive HTTP/1.1
//! connection (TLS by [`client_config`]) within one deadline and hands back the [`Answer`] or
//! the [`Failure`]. What an answer means, and when to try again, is `tf-webhooks`' business.

mod destination;
mod post;
mod tls;

pub use destination::{Destination, MAX_URL_BYTES, UrlError, address_allowed};
pub use post::{Answer, DEFAULT_MAX_ANSWER_BYTES, Failure, PostLimits, Session};
pub use tls::{TlsSetupError, client_config};
