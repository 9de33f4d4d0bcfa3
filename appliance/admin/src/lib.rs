//! The admin server: the admin API (`/api/v1`), the ops console, `/metrics`, `/healthz` and
//! the transparency log's tiles,
//! served by actix-web on the control thread. Handlers hold addresses of the control plane's
//! actors and read-only handles on the board; they talk to the actors by messages.

pub mod api;
pub mod auth;
mod canary_metrics;
mod compliance_metrics;
mod console;
mod deadline;
mod gate;
mod ledger_health_metrics;
mod scenario_metrics;

pub mod hosts;
mod log;
mod server;
pub mod session;
pub mod storage_metrics;
pub mod throttle;
pub mod tls;
mod webhook_metrics;

pub use api::{ApiState, WebhooksApi};
pub use hosts::AllowedHosts;
pub use server::{MAX_CONNECTIONS, Options, serve};
