#if canImport(Glibc)
import Glibc
#endif

/// A `getaddrinfo`/`getnameinfo` failure: an `EAI_*` code and the C
/// library's `gai_strerror` text, like Python's `socket.gaierror`.
///
/// `EAI_SYSTEM` is never thrown as this type: the resolvers throw the
/// `SystemError` for the `errno` instead, as Python does. So is a lookup
/// that failed for lack of descriptors (EMFILE, ENFILE), which glibc itself
/// reports as EAI_NONAME.
public struct AddressInfoError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The `EAI_*` code (negative on glibc).
    public var code: Int32
    /// The message, by default `gai_strerror(code)`.
    public var message: String

    /// Creates an error with an explicit message.
    public init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    /// Creates an error whose message is the C library's `gai_strerror(code)`.
    public init(code: Int32) {
        self.init(code: code, message: String(cString: gai_strerror(code)))
    }

    /// "[Errno -2] Name or service not known".
    public var description: String { "[Errno \(code)] \(message)" }

    // The codes, named as in <netdb.h>. The GNU ones are not visible to
    // Swift (they sit behind __USE_GNU), so their glibc values are spelled out.

    /// `EAI_BADFLAGS`: "Bad value for ai_flags".
    public static let badFlags: Int32 = EAI_BADFLAGS
    /// `EAI_NONAME`: "Name or service not known".
    public static let noName: Int32 = EAI_NONAME
    /// `EAI_AGAIN`: "Temporary failure in name resolution".
    public static let again: Int32 = EAI_AGAIN
    /// `EAI_FAIL`: "Non-recoverable failure in name resolution".
    public static let fail: Int32 = EAI_FAIL
    /// `EAI_NODATA`: "No address associated with hostname".
    public static let noData: Int32 = -5
    /// `EAI_FAMILY`: "ai_family not supported".
    public static let family: Int32 = EAI_FAMILY
    /// `EAI_SOCKTYPE`: "ai_socktype not supported".
    public static let socketType: Int32 = EAI_SOCKTYPE
    /// `EAI_SERVICE`: "Servname not supported for ai_socktype".
    public static let service: Int32 = EAI_SERVICE
    /// `EAI_ADDRFAMILY`: "Address family for hostname not supported".
    public static let addressFamily: Int32 = -9
    /// `EAI_MEMORY`: "Memory allocation failure".
    public static let memory: Int32 = EAI_MEMORY
    /// `EAI_SYSTEM`: "System error" (reported as a `SystemError`).
    public static let system: Int32 = EAI_SYSTEM
    /// `EAI_OVERFLOW`: "Argument buffer overflow".
    public static let overflow: Int32 = EAI_OVERFLOW
    /// `EAI_IDN_ENCODE`: "Parameter string not correctly encoded" (IDNA failed).
    public static let idnEncode: Int32 = -105
}

/// A `gethostbyname_r`/`gethostbyaddr_r` failure: an `h_errno` code and
/// the C library's `hstrerror` text, like Python's `socket.herror`.
public struct HostError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The `h_errno` value.
    public var code: Int32
    /// The message, by default `hstrerror(code)`.
    public var message: String

    /// Creates an error with an explicit message.
    public init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    /// Creates an error whose message is the C library's `hstrerror(code)`.
    public init(code: Int32) {
        self.init(code: code, message: String(cString: hstrerror(code)))
    }

    /// "[Errno 1] Unknown host".
    public var description: String { "[Errno \(code)] \(message)" }

    /// `HOST_NOT_FOUND`: "Unknown host".
    public static let hostNotFound: Int32 = HOST_NOT_FOUND
    /// `TRY_AGAIN`: "Host name lookup failure".
    public static let tryAgain: Int32 = TRY_AGAIN
    /// `NO_RECOVERY`: "Unknown server error".
    public static let noRecovery: Int32 = NO_RECOVERY
    /// `NO_DATA`: "No address associated with name".
    public static let noData: Int32 = NO_DATA
}

/// A call on a resolver after `close()`.
public struct ResolverClosedError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The backend's name ("thread", "block", ...).
    public var resolver: String
    /// Creates the error.
    public init(resolver: String) { self.resolver = resolver }
    /// "resolver 'thread' is closed".
    public var description: String { "resolver '\(resolver)' is closed" }
}

/// `makeResolver` was asked for a backend this build cannot make.
public struct ResolverUnavailableError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The backend asked for.
    public var kind: ResolverKind
    /// Why it cannot be made.
    public var reason: String
    /// Creates the error.
    public init(kind: ResolverKind, reason: String) {
        self.kind = kind
        self.reason = reason
    }
    /// "resolver backend 'ares' is not available: ...".
    public var description: String { "resolver backend '\(kind)' is not available: \(reason)" }
}
