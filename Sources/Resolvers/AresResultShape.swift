#if canImport(Glibc)
import Glibc
#endif

/// What each address c-ares finds becomes: one entry per (socket type,
/// protocol, port), at most two. c-ares itself fills in neither type nor
/// protocol and looks services up per call, so Evergreen does both, once,
/// before the lookup:
///
/// - no type and no protocol: one STREAM/TCP and one DGRAM/UDP entry (gevent's
///   rule: no SOCK_RAW);
/// - a type or a protocol: glibc's row for it (so bad combinations fail with
///   glibc's `EAI_SOCKTYPE` / `EAI_SERVICE` before any query is sent);
/// - a service name: its port per protocol from the services file; a
///   protocol without the service is dropped, as glibc drops it, and none
///   left is `EAI_SERVICE`.
///
/// A value type with room for two entries: no allocation per lookup.
struct AresResultShape: Sendable {
    private(set) var count = 0
    private var first = (type: Int32(0), proto: Int32(0), port: UInt16(0))
    private var second = (type: Int32(0), proto: Int32(0), port: UInt16(0))

    /// Entry `index` (0 or 1).
    @inline(__always)
    subscript(index: Int) -> (type: SocketType, proto: IPProtocol, port: UInt16) {
        let entry = index == 0 ? first : second
        return (SocketType(rawValue: entry.type), IPProtocol(rawValue: entry.proto), entry.port)
    }

    private mutating func append(type: Int32, proto: Int32, port: UInt16) {
        if count == 0 { first = (type, proto, port) } else { second = (type, proto, port) }
        count += 1
    }

    /// The shape for a `getaddrinfo` call's type, protocol and port.
    ///
    /// - Parameters:
    ///   - port: the numeric port, or nil.
    ///   - service: the service name when the port is not numeric, or nil.
    /// - Throws: `AddressInfoError` as glibc fails for these arguments.
    static func make(type: Int32, proto: Int32, port: UInt16?, service: String?) throws -> AresResultShape {
        var shape = AresResultShape()
        let stream = Int32(SOCK_STREAM.rawValue), datagram = Int32(SOCK_DGRAM.rawValue)
        let tcp = Int32(IPPROTO_TCP), udp = Int32(IPPROTO_UDP)
        let hasService = port != nil || service != nil
        // The usual combinations without building glibc's list.
        switch (type, proto) {
        case (0, 0):
            shape.append(type: stream, proto: tcp, port: 0)
            shape.append(type: datagram, proto: udp, port: 0)
        case (stream, 0), (stream, tcp), (0, tcp): shape.append(type: stream, proto: tcp, port: 0)
        case (datagram, 0), (datagram, udp), (0, udp): shape.append(type: datagram, proto: udp, port: 0)
        default:
            for row in try NumericAddressInfo.socketTypes(type: type, proto: proto, hasService: hasService) {
                shape.append(type: row.type, proto: row.proto, port: 0)
            }
        }
        guard hasService else { return shape }
        var resolved = AresResultShape()
        for index in 0..<shape.count {
            let (entryType, entryProto, _) = shape[index]
            if let port {
                resolved.append(type: entryType.rawValue, proto: entryProto.rawValue, port: port)
            } else if let service, let found = servicePort(service, proto: entryProto.rawValue) {
                resolved.append(type: entryType.rawValue, proto: entryProto.rawValue, port: found)
            }
        }
        guard resolved.count > 0 else { throw AddressInfoError(code: AddressInfoError.service) }
        return resolved
    }

    /// The port of `service` for `proto` from the services file, or nil.
    static func servicePort(_ service: String, proto: Int32) -> UInt16? {
        let name: String
        switch proto {
        case Int32(IPPROTO_TCP): name = "tcp"
        case Int32(IPPROTO_UDP): name = "udp"
        case Int32(IPPROTO_SCTP): name = "sctp"
        case Int32(IPPROTO_DCCP): name = "dccp"
        case Int32(IPPROTO_UDPLITE): name = "udplite"
        default: return nil
        }
        var entry = servent()
        var result: UnsafeMutablePointer<servent>?
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 4096) { buffer in
            _ = getservbyname_r(service, name, &entry, buffer.baseAddress, buffer.count, &result)
            return result.map { UInt16(bigEndian: UInt16(truncatingIfNeeded: $0.pointee.s_port)) }
        }
    }
}
