#if canImport(Glibc)
import Glibc
#endif

/// Flags for send and receive calls (`MSG_*`). `MSG_NOSIGNAL` is always
/// added to sends: a closed peer gives EPIPE, never SIGPIPE.
public struct MessageFlags: OptionSet, Hashable, Sendable, CustomStringConvertible {
    /// The C bits.
    public let rawValue: Int32
    /// Wraps C bits.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// `MSG_OOB`: out-of-band data.
    public static let outOfBand = MessageFlags(rawValue: Int32(MSG_OOB))
    /// `MSG_PEEK`: receive without removing the data from the queue.
    public static let peek = MessageFlags(rawValue: Int32(MSG_PEEK))
    /// `MSG_WAITALL`: on a blocking socket, wait for the full amount. (Ours
    /// are non-blocking, so this only affects what one call returns.)
    public static let waitAll = MessageFlags(rawValue: Int32(MSG_WAITALL))
    /// `MSG_DONTROUTE`.
    public static let dontRoute = MessageFlags(rawValue: Int32(MSG_DONTROUTE))
    /// `MSG_TRUNC`: on receive, report the real length of a longer datagram;
    /// in results, the datagram was truncated.
    public static let truncated = MessageFlags(rawValue: Int32(MSG_TRUNC))
    /// `MSG_CTRUNC` (results only): control data (descriptors) was truncated.
    public static let controlTruncated = MessageFlags(rawValue: Int32(MSG_CTRUNC))
    /// `MSG_EOR`.
    public static let endOfRecord = MessageFlags(rawValue: Int32(MSG_EOR))
    /// `MSG_MORE`: more data follows (TCP corks, UDP builds one datagram).
    public static let more = MessageFlags(rawValue: Int32(MSG_MORE))

    static let names: [(MessageFlags, String)] = [
        (.outOfBand, "MSG_OOB"), (.peek, "MSG_PEEK"), (.waitAll, "MSG_WAITALL"), (.dontRoute, "MSG_DONTROUTE"),
        (.truncated, "MSG_TRUNC"), (.controlTruncated, "MSG_CTRUNC"), (.endOfRecord, "MSG_EOR"), (.more, "MSG_MORE"),
    ]

    /// The flag names joined by "|", or "0".
    public var description: String {
        var rest = rawValue
        var parts: [String] = []
        for (flag, name) in Self.names where contains(flag) {
            parts.append(name)
            rest &= ~flag.rawValue
        }
        if rest != 0 { parts.append("0x" + String(rest, radix: 16)) }
        return parts.isEmpty ? "0" : parts.joined(separator: "|")
    }
}

/// `MSG_NOSIGNAL`, or-ed into every send.
let noSignal = Int32(MSG_NOSIGNAL)

/// Which directions `shutdown` closes.
public enum ShutdownDirection: Sendable, Hashable, CustomStringConvertible {
    /// `SHUT_RD`: no more receives.
    case read
    /// `SHUT_WR`: no more sends; the peer reads end of file.
    case write
    /// `SHUT_RDWR`: both.
    case both

    var rawValue: Int32 {
        switch self {
        case .read: return Int32(SHUT_RD)
        case .write: return Int32(SHUT_WR)
        case .both: return Int32(SHUT_RDWR)
        }
    }

    /// "SHUT_RD", "SHUT_WR" or "SHUT_RDWR".
    public var description: String {
        switch self {
        case .read: return "SHUT_RD"
        case .write: return "SHUT_WR"
        case .both: return "SHUT_RDWR"
        }
    }
}
