import ArgumentParser
import Sockets
#if canImport(Glibc)
import Glibc
#endif

/// A resolver backend named on the command line. Every known name parses;
/// `makeResolver` says clearly when this build cannot make one (`ares`
/// before `AresResolver` is registered).
enum ResolverChoice: String, ExpressibleByArgument, CaseIterable {
    /// `BlockingResolver`.
    case block
    /// `ThreadResolver`.
    case thread
    /// `AresResolver`.
    case ares

    /// The backend's kind, for `makeResolver`.
    var kind: ResolverKind { ResolverKind(rawValue: rawValue) }
}

/// The address family of a `resolve` lookup.
enum FamilyChoice: String, ExpressibleByArgument, CaseIterable {
    /// `AF_UNSPEC`.
    case any
    /// `AF_INET`.
    case inet
    /// `AF_INET6`.
    case inet6

    /// The address family to ask for.
    var family: AddressFamily {
        switch self {
        case .any: return .unspecified
        case .inet: return .inet
        case .inet6: return .inet6
        }
    }
}

/// A command failure: printed as "Error: <message>", exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// Seconds since `start` on the monotonic clock.
func secondsSince(_ start: ContinuousClock.Instant) -> Double {
    let elapsed = start.duration(to: .now)
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// A lookup failure as one line: the message and, for resolver errors, the code.
func errorText(_ error: any Error) -> String {
    switch error {
    case let error as AddressInfoError: return "\(error.message) (EAI \(error.code))"
    case let error as HostError: return "\(error.message) (h_errno \(error.code))"
    case let error as SystemError: return "\(error.message) (errno \(error.code))"
    default: return "\(error)"
    }
}

/// Minimal JSON output: enough for flat objects of strings, numbers,
/// string arrays and null, without Foundation.
enum JSON {
    /// A JSON value.
    enum Value {
        case string(String)
        case number(Double)
        case integer(Int)
        case bool(Bool)
        case strings([String])
        case null
    }

    /// `{"key":value,...}` in the order given.
    static func object(_ fields: [(String, Value)]) -> String {
        "{" + fields.map { quote($0.0) + ":" + render($0.1) }.joined(separator: ",") + "}"
    }

    static func render(_ value: Value) -> String {
        switch value {
        case .string(let text): return quote(text)
        case .number(let number): return number.isFinite ? "\(number)" : "null"
        case .integer(let number): return "\(number)"
        case .bool(let flag): return flag ? "true" : "false"
        case .strings(let texts): return "[" + texts.map(quote).joined(separator: ",") + "]"
        case .null: return "null"
        }
    }

    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// Whether this process runs inside `scripts/dnsworld` (DNSWORLD=1 and no
/// default route), where resolving arbitrary names cannot reach real DNS.
func insideDNSWorld() -> Bool {
    guard let flag = getenv("DNSWORLD"), String(cString: flag) == "1" else { return false }
    return !hasDefaultRoute()
}

/// True if an IPv4 or IPv6 default route leaves through a non-loopback device.
private func hasDefaultRoute() -> Bool {
    guard let v4 = readText("/proc/self/net/route") else { return true }
    for line in v4.split(separator: "\n").dropFirst() {
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        if fields.count >= 8, fields[1] == "00000000", fields[7] == "00000000", fields[0] != "lo" { return true }
    }
    for line in (readText("/proc/self/net/ipv6_route") ?? "").split(separator: "\n") {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        if fields.count >= 10, fields[0].allSatisfy({ $0 == "0" }), fields[1] == "00", fields.last != "lo" { return true }
    }
    return false
}

/// The entries of the directory at `path` other than "." and "..", or nil
/// if it cannot be read (/proc/self/fd, /proc/self/task).
func directoryEntryCount(_ path: String) -> Int? {
    guard let directory = opendir(path) else { return nil }
    defer { closedir(directory) }
    var count = 0
    while let entry = readdir(directory) {
        // Read the name in place: a short entry is shorter than `d_name`'s
        // 256 bytes, so copying the field (or the entry) reads past its end.
        let name = UnsafeRawPointer(entry).advanced(by: MemoryLayout<dirent>.offset(of: \dirent.d_name)!)
        if name.load(as: UInt8.self) != UInt8(ascii: ".") { count += 1 }
    }
    return count
}

/// A small text file's contents, or nil.
func readText(_ path: String) -> String? {
    guard let file = fopen(path, "r") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = fread(&chunk, 1, chunk.count, file)
        if count <= 0 { break }
        bytes += chunk[0..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}
