import CAres
#if canImport(Glibc)
import Glibc
#endif

// One request object per c-ares call, passed as the callback's `arg`. It is
// retained when the call starts and released in the callback, which c-ares
// makes exactly once per call (with ARES_EDESTRUCTION on `ares_destroy`), so
// each is freed exactly once. A task that was cancelled meanwhile has
// already left: its continuation ignores the late resume.

/// A pending `ares_getaddrinfo`.
final class AresAddressRequest: @unchecked Sendable {
    /// Unowned: a channel is destroyed (calling back every request) before
    /// it can go away.
    unowned(unsafe) let owner: AresChannel
    let continuation: HubContinuation<[AddressInfo]>
    /// Type, protocol and port of each result per address (c-ares was given
    /// no service and fills in neither).
    let shape: AresResultShape
    let canonicalName: Bool

    init(owner: AresChannel, continuation: HubContinuation<[AddressInfo]>, shape: AresResultShape, canonicalName: Bool) {
        self.owner = owner
        self.continuation = continuation
        self.shape = shape
        self.canonicalName = canonicalName
    }

    /// Builds the results from c-ares' list, in its (RFC 6724) order.
    func results(_ info: UnsafeMutablePointer<ares_addrinfo>) throws(AddressInfoError) -> [AddressInfo] {
        var out: [AddressInfo] = []
        out.reserveCapacity(shape.count)
        var canonical = ""
        if canonicalName {
            // The system reports the end of the CNAME chain.
            var cname = info.pointee.cnames
            while let current = cname {
                if let name = current.pointee.name { canonical = String(cString: name) }
                cname = current.pointee.next
            }
            if canonical.isEmpty, let name = info.pointee.name { canonical = String(cString: name) }
        }
        var node = info.pointee.nodes
        while let current = node {
            node = current.pointee.ai_next
            guard let raw = current.pointee.ai_addr, let address = AresAddressRequest.address(raw) else { continue }
            AresAddressRequest.append(address, shape: shape, canonical: canonical, to: &out)
        }
        guard !out.isEmpty else { throw AresErrorMapping.addressInfoError(ARES_ENODATA) }
        return out
    }

    /// An IPv4 or IPv6 socket address as a value, formatted on the stack
    /// (this runs once per answer).
    @inline(__always)
    static func address(_ raw: UnsafePointer<sockaddr>) -> SocketAddress? {
        switch Int32(raw.pointee.sa_family) {
        case AF_INET:
            var sin = UnsafeRawPointer(raw).loadUnaligned(as: sockaddr_in.self)
            let host = withUnsafeBytes(of: &sin.sin_addr) { SystemCalls.numericText(family: AF_INET, bytes: $0.baseAddress!) }
            return .inet(host: host, port: UInt16(bigEndian: sin.sin_port))
        case AF_INET6:
            var sin6 = UnsafeRawPointer(raw).loadUnaligned(as: sockaddr_in6.self)
            let host = withUnsafeBytes(of: &sin6.sin6_addr) { SystemCalls.numericText(family: AF_INET6, bytes: $0.baseAddress!) }
            return .inet6(host: host, port: UInt16(bigEndian: sin6.sin6_port),
                          flowInfo: UInt32(bigEndian: sin6.sin6_flowinfo), scopeID: sin6.sin6_scope_id)
        default:
            return nil
        }
    }

    /// Appends `address`'s entries; the first result of all carries the canonical name.
    @inline(__always)
    static func append(_ address: SocketAddress, shape: AresResultShape, canonical: String, to out: inout [AddressInfo]) {
        for index in 0..<shape.count {
            let (type, proto, port) = shape[index]
            out.append(AddressInfo(family: address.family, type: type, proto: proto,
                                   canonicalName: out.isEmpty ? canonical : "", address: address.withPort(port)))
        }
    }
}

let aresAddressCallback: ares_addrinfo_callback = { arg, status, _, info in
    let request = Unmanaged<AresAddressRequest>.fromOpaque(arg!).takeRetainedValue()
    defer { if let info { ares_freeaddrinfo(info) } }
    request.owner.release()
    if status == ARES_SUCCESS, let info {
        request.continuation.resume(with: Result { try request.results(info) })
    } else {
        request.continuation.resume(throwing: aresFailure(status, owner: request.owner, AresErrorMapping.addressInfoError))
    }
}

/// What a failed call throws: `aresCauseBehind(_:owner:)`, else the mapped
/// c-ares status.
@inline(__always)
func aresFailure(_ status: Int32, owner: AresChannel, _ map: (Int32) -> any Error) -> any Error {
    aresCauseBehind(status, owner: owner) ?? map(status == ARES_SUCCESS ? ARES_ENODATA : status)
}

/// The real cause behind a c-ares status, when there is one: the channel's
/// reason for ARES_EDESTRUCTION, and EMFILE (or ENFILE...) for the
/// ARES_ECONNREFUSED c-ares reports when a query could not open its socket
/// and no socket can be opened now. nil otherwise (a real refusal too).
func aresCauseBehind(_ status: Int32, owner: AresChannel) -> (any Error)? {
    if status == ARES_EDESTRUCTION, let error = owner.closedError { return error }
    return status == ARES_ECONNREFUSED ? DescriptorExhaustion.probe() : nil
}

/// A pending host-entry lookup: `ares_getaddrinfo(AF_INET)` for
/// `gethostbyname_ex`, or a PTR query for `gethostbyaddr`.
final class AresHostRequest: @unchecked Sendable {
    unowned(unsafe) let owner: AresChannel
    let continuation: HubContinuation<HostEntry>
    /// The address a PTR query asks about (the first 4 bytes for IPv4).
    var address = in6_addr()
    var family: Int32 = AF_INET

    init(owner: AresChannel, continuation: HubContinuation<HostEntry>) {
        self.owner = owner
        self.continuation = continuation
    }

    /// A failed status: its real cause (`aresCauseBehind`), else the status
    /// itself, which the caller maps for its call.
    func fail(_ status: Int32) {
        continuation.resume(throwing: aresCauseBehind(status, owner: owner) ?? AresStatusError(status: status))
    }

    static func entry(_ host: UnsafeMutablePointer<hostent>) -> HostEntry {
        let name = host.pointee.h_name.map { String(cString: $0) } ?? ""
        var aliases: [String] = []
        if var alias = host.pointee.h_aliases {
            while let text = alias.pointee {
                // c-ares repeats a PTR answer's name among the aliases; the system does not.
                let value = String(cString: text)
                if value != name && !aliases.contains(value) { aliases.append(value) }
                alias += 1
            }
        }
        var addresses: [String] = []
        let family = host.pointee.h_addrtype
        if var address = host.pointee.h_addr_list {
            while let bytes = address.pointee {
                addresses.append(SystemCalls.numericText(family: family, bytes: UnsafeRawPointer(bytes)))
                address += 1
            }
        }
        return HostEntry(name: name, aliases: aliases, addresses: addresses)
    }
}

/// A c-ares status on its way to the call that maps it (`gethostbyname_ex`,
/// `gethostbyaddr` and `getnameinfo` map the same status differently).
struct AresStatusError: Error {
    let status: Int32
}

/// `gethostbyname_ex` from `ares_getaddrinfo(AF_INET, ARES_AI_CANONNAME)`:
/// the end of the CNAME chain as the name, the chain's aliases, the addresses.
let aresHostEntryCallback: ares_addrinfo_callback = { arg, status, _, info in
    let request = Unmanaged<AresHostRequest>.fromOpaque(arg!).takeRetainedValue()
    defer { if let info { ares_freeaddrinfo(info) } }
    request.owner.release()
    guard status == ARES_SUCCESS, let info else { return request.fail(status) }
    var entry = HostEntry(name: info.pointee.name.map { String(cString: $0) } ?? "", aliases: [], addresses: [])
    var cname = info.pointee.cnames
    while let current = cname {
        if let alias = current.pointee.alias { entry.aliases.append(String(cString: alias)) }
        if let name = current.pointee.name { entry.name = String(cString: name) }
        cname = current.pointee.next
    }
    var node = info.pointee.nodes
    while let current = node {
        node = current.pointee.ai_next
        guard current.pointee.ai_family == AF_INET, let raw = current.pointee.ai_addr,
              let address = AresAddressRequest.address(raw) else { continue }
        entry.addresses.append(address.host)
    }
    // As ares_gethostbyname: no address is ENODATA, even with aliases.
    guard !entry.addresses.isEmpty else { return request.fail(ARES_ENODATA) }
    request.continuation.resume(returning: entry)
}

/// `gethostbyaddr` from a PTR query (`ares_query`): unlike
/// `ares_gethostbyaddr`, which reports every failure as ARES_ENOTFOUND, this
/// keeps the status (a refused or timed-out query is not "no such name").
let aresPointerCallback: ares_callback = { arg, status, _, answer, length in
    let request = Unmanaged<AresHostRequest>.fromOpaque(arg!).takeRetainedValue()
    request.owner.release()
    guard status == ARES_SUCCESS, let answer else { return request.fail(status) }
    var host: UnsafeMutablePointer<hostent>?
    let size: Int32 = request.family == AF_INET ? 4 : 16
    let parsed = withUnsafeBytes(of: &request.address) {
        ares_parse_ptr_reply(answer, length, $0.baseAddress, size, request.family, &host)
    }
    guard parsed == ARES_SUCCESS, let host else { return request.fail(parsed) }
    defer { ares_free_hostent(host) }
    request.continuation.resume(returning: AresHostRequest.entry(host))
}
