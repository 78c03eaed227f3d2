#if canImport(Glibc)
import Glibc
#endif

/// A wait ran out of time. Reads "timed out", like Python's `socket.timeout`.
public struct TimeoutError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Creates the error.
    public init() {}
    /// "timed out".
    public var description: String { "timed out" }
}

/// A second task tried to wait on a watcher (or socket direction) that
/// another task is already waiting on.
public struct ConcurrentUseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Creates the error.
    public init() {}
    /// "This socket is already used by another task".
    public var description: String { "This socket is already used by another task" }
}

/// An operating-system error: an `errno` value and its message, like
/// Python's `OSError(errno, strerror)`.
public struct SystemError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The `errno` value.
    public var code: Int32
    /// The message; by default `strerror(code)`.
    public var message: String

    /// Creates an error with an explicit message.
    public init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    /// Creates an error whose message is the C library's `strerror(code)`.
    public init(code: Int32) {
        self.init(code: code, message: String(cString: strerror(code)))
    }

    /// The error for the current `errno`.
    public static func lastError() -> SystemError { SystemError(code: errno) }

    /// The error a task waiting on a descriptor gets when another task closes
    /// it: EBADF, "File descriptor was closed in another task".
    public static var closedInAnotherTask: SystemError {
        SystemError(code: EBADF, message: "File descriptor was closed in another task")
    }

    /// "[Errno N] message".
    public var description: String { "[Errno \(code)] \(message)" }
}

/// Errors about the hub itself.
public enum HubError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The hub was shut down: it accepts no new work and woke every waiter.
    case shutDown(hub: String)
    /// A bounded queue is full.
    case saturated(what: String, limit: Int)
    /// An argument was out of range.
    case invalidArgument(String)

    /// A readable message naming the hub or the bound.
    public var description: String {
        switch self {
        case .shutDown(let hub): return "hub '\(hub)' is shut down"
        case .saturated(let what, let limit): return "\(what) is full (limit \(limit))"
        case .invalidArgument(let text): return text
        }
    }
}
