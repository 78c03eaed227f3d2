import Foundation
import Sockets
import Testing

// The parts of the bad-input corpus (`Fixtures/bad-input/`) the socket
// tests use, and the rule every case is checked with.

/// `Fixtures/bad-input/<name>`.
func badInputFixture(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/bad-input/\(name)").path
}

/// Expands `{X*N}` (X repeated N times).
func expandTemplate(_ text: String) -> String {
    var text = text
    while let open = text.range(of: "{"), let close = text.range(of: "}", range: open.upperBound..<text.endIndex) {
        let body = text[open.upperBound..<close.lowerBound]
        guard let star = body.lastIndex(of: "*"), let count = Int(body[body.index(after: star)...]) else { break }
        text.replaceSubrange(open.lowerBound..<close.upperBound, with: String(repeating: String(body[..<star]), count: count))
    }
    return text
}

/// One corpus case, whatever the file: its value and its rule.
struct SocketBadInput: Decodable, Sendable, CustomStringConvertible {
    let id: String
    /// hosts.json
    let host: String?
    /// ports.json (`number`), numbers.json (`value`).
    let number: Int?
    let value: Int32?
    /// addresses.json `socketAddresses`.
    let family: String?
    let port: UInt16?
    let only: [String]?
    /// hub.json `descriptors`.
    let fd: Int32?
    let make: String?
    /// The rule.
    let errors: [String]?
    let message: String?
    let accepted: [String: String]?
    var description: String { id }

    /// The host, templates expanded.
    var hostText: String { expandTemplate(host ?? "") }

    /// A socket address case as a value (nil for other cases).
    var address: SocketAddress? {
        switch family {
        case "inet": return .inet(host: hostText, port: port ?? 0)
        case "inet6": return .inet6(host: hostText, port: port ?? 0)
        case "unix": return .unix(path: hostText)
        default: return nil
        }
    }

    func applies(to call: String) -> Bool { only?.contains(call) ?? true }

    private enum Keys: String, CodingKey {
        case id, host, number, value, family, port, only, fd, make, errors, message, accepted
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        id = try c.decode(String.self, forKey: .id)
        host = try c.decodeIfPresent(String.self, forKey: .host)
        number = try c.decodeIfPresent(Int.self, forKey: .number)
        value = try c.decodeIfPresent(Int32.self, forKey: .value)
        family = try c.decodeIfPresent(String.self, forKey: .family)
        port = try c.decodeIfPresent(UInt16.self, forKey: .port)
        only = try c.decodeIfPresent([String].self, forKey: .only)
        fd = try c.decodeIfPresent(Int32.self, forKey: .fd)
        make = try c.decodeIfPresent(String.self, forKey: .make)
        errors = try c.decodeIfPresent([String].self, forKey: .errors)
        message = try c.decodeIfPresent(String.self, forKey: .message)
        accepted = try c.decodeIfPresent([String: String].self, forKey: .accepted)
    }

    /// The cases under `key` in `file` (a top-level list of the corpus file).
    static func load(_ file: String, _ key: String) -> [SocketBadInput] {
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: badInputFixture(file)))
            return try JSONDecoder().decode([String: Lenient].self, from: data)[key]?.cases ?? []
        } catch {
            fatalError("cannot read Fixtures/bad-input/\(file): \(error)")
        }
    }

    /// A top-level value: a list of cases, or anything else (ignored).
    private struct Lenient: Decodable {
        let cases: [SocketBadInput]?
        init(from decoder: any Decoder) throws { cases = try? [SocketBadInput](from: decoder) }
    }
}

/// What a call did: returned, or threw.
func socketOutcome(_ body: () async throws -> Void) async -> (any Error)?? {
    do {
        try await withTimeout(.seconds(10), throwing: SocketCallHung()) { try await body() }
        return .some(nil)
    } catch {
        return .some(error)
    }
}

/// A call still waiting after 10 seconds.
struct SocketCallHung: Error, CustomStringConvertible {
    var description: String { "hung: still waiting after 10 seconds" }
}

/// Checks a call's outcome: `nil` error means it returned, which only
/// `acceptable` allows; otherwise an error of `types` whose text is clear
/// and contains `message`.
func expectSocketBadInput(_ error: (any Error)?, types: [String], message: String?, acceptable: Bool, label: String,
                          sourceLocation: SourceLocation = #_sourceLocation) {
    guard let error else {
        if !acceptable { Issue.record("\(label): returned; expected one of \(types)", sourceLocation: sourceLocation) }
        return
    }
    let name = String(describing: type(of: error))
    let text = "\(error)"
    guard types.contains(name) else {
        Issue.record("\(label): threw \(name): \(text.prefix(300)); expected one of \(types)", sourceLocation: sourceLocation)
        return
    }
    // Some words, not a reflection dump, and no raw NUL (it cuts C strings and logs short).
    if text.count < 8 || text.hasPrefix("\(name)(") || text.utf8.contains(0) {
        Issue.record("\(label): unclear message \(text.debugDescription)", sourceLocation: sourceLocation)
    }
    if let message, !text.contains(message) {
        Issue.record("\(label): message '\(text.prefix(300))' lacks '\(message)'", sourceLocation: sourceLocation)
    }
}
