#if canImport(Glibc)
import Glibc
#endif

/// A listening TCP (or Unix stream) socket bound to `address`, like
/// Python's `socket.create_server`.
///
/// `SO_REUSEADDR` is set (except on Unix sockets). An IPv6 server accepts
/// only IPv6 peers unless `dualStack` is set, which makes it accept IPv4
/// peers too (as IPv4-mapped addresses).
///
/// - Parameters:
///   - address: where to listen; port 0 picks a free port (see `localAddress()`).
///   - backlog: the listen queue; default 128.
///   - reusePort: set `SO_REUSEPORT`, so that several servers share the port.
///   - dualStack: for an IPv6 address, also accept IPv4 connections.
///   - hub: the hub the socket belongs to; default the current hub, else `Hub.default`.
/// - Throws: `InvalidArgument` for `dualStack` with a non-IPv6 address or a
///   negative backlog; `SystemError` naming the address (EADDRINUSE, ...).
public func createServer(address: SocketAddress, backlog: Int? = nil, reusePort: Bool = false, dualStack: Bool = false,
                         hub: Hub? = nil) throws -> sending Socket {
    if dualStack, address.family != .inet6 {
        throw InvalidArgument("dualStack needs an IPv6 address, got \(address)")
    }
    if let backlog, backlog < 0 { throw InvalidArgument("backlog must not be negative (got \(backlog))") }
    let hub = hub ?? Hub.current ?? Hub.default
    let socket = try Socket(family: address.family, type: .stream, hub: hub)
    guard hub.isCurrent else {
        socket.close()
        throw socket.wrongHub()
    }
    do {
        if address.family != .unix { try socket.setOption(.reuseAddress, true) }
        if reusePort { try socket.setOption(.reusePort, true) }
        if address.family == .inet6 { try socket.setOption(.ipv6Only, !dualStack) }
        do {
            try socket.bind(to: address)
        } catch let error as SystemError {
            throw SystemError(code: error.code, message: "\(error.message) (while attempting to bind on address \(address))")
        }
        try socket.listen(backlog: backlog ?? 128)
        return socket
    } catch {
        socket.close()
        throw error
    }
}
