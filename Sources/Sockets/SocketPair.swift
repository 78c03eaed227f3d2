#if canImport(Glibc)
import Glibc
#endif

/// A pair of connected sockets (`socketpair(2)`), Unix stream sockets by
/// default, both on `hub` (default: the current hub, else `Hub.default`).
///
/// - Throws: `SystemError` (EAFNOSUPPORT for families other than Unix, EMFILE).
public func socketpair(family: AddressFamily = .unix, type: SocketType = .stream, proto: IPProtocol = .any,
                       hub: Hub? = nil) throws -> sending (Socket, Socket) {
    var fds: [Int32] = [-1, -1]
    _ = try checkedSyscall { Glibc.socketpair(family.rawValue, type.rawValue | nonBlockingCloseOnExec, proto.rawValue, &fds) }
    let hub = hub ?? Hub.current ?? Hub.default
    let timeout = Socket.defaultTimeout
    return (Socket(descriptor: fds[0], family: family, type: type, proto: proto, hub: hub, timeout: timeout),
            Socket(descriptor: fds[1], family: family, type: type, proto: proto, hub: hub, timeout: timeout))
}
