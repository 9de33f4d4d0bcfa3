//! A tenant's connection that comes back: when the appliance closes it (idle, restart, a
//! network fault), requests on it fail and are counted, and it is re-established in the
//! background, as a partner would, so an hour's soak is not ended by one lost connection.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tf_partner::{Partner, PartnerConfig, PartnerError};

/// Wait between attempts to reconnect.
const RETRY: Duration = Duration::from_millis(500);

/// One QUIC connection as one tenant.
pub struct Link {
    config: PartnerConfig,
    current: Mutex<Arc<Partner>>,
    reconnecting: AtomicBool,
    reconnects: Arc<AtomicU64>,
}

impl Link {
    /// Connects; `reconnects` counts re-established connections across links.
    pub async fn connect(
        config: PartnerConfig,
        reconnects: Arc<AtomicU64>,
    ) -> Result<Arc<Link>, PartnerError> {
        let partner = Partner::connect(&config).await?;
        Ok(Arc::new(Link {
            config,
            current: Mutex::new(Arc::new(partner)),
            reconnecting: AtomicBool::new(false),
            reconnects,
        }))
    }

    /// The connection to send on now.
    pub fn partner(&self) -> Arc<Partner> {
        self.current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Closes the connection, telling the appliance the partner is done (instead of leaving
    /// it to time out as idle). Skipped if a reconnect still holds it.
    pub async fn close(self: Arc<Self>) {
        let Ok(link) = Arc::try_unwrap(self) else {
            return;
        };
        let partner = link.current.into_inner().unwrap_or_else(|p| p.into_inner());
        if let Ok(partner) = Arc::try_unwrap(partner) {
            partner.close().await;
        }
    }

    /// Called when a request on it found the connection gone: reconnects in the background
    /// (once, however many requests noticed).
    pub fn lost(self: &Arc<Self>) {
        if self.reconnecting.swap(true, Ordering::AcqRel) {
            return;
        }
        let link = self.clone();
        tokio::spawn(async move {
            loop {
                if let Ok(partner) = Partner::connect(&link.config).await {
                    *link.current.lock().unwrap_or_else(|p| p.into_inner()) = Arc::new(partner);
                    link.reconnects.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                tokio::time::sleep(RETRY).await;
            }
            link.reconnecting.store(false, Ordering::Release);
        });
    }
}
