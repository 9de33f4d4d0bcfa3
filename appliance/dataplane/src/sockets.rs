//! One UDP socket per shard, all bound to the listen address with SO_REUSEPORT so the kernel
//! spreads connections (by 4-tuple hash) across shards and a connection's packets always reach
//! the shard that accepted it.

#![allow(unsafe_code)]

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{FromRawFd, IntoRawFd};

use socket2::{Domain, Protocol, Socket, Type};

/// Socket buffer size asked for; the kernel caps it at `net.core.{r,w}mem_max` (the tuning
/// profile raises those).
pub const BUFFER_BYTES: usize = 4 << 20;

/// Binds `count` sockets to `address`. With port 0 the first socket picks a port and the
/// others join it. Returns the sockets and the address actually bound.
pub fn bind(address: SocketAddr, count: usize) -> io::Result<(Vec<UdpSocket>, SocketAddr)> {
    if address.port() != 0 {
        // SO_REUSEPORT would let a second appliance of the same user share the port and take
        // half the connections; an exclusive bind first makes that an error instead.
        drop(UdpSocket::bind(address).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("{e} (is another appliance already listening there?)"),
            )
        })?);
    }
    let mut bound = address;
    let mut sockets = Vec::with_capacity(count);
    for _ in 0..count.max(1) {
        let socket = reuseport_socket(bound)?;
        bound = socket.local_addr()?;
        sockets.push(socket);
    }
    Ok((sockets, bound))
}

fn reuseport_socket(address: SocketAddr) -> io::Result<UdpSocket> {
    let socket = Socket::new(
        Domain::for_address(address),
        Type::DGRAM,
        Some(Protocol::UDP),
    )?;
    socket.set_reuse_port(true)?;
    if address.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    // Best effort: a smaller buffer works, it just drops more under bursts.
    let _ = socket.set_recv_buffer_size(BUFFER_BYTES);
    let _ = socket.set_send_buffer_size(BUFFER_BYTES);
    socket.set_nonblocking(true)?;
    socket.bind(&address.into())?;
    Ok(socket.into())
}

/// Hands a bound socket to the current shard's io_uring reactor.
pub fn into_glommio(socket: UdpSocket) -> glommio::net::UdpSocket {
    let fd = socket.into_raw_fd();
    // SAFETY: `fd` comes from `into_raw_fd` on a socket we own, so it is an open UDP socket
    // that nothing else will use or close; glommio takes over its ownership.
    unsafe { glommio::net::UdpSocket::from_raw_fd(fd) }
}
