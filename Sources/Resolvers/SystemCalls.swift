#if canImport(Glibc)
import Glibc
#endif

/// The C library's resolver functions, called directly on the calling thread
/// (they block it), with their results turned into Swift values and their
/// failures into `AddressInfoError`, `HostError` or `SystemError`.
///
/// Arguments are passed through unchanged: checking them, special names and
/// IDNA are the job of `LookupFrontEnd`. Names avoid the C ones so that a
/// resolver type's own `getaddrinfo` method never shadows the C function.
enum SystemCalls {
    /// `getaddrinfo(3)`: every result, in the C library's order.
    static func addressInfo(host: String?, service: String?, family: Int32, type: Int32,
                            proto: Int32, flags: Int32) throws -> [AddressInfo] {
        var hints = addrinfo()
        hints.ai_family = family
        hints.ai_socktype = type
        hints.ai_protocol = proto
        hints.ai_flags = flags
        var list: UnsafeMutablePointer<addrinfo>?
        errno = 0  // see addressInfoFailure
        let code = withOptionalCString(host) { node in
            withOptionalCString(service) { Glibc.getaddrinfo(node, $0, &hints, &list) }
        }
        guard code == 0 else { throw addressInfoFailure(code, errno: errno) }
        defer { freeaddrinfo(list) }
        var results: [AddressInfo] = []
        var next = list
        while let entry = next?.pointee {
            next = entry.ai_next
            // Only IPv4 and IPv6 can come back for AF_INET/AF_INET6/AF_UNSPEC.
            guard let raw = entry.ai_addr, let address = try? SocketAddress(raw, length: entry.ai_addrlen) else { continue }
            results.append(AddressInfo(
                family: AddressFamily(rawValue: entry.ai_family),
                type: SocketType(rawValue: entry.ai_socktype),
                proto: IPProtocol(rawValue: entry.ai_protocol),
                canonicalName: entry.ai_canonname.map { String(cString: $0) } ?? "",
                address: address))
        }
        return results
    }

    /// `gethostbyname_r(3)`: the entry and the family of its addresses.
    static func hostByName(_ name: String) throws -> (entry: HostEntry, family: Int32) {
        try withHostBuffer { host, buffer, length, result, herrno in
            gethostbyname_r(name, host, buffer, length, result, herrno)
        }
    }

    /// `gethostbyaddr_r(3)` for a 4-byte (`AF_INET`) or 16-byte (`AF_INET6`) address.
    static func hostByAddress(_ bytes: [UInt8], family: Int32) throws -> (entry: HostEntry, family: Int32) {
        try bytes.withUnsafeBytes { raw in
            try withHostBuffer { host, buffer, length, result, herrno in
                gethostbyaddr_r(raw.baseAddress, socklen_t(raw.count), family, host, buffer, length, result, herrno)
            }
        }
    }

    /// `getnameinfo(3)`: host and service names for an IPv4 or IPv6 address.
    static func nameInfo(_ address: SocketAddress, flags: Int32) throws -> (host: String, service: String) {
        try withUnsafeTemporaryAllocation(of: CChar.self, capacity: Int(NI_MAXHOST) + Int(NI_MAXSERV)) { buffer in
            let host = buffer.baseAddress!
            let service = host + Int(NI_MAXHOST)
            errno = 0  // see addressInfoFailure
            let code = try address.withSockAddr { sa, length in
                Glibc.getnameinfo(sa, length, host, socklen_t(NI_MAXHOST), service, socklen_t(NI_MAXSERV), flags)
            }
            guard code == 0 else { throw addressInfoFailure(code, errno: errno) }
            return (String(cString: host), String(cString: service))
        }
    }

    /// The error for a non-zero `getaddrinfo`/`getnameinfo` result. glibc
    /// says EAI_NONAME when it could not open the hosts file or a socket for
    /// lack of descriptors, leaving EMFILE/ENFILE in `errno` (cleared before
    /// the call): that is reported as the `SystemError` it is.
    static func addressInfoFailure(_ code: Int32, errno: Int32) -> any Error {
        if code == EAI_SYSTEM || DescriptorExhaustion.isExhaustion(errno) { return SystemError(code: errno) }
        return AddressInfoError(code: code)
    }

    /// Runs a `gethostby*_r` call with a buffer that grows on `ERANGE`.
    private static func withHostBuffer(
        _ call: (UnsafeMutablePointer<hostent>, UnsafeMutablePointer<CChar>, Int,
                 UnsafeMutablePointer<UnsafeMutablePointer<hostent>?>, UnsafeMutablePointer<Int32>) -> Int32
    ) throws -> (entry: HostEntry, family: Int32) {
        var length = 4096
        while true {
            var host = hostent()
            var result: UnsafeMutablePointer<hostent>?
            var herrno: Int32 = 0
            var buffer = [CChar](repeating: 0, count: length)
            let rc = buffer.withUnsafeMutableBufferPointer { call(&host, $0.baseAddress!, length, &result, &herrno) }
            if rc == ERANGE && length < 1 << 24 {
                length *= 2
                continue
            }
            guard let entry = result?.pointee else {
                // NETDB_INTERNAL (-1) means "see errno"; rc holds it for the _r calls.
                if herrno == -1 { throw SystemError(code: rc != 0 ? rc : errno) }
                throw HostError(code: herrno)
            }
            return (hostEntry(entry), entry.h_addrtype)
        }
    }

    private static func hostEntry(_ host: hostent) -> HostEntry {
        var aliases: [String] = []
        if var alias = host.h_aliases {
            while let name = alias.pointee {
                aliases.append(String(cString: name))
                alias += 1
            }
        }
        var addresses: [String] = []
        if var address = host.h_addr_list {
            while let bytes = address.pointee {
                addresses.append(numericText(family: host.h_addrtype, bytes: UnsafeRawPointer(bytes)))
                address += 1
            }
        }
        return HostEntry(name: host.h_name.map { String(cString: $0) } ?? "", aliases: aliases, addresses: addresses)
    }

    /// `inet_ntop` of a raw 4- or 16-byte address.
    static func numericText(family: Int32, bytes: UnsafeRawPointer) -> String {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: Int(INET6_ADDRSTRLEN)) { buffer in
            guard inet_ntop(family, bytes, buffer.baseAddress, socklen_t(buffer.count)) != nil else { return "" }
            return String(cString: buffer.baseAddress!)
        }
    }
}

/// Calls `body` with `text` as a C string, or with nil.
func withOptionalCString<T>(_ text: String?, _ body: (UnsafePointer<CChar>?) throws -> T) rethrows -> T {
    guard let text else { return try body(nil) }
    return try text.withCString { try body($0) }
}
