import CLibev

/// Readiness events of a descriptor.
public struct IOEvents: OptionSet, Sendable, Hashable, CustomStringConvertible {
    /// The raw libev event bits.
    public let rawValue: Int32
    /// Creates a set from libev event bits.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// Readable (or at end of file, or with a pending error).
    public static let read = IOEvents(rawValue: Int32(EV_READ))
    /// Writable.
    public static let write = IOEvents(rawValue: Int32(EV_WRITE))

    /// "read", "write", "read|write" or "none".
    public var description: String {
        var names: [String] = []
        if contains(.read) { names.append("read") }
        if contains(.write) { names.append("write") }
        return names.isEmpty ? "none" : names.joined(separator: "|")
    }
}

/// Anything that has a file descriptor the wait API can watch.
public protocol FileDescriptorConvertible {
    /// The descriptor; negative when closed.
    var fileDescriptor: Int32 { get }
}

extension Int32: FileDescriptorConvertible {
    /// The integer itself.
    public var fileDescriptor: Int32 { self }
}
