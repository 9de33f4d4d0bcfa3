//! The admin server: the admin API (`/api/v1`), the ops console, `/metrics` and `/healthz`,
//! served by actix-web on the control thread. Handlers hold addresses of the control plane's
//! actors and read-only handles on the board; they talk to the actors by messages.

pub mod api;
pub mod auth;
mod console;
mod server;
pub mod session;

pub use api::ApiState;
pub use server::serve;
