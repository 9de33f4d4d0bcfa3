//! The service manager's notification protocol (systemd's sd_notify): one datagram per state
//! change, `KEY=value` lines, sent to the socket named by `$NOTIFY_SOCKET`. Without that
//! variable (not started by systemd with `Type=notify`) every call is a no-op.

use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;

/// A connection to the service manager.
#[derive(Debug)]
pub struct Notifier {
    socket: UnixDatagram,
    target: SocketAddr,
}

impl Notifier {
    /// The service manager named by `$NOTIFY_SOCKET`, if any. A socket that cannot be used is
    /// logged and treated as absent: the appliance still serves, systemd will time it out.
    pub fn from_env() -> Option<Notifier> {
        let name = std::env::var_os("NOTIFY_SOCKET")?;
        match Self::open(&name.to_string_lossy()) {
            Ok(notifier) => Some(notifier),
            Err(error) => {
                tracing::warn!(
                    socket = %name.to_string_lossy(),
                    %error,
                    "cannot use NOTIFY_SOCKET; the service manager will not hear READY=1"
                );
                None
            }
        }
    }

    /// A notifier for the socket `name` (a path, or `@name` for an abstract socket).
    pub fn open(name: &str) -> std::io::Result<Notifier> {
        let target = if let Some(abstract_name) = name.strip_prefix('@') {
            use std::os::linux::net::SocketAddrExt;
            SocketAddr::from_abstract_name(abstract_name.as_bytes())?
        } else if name.starts_with('/') {
            SocketAddr::from_pathname(name)?
        } else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "only filesystem paths and abstract (@) sockets are supported",
            ));
        };
        let socket = UnixDatagram::unbound()?;
        Ok(Notifier { socket, target })
    }

    /// Sends one notification, e.g. `READY=1\nSTATUS=serving`. A failure is logged, not
    /// fatal: losing a status line must not stop the data plane.
    pub fn send(&self, message: &str) {
        if let Err(error) = self.socket.send_to_addr(message.as_bytes(), &self.target) {
            tracing::warn!(%error, "notifying the service manager failed");
        }
    }
}

/// The watchdog interval systemd expects pings within (`$WATCHDOG_USEC`), when the watchdog is
/// on for this process (`$WATCHDOG_PID` unset or ours).
pub fn watchdog_interval() -> Option<Duration> {
    if let Some(pid) = std::env::var_os("WATCHDOG_PID")
        && pid.to_string_lossy().parse::<u32>().ok() != Some(std::process::id())
    {
        return None;
    }
    let micros: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    (micros > 0).then(|| Duration::from_micros(micros))
}
