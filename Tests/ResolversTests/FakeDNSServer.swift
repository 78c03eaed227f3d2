import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A tiny DNS server on 127.0.0.1 (UDP and TCP on the same port) for fault
/// tests of the c-ares backend. It runs on a thread of its own with blocking
/// `poll`, and what it does depends on the first label of the name asked:
///
/// | first label | reply |
/// |---|---|
/// | `ok`, `n<digits>` | A 192.0.2.(digits % 256) (1 for `ok`); AAAA: none (NODATA) |
/// | `dual` | A 192.0.2.1 and AAAA 2001:db8::1 |
/// | `silent` (or a name passed to `ignore`) | nothing |
/// | `servfail`, `refused`, `nxdomain` | that rcode |
/// | `tc` | UDP: empty answer with TC set; TCP: A 192.0.2.53 |
/// | `garbage` | 7 random bytes |
/// | `malformed` | right header and question, an answer record cut short |
/// | `spoof` | first a reply with the wrong ID (A 203.0.113.66), then the right one (A 192.0.2.77) |
/// | `slow` | held until `releaseHeld()`, then A 192.0.2.88 |
///
/// PTR queries for `<d>.2.0.192.in-addr.arpa` answer `host<d>.fake.test`.
/// Every question is counted (`count(of:)`) and announced (`waitForQuery`).
final class FakeDNSServer: @unchecked Sendable {
    let port: UInt16
    private let udp: Int32
    private let tcp: Int32
    private let wake: (read: Int32, write: Int32)
    private let state = Mutex(State())
    private var thread = pthread_t()

    private struct State {
        var stopping = false
        var release = false
        var counts: [String: Int] = [:]
        var tcpCounts: [String: Int] = [:]
        var announcements: [String: [FakeDNSWaiter]] = [:]
        var ignored: Set<String> = []
    }

    /// Starts a server on a free loopback port.
    init() throws {
        var lastError: Int32 = 0
        for _ in 0..<50 {
            let udp = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            // Room for a burst of a thousand queries (FORCE works as root).
            var size: Int32 = 4 << 20
            if setsockopt(udp, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {
                setsockopt(udp, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            }
            var address = FakeDNSServer.loopback(port: 0)
            guard withUnsafePointer(to: &address, { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(udp, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }) == 0 else {
                lastError = errno
                close(udp)
                continue
            }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getsockname(udp, $0, &length) } }
            let port = UInt16(bigEndian: address.sin_port)
            let tcp = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var one: Int32 = 1
            setsockopt(tcp, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            var tcpAddress = FakeDNSServer.loopback(port: port)
            let bound = withUnsafePointer(to: &tcpAddress) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(tcp, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            guard bound == 0, listen(tcp, 64) == 0 else {
                lastError = errno
                close(udp)
                close(tcp)
                continue
            }
            var fds: [Int32] = [0, 0]
            guard pipe(&fds) == 0 else { throw FakeDNSError("pipe failed: errno \(errno)") }
            self.udp = udp
            self.tcp = tcp
            self.port = port
            self.wake = (fds[0], fds[1])
            start()
            return
        }
        throw FakeDNSError("no free port for UDP and TCP together (errno \(lastError))")
    }

    /// A UDP port on 127.0.0.1 that answers every datagram with "port
    /// unreachable" (so the sender sees ECONNREFUSED) for as long as the
    /// returned descriptor is open: a socket bound there and connected to
    /// itself, so the kernel hands it no datagram from anyone else. Held,
    /// the port cannot be taken by a test running in parallel; a port bound
    /// and closed again could be. Close the descriptor when done.
    static func deadPort() throws -> (port: UInt16, fd: Int32) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw FakeDNSError("socket failed: errno \(errno)") }
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ready = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 && connect(fd, $0, length) == 0 } }
        guard ready else {
            let error = errno
            close(fd)
            throw FakeDNSError("no dead UDP port: errno \(error)")
        }
        return (UInt16(bigEndian: address.sin_port), fd)
    }

    /// "127.0.0.1:PORT", for `AresNameserver(parsing:)`.
    var address: String { "127.0.0.1:\(port)" }

    /// Questions received for `name` (any type), over UDP and TCP.
    func count(of name: String) -> Int { state.withLock { $0.counts[name.lowercased(), default: 0] } }

    /// Questions received for `name` over TCP.
    func tcpCount(of name: String) -> Int { state.withLock { $0.tcpCounts[name.lowercased(), default: 0] } }

    /// Returns once a question for `name` has arrived (at once if one has).
    func waitForQuery(_ name: String) async {
        let waiter = FakeDNSWaiter()
        let already = state.withLock { state -> Bool in
            if state.counts[name.lowercased(), default: 0] > 0 { return true }
            state.announcements[name.lowercased(), default: []].append(waiter)
            return false
        }
        if already { waiter.fire() }
        await waiter.wait()
    }

    /// Never answers `name` from now on (it is still counted).
    func ignore(_ name: String) { _ = state.withLock { $0.ignored.insert(name.lowercased()) } }

    /// Sends the replies held for `slow` names, and every later one at once.
    func releaseHeld() {
        state.withLock { $0.release = true }
        var byte: UInt8 = 1
        _ = write(wake.write, &byte, 1)
    }

    /// Stops the thread and closes the sockets.
    func stop() {
        let first = state.withLock { state -> Bool in
            defer { state.stopping = true }
            return !state.stopping
        }
        guard first else { return }
        var byte: UInt8 = 0
        _ = write(wake.write, &byte, 1)
        pthread_join(thread, nil)
        close(udp)
        close(tcp)
        close(wake.read)
        close(wake.write)
    }

    deinit { stop() }

    static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        return address
    }

    // MARK: The server thread

    private func start() {
        let me = Unmanaged.passRetained(self).toOpaque()
        pthread_create(&thread, nil, { raw in
            let server = Unmanaged<FakeDNSServer>.fromOpaque(raw!).takeRetainedValue()
            server.serve()
            return nil
        }, me)
    }

    private struct Held {
        let reply: [UInt8]
        let to: sockaddr_storage
        let length: socklen_t
    }

    private func serve() {
        var clients: [Int32] = []
        var held: [Held] = []
        defer { clients.forEach { close($0) } }
        while true {
            var fds = [pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: udp, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: tcp, events: Int16(POLLIN), revents: 0)]
            fds += clients.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            guard poll(&fds, nfds_t(fds.count), -1) >= 0 || errno == EINTR else { return }
            if fds[0].revents != 0 {
                var byte: UInt8 = 0
                _ = read(wake.read, &byte, 1)
                let (stopping, release) = state.withLock { ($0.stopping, $0.release) }
                if stopping { return }
                if release {
                    for item in held { sendDatagram(item.reply, to: item.to, length: item.length) }
                    held.removeAll()
                }
            }
            if fds[1].revents != 0 { receiveDatagram(&held) }
            if fds[2].revents != 0 {
                let client = accept(tcp, nil, nil)
                if client >= 0 { clients.append(client) }
            }
            for pfd in fds.dropFirst(3) where pfd.revents != 0 {
                if !serveStream(pfd.fd) {
                    close(pfd.fd)
                    clients.removeAll { $0 == pfd.fd }
                }
            }
        }
    }

    private func receiveDatagram(_ held: inout [Held]) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        var from = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let count = withUnsafeMutablePointer(to: &from) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            recvfrom(udp, &buffer, buffer.count, 0, $0, &length) } }
        guard count > 0, let query = FakeDNSMessage(Array(buffer[0..<count])) else { return }
        note(query.name, tcp: false)
        let label = query.firstLabel
        if label == "slow" && !state.withLock({ $0.release }) {
            held.append(Held(reply: FakeDNSServer.reply(to: query, tcp: false), to: from, length: length))
            return
        }
        if label == "spoof" {
            var fake = query
            fake.id ^= 0x5a5a
            sendDatagram(fake.response(rcode: 0, answers: [.a([203, 0, 113, 66])]), to: from, length: length)
        }
        guard label != "silent", !state.withLock({ $0.ignored.contains(query.name.lowercased()) }) else { return }
        sendDatagram(FakeDNSServer.reply(to: query, tcp: false), to: from, length: length)
    }

    private func sendDatagram(_ bytes: [UInt8], to address: sockaddr_storage, length: socklen_t) {
        var address = address
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            sendto(udp, bytes, bytes.count, 0, $0, length) } }
    }

    /// One length-prefixed query on a TCP connection; false at its end.
    private func serveStream(_ fd: Int32) -> Bool {
        guard let prefix = readFully(fd, 2) else { return false }
        let length = Int(prefix[0]) << 8 | Int(prefix[1])
        guard let body = readFully(fd, length), let query = FakeDNSMessage(body) else { return false }
        note(query.name, tcp: true)
        if query.firstLabel == "silent" { return true }
        let reply = FakeDNSServer.reply(to: query, tcp: true)
        let framed = [UInt8(reply.count >> 8), UInt8(reply.count & 0xff)] + reply
        return write(fd, framed, framed.count) == framed.count
    }

    private func readFully(_ fd: Int32, _ count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, count - done) }
            if n <= 0 { return nil }
            done += n
        }
        return bytes
    }

    private func note(_ name: String, tcp: Bool) {
        let key = name.lowercased()
        let waiters = state.withLock { state -> [FakeDNSWaiter] in
            state.counts[key, default: 0] += 1
            if tcp { state.tcpCounts[key, default: 0] += 1 }
            return state.announcements.removeValue(forKey: key) ?? []
        }
        waiters.forEach { $0.fire() }
    }

    /// The reply the table in the type's documentation describes.
    static func reply(to query: FakeDNSMessage, tcp: Bool) -> [UInt8] {
        let label = query.firstLabel
        let isA = query.type == 1, isAAAA = query.type == 28
        if query.type == 12 {
            let parts = query.name.split(separator: ".")
            if parts.count == 6, parts[1...].joined(separator: ".") == "2.0.192.in-addr.arpa" {
                return query.response(rcode: 0, answers: [.ptr("host\(parts[0]).fake.test")])
            }
            return query.response(rcode: 3, answers: [])
        }
        switch label {
        case "servfail": return query.response(rcode: 2, answers: [])
        case "refused": return query.response(rcode: 5, answers: [])
        case "nxdomain": return query.response(rcode: 3, answers: [])
        case "garbage": return (0..<7).map { _ in UInt8.random(in: 0...255) }
        case "malformed":
            var bytes = query.response(rcode: 0, answers: [.a([192, 0, 2, 99])])
            bytes.removeLast(3)
            return bytes
        case "tc":
            if !tcp { return query.response(rcode: 0, answers: [], truncated: true) }
            return query.response(rcode: 0, answers: isA ? [.a([192, 0, 2, 53])] : [])
        case "spoof": return query.response(rcode: 0, answers: isA ? [.a([192, 0, 2, 77])] : [])
        case "slow": return query.response(rcode: 0, answers: isA ? [.a([192, 0, 2, 88])] : [])
        case "dual":
            if isA { return query.response(rcode: 0, answers: [.a([192, 0, 2, 1])]) }
            if isAAAA { return query.response(rcode: 0, answers: [.aaaa([0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1])]) }
            return query.response(rcode: 0, answers: [])
        default:
            guard label == "ok" || label.hasPrefix("n"), let number = label == "ok" ? 1 : Int(label.dropFirst()) else {
                return query.response(rcode: 3, answers: [])
            }
            return query.response(rcode: 0, answers: isA ? [.a([192, 0, 2, UInt8(number % 256)])] : [])
        }
    }
}

/// A DNS query as the fake server reads it, and the replies it builds.
struct FakeDNSMessage {
    var id: UInt16
    let flags: UInt16
    let name: String
    let type: UInt16
    /// The question section as received (copied into replies).
    let question: [UInt8]

    enum Record {
        case a([UInt8])
        case aaaa([UInt8])
        case ptr(String)
    }

    var firstLabel: String { String(name.split(separator: ".").first ?? "").lowercased() }

    init?(_ bytes: [UInt8]) {
        guard bytes.count >= 17 else { return nil }
        id = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
        flags = UInt16(bytes[2]) << 8 | UInt16(bytes[3])
        var index = 12
        var labels: [String] = []
        while index < bytes.count, bytes[index] != 0 {
            let length = Int(bytes[index])
            guard length < 64, index + 1 + length < bytes.count else { return nil }
            labels.append(String(decoding: bytes[(index + 1)..<(index + 1 + length)], as: UTF8.self))
            index += 1 + length
        }
        guard index + 5 <= bytes.count else { return nil }
        name = labels.joined(separator: ".")
        type = UInt16(bytes[index + 1]) << 8 | UInt16(bytes[index + 2])
        question = Array(bytes[12..<(index + 5)])
    }

    func response(rcode: UInt8, answers: [Record], truncated: Bool = false) -> [UInt8] {
        var out: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xff)]
        // QR, opcode 0, AA, TC as asked, RD copied; RA; rcode.
        out.append(0x84 | (truncated ? 0x02 : 0) | UInt8((flags >> 8) & 0x01))
        out.append(0x80 | rcode)
        out += [0, 1, 0, UInt8(answers.count), 0, 0, 0, 0]
        out += question
        for answer in answers {
            out += [0xc0, 0x0c]  // the name: a pointer to the question's
            switch answer {
            case .a(let bytes): out += [0, 1, 0, 1, 0, 0, 0, 60, 0, 4] + bytes
            case .aaaa(let bytes): out += [0, 28, 0, 1, 0, 0, 0, 60, 0, 16] + bytes
            case .ptr(let target):
                var data: [UInt8] = []
                for label in target.split(separator: ".") { data += [UInt8(label.utf8.count)] + Array(label.utf8) }
                data.append(0)
                out += [0, 12, 0, 1, 0, 0, 0, 60, 0, UInt8(data.count)] + data
            }
        }
        return out
    }
}

/// A one-shot event a task can wait for, fired from any thread.
final class FakeDNSWaiter: Sendable {
    private let state = Mutex<(fired: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func fire() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.fired = true
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0.resume() }
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let fired = state.withLock { state -> Bool in
                if !state.fired { state.waiters.append(continuation) }
                return state.fired
            }
            if fired { continuation.resume() }
        }
    }
}

struct FakeDNSError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
