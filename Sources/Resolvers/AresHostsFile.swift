import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The hosts file as the c-ares backend reads it: parsed once, re-read when
/// it changes (a `stat` compares device, inode, size and mtime, at most once
/// per `checkInterval`: a path lookup per call would cost more than the rest
/// of the hosts check).
///
/// c-ares itself asks DNS for the family the hosts file lacks even when the
/// file answers; the system does not, and neither does this: a name in the
/// file gets exactly the file's addresses (of the family asked for), like
/// glibc's `files` source. Thread-safe.
final class AresHostsFile: Sendable {
    /// One address line: `address canonical-name aliases...`.
    struct Line: Sendable {
        let family: AddressFamily
        /// Numeric text, normalised (`inet_ntop`).
        let address: String
        let canonicalName: String
        let aliases: [String]

        /// What glibc makes of an IPv6 line in an IPv4 lookup: 127.0.0.1 for
        /// `::1`, the embedded address of a v4-mapped one, else nothing.
        var ipv4Equivalent: String? {
            var v6 = in6_addr()
            guard family == .inet6, inet_pton(AF_INET6, address, &v6) == 1 else { return nil }
            if let v4 = NumericAddressInfo.unmapped(v6) { return SocketAddress.format(v4) }
            return address == "::1" ? "127.0.0.1" : nil
        }
    }

    private struct Stamp: Equatable {
        var device: UInt64, inode: UInt64, size: Int64, seconds: Int, nanoseconds: Int
    }

    private struct Parsed {
        var stamp: Stamp?
        var lines: [Line] = []
        /// Lower-cased name or alias -> indices of its lines, in file order.
        var byName: [String: [Int]] = [:]
        /// Normalised address -> index of its first line.
        var byAddress: [String: Int] = [:]
        /// When the file was last checked (CLOCK_MONOTONIC ns); 0: never.
        var checkedAt: UInt64 = 0
    }

    let path: String
    let checkIntervalNanoseconds: UInt64
    private let parsed = Mutex(Parsed())

    init(path: String, checkInterval: Duration = .zero) {
        self.path = path
        let (seconds, attoseconds) = checkInterval.components
        checkIntervalNanoseconds = UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000)
    }

    /// The file's lines for `name` of `family` (both families for
    /// `.unspecified`), in file order; nil when the file has none. As glibc
    /// reads the file for IPv4, `::1` counts as 127.0.0.1 and a v4-mapped
    /// IPv6 address as its IPv4 address.
    func lines(for name: String, family: AddressFamily) -> [Line]? {
        let key = AresHostsFile.key(name)
        return current { parsed in
            guard let indices = parsed.byName[key] else { return nil }
            var found: [Line] = []
            for index in indices {
                let line = parsed.lines[index]
                if family == .unspecified || line.family == family {
                    found.append(line)
                } else if family == .inet, let v4 = line.ipv4Equivalent {
                    found.append(Line(family: .inet, address: v4, canonicalName: line.canonicalName, aliases: line.aliases))
                }
            }
            return found.isEmpty ? nil : found
        }
    }

    /// `gethostbyname_ex` from the file: the first IPv4 line's names, every
    /// IPv4 address of the name, aliases merged; nil when it has none.
    func hostEntry(for name: String) -> HostEntry? {
        guard let lines = lines(for: name, family: .inet) else { return nil }
        var entry = HostEntry(name: lines[0].canonicalName, aliases: [], addresses: [])
        for line in lines {
            if !entry.addresses.contains(line.address) { entry.addresses.append(line.address) }
            for alias in [line.canonicalName] + line.aliases
            where alias != entry.name && !entry.aliases.contains(alias) {
                entry.aliases.append(alias)
            }
        }
        return entry
    }

    /// `gethostbyaddr` from the file: the first line with `address`.
    func reverse(_ address: SocketAddress) -> HostEntry? {
        let text = address.host
        return current { parsed in
            guard let index = parsed.byAddress[text] else { return nil }
            let line = parsed.lines[index]
            return HostEntry(name: line.canonicalName, aliases: line.aliases, addresses: [line.address])
        }
    }

    /// Names are matched without regard to ASCII case; most are lower case
    /// already, so this rarely allocates.
    private static func key(_ name: String) -> String {
        name.utf8.contains(where: { $0 >= 65 && $0 <= 90 }) ? name.lowercased() : name
    }

    private func current<T>(_ body: (borrowing Parsed) -> T) -> T {
        let now = monotonicNanoseconds()
        let due = parsed.withLock { $0.checkedAt == 0 || now &- $0.checkedAt >= checkIntervalNanoseconds }
        let stamp = due ? statStamp() : nil
        return parsed.withLock { parsed in
            if due {
                parsed.checkedAt = now
                if parsed.stamp != stamp {
                    parsed = AresHostsFile.parse(path: path)
                    parsed.stamp = stamp
                    parsed.checkedAt = now
                }
            }
            return body(parsed)
        }
    }

    private func statStamp() -> Stamp? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Stamp(device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size),
                     seconds: st.st_mtim.tv_sec, nanoseconds: st.st_mtim.tv_nsec)
    }

    /// Reads the file; a missing or unreadable file is an empty one.
    private static func parse(path: String) -> Parsed {
        var result = Parsed()
        guard let file = fopen(path, "r") else { return result }
        defer { fclose(file) }
        var linePointer: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(linePointer) }
        while getline(&linePointer, &capacity, file) > 0, let linePointer {
            guard let line = parseLine(String(cString: linePointer)) else { continue }
            let index = result.lines.count
            result.lines.append(line)
            for name in [line.canonicalName] + line.aliases {
                let key = key(name)
                if result.byName[key]?.last != index { result.byName[key, default: []].append(index) }
            }
            if result.byAddress[line.address] == nil { result.byAddress[line.address] = index }
        }
        return result
    }

    /// One line, or nil for comments, blanks and lines glibc would skip.
    static func parseLine(_ text: String) -> Line? {
        let content = text.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let fields = content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
        guard fields.count >= 2 else { return nil }
        let address = String(fields[0])
        var v4 = in_addr(), v6 = in6_addr()
        let family: AddressFamily
        let normalised: String
        if inet_pton(AF_INET, address, &v4) == 1 {
            family = .inet
            normalised = SocketAddress.format(v4)
        } else if inet_pton(AF_INET6, address, &v6) == 1 {
            family = .inet6
            normalised = SocketAddress.format(v6)
        } else {
            return nil
        }
        return Line(family: family, address: normalised, canonicalName: String(fields[1]),
                    aliases: fields.dropFirst(2).map(String.init))
    }
}
