/// A socket (or a `HubBound` value) was used from code that does not run on
/// its hub: from another hub's thread, or from a task that does not prefer
/// its hub. Sockets are not `Sendable`; this is the runtime guard for one
/// smuggled across anyway.
public struct WrongHubError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What was used ("socket", "HubBound<Socket>", ...).
    public let what: String
    /// The name of the hub it belongs to.
    public let hub: String
    /// The name of the hub the caller runs on, or nil when it runs on none.
    public let callerHub: String?

    /// Creates the error.
    public init(what: String, hub: String, callerHub: String?) {
        self.what = what
        self.hub = hub
        self.callerHub = callerHub
    }

    /// Names the owning hub and where the call came from.
    public var description: String {
        let caller = callerHub.map { "on hub '\($0)'" } ?? "outside any hub"
        return "\(what) belongs to hub '\(hub)' but was used \(caller); "
            + "use it from a task on its hub (hub.run, hub.spawn, or a child task of one)"
    }
}

/// A buffered reader found no line end within its line-length limit.
public struct LineTooLongError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The limit, in bytes.
    public let limit: Int

    /// Creates the error.
    public init(limit: Int) { self.limit = limit }

    /// "line longer than N bytes".
    public var description: String { "line longer than \(limit) bytes (the reader's maxLineLength)" }
}

/// The stream ended before `read(exactly:)` got all the bytes it needed.
public struct IncompleteReadError: Error, Equatable, Sendable, CustomStringConvertible {
    /// How many bytes were asked for.
    public let expected: Int
    /// What arrived before the end of the stream.
    public let partial: [UInt8]

    /// Creates the error.
    public init(expected: Int, partial: [UInt8]) {
        self.expected = expected
        self.partial = partial
    }

    /// "connection closed after N of M bytes".
    public var description: String {
        "connection closed after \(partial.count) of \(expected) bytes"
    }
}
