#if canImport(Glibc)
import Glibc
#endif

/// Running out of descriptors, told apart from a name-service answer.
///
/// glibc's `getaddrinfo` reports a lookup that could not open the hosts
/// file or a socket as EAI_NONAME ("Name or service not known"), and c-ares
/// reports a query that could not open its socket as ARES_ECONNREFUSED
/// ("Could not contact DNS servers"): both read as facts about the name or
/// the server. The resolvers throw `SystemError` (EMFILE, ENFILE, ...)
/// instead, as `socket(2)` and `accept(2)` do.
enum DescriptorExhaustion {
    /// Whether `code` (an `errno`) means no descriptor could be made.
    @inline(__always)
    static func isExhaustion(_ code: Int32) -> Bool {
        code == EMFILE || code == ENFILE
    }

    /// The error when no socket can be opened right now, else nil. One
    /// `socket`/`close` pair: called only on failure paths where exhaustion
    /// is a likely cause (c-ares hides the `errno` of its own `socket` call).
    static func probe() -> SystemError? {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd >= 0 {
            close(fd)
            return nil
        }
        let code = errno
        return isExhaustion(code) || code == ENOBUFS || code == ENOMEM ? SystemError(code: code) : nil
    }
}
