@testable import Resolvers
import Foundation
import Testing

// The bad-input corpus of `Fixtures/bad-input/` (see its README), as the
// resolver tests read it, and the one rule every case is checked with.

/// `Fixtures/bad-input/<name>`.
func badInputFixture(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/bad-input/\(name)").path
}

/// Reads and decodes one corpus file; a broken corpus stops the run.
func loadBadInput<T: Decodable>(_ name: String, as: T.Type = T.self) -> T {
    do {
        return try JSONDecoder().decode(T.self, from: Data(contentsOf: URL(fileURLWithPath: badInputFixture(name))))
    } catch {
        fatalError("cannot read Fixtures/bad-input/\(name): \(error)")
    }
}

/// Expands the corpus's templates: `{X*N}` is X repeated N times and
/// `{FIXTURES}` the path of `Fixtures/bad-input`.
func expandTemplate(_ text: String) -> String {
    var text = text.replacingOccurrences(of: "{FIXTURES}", with: badInputFixture("").dropLastSlash())
    while let open = text.range(of: "{"), let close = text.range(of: "}", range: open.upperBound..<text.endIndex) {
        let body = text[open.upperBound..<close.lowerBound]
        guard let star = body.lastIndex(of: "*"), let count = Int(body[body.index(after: star)...]) else { break }
        text.replaceSubrange(open.lowerBound..<close.upperBound, with: String(repeating: String(body[..<star]), count: count))
    }
    return text
}

extension String {
    fileprivate func dropLastSlash() -> String { hasSuffix("/") ? String(dropLast()) : self }
}

/// A case's rule: the error types it may throw (by type name), text its
/// message must contain, and the calls where a result is documented.
struct BadInputRule: Decodable, Sendable {
    let errors: [String]?
    let message: String?
    let accepted: [String: String]?
}

/// What a call did.
enum BadInputOutcome: CustomStringConvertible {
    case returned(String)
    case threw(any Error)

    var description: String {
        switch self {
        case .returned(let value): return "returned \(value.prefix(200))"
        case .threw(let error): return "threw \(type(of: error)): \("\(error)".prefix(300))"
        }
    }
}

/// Runs `body` and says what it did; `Hung` after `limit`.
func badInputOutcome<T>(limit: Duration = .seconds(10), _ body: () async throws -> T) async -> BadInputOutcome {
    do {
        return .returned("\(try await withTimeout(limit, throwing: Hung()) { try await body() })")
    } catch {
        return .threw(error)
    }
}

/// A call still waiting when the guard ran out.
struct Hung: Error, CustomStringConvertible {
    var description: String { "hung: still waiting when the guard ran out" }
}

/// Checks one outcome against a rule: a documented acceptance, or an
/// error of an allowed type whose text is clear (not a raw dump, not empty)
/// and contains the rule's message.
func expectBadInput(_ outcome: BadInputOutcome, _ rule: BadInputRule, call: String, label: String,
                    sourceLocation: SourceLocation = #_sourceLocation) {
    let accepted = rule.accepted?[call]
    switch outcome {
    case .returned:
        if accepted == nil {
            Issue.record("\(label): \(outcome); expected an error (\(rule.errors ?? []))", sourceLocation: sourceLocation)
        }
    case .threw(let error):
        if accepted != nil, error is Hung || !(rule.errors ?? []).contains(typeName(error)) {
            Issue.record("\(label): \(outcome); documented as accepted (\(accepted!))", sourceLocation: sourceLocation)
            return
        }
        guard accepted == nil else { return }
        expectClearError(error, types: rule.errors ?? [], message: rule.message, label: label, sourceLocation: sourceLocation)
    }
}

/// An error of one of `types` whose text is clear and contains `message`.
func expectClearError(_ error: any Error, types: [String], message: String?, label: String,
                      sourceLocation: SourceLocation = #_sourceLocation) {
    let name = typeName(error)
    let text = "\(error)"
    if !types.contains(name) {
        Issue.record("\(label): threw \(name): \(text.prefix(300)); expected one of \(types)", sourceLocation: sourceLocation)
        return
    }
    // A clear message: some words, not a reflection dump like `Foo(code: 1)`,
    // and no raw NUL (which cuts the message short in C strings and logs).
    if text.count < 8 || text.hasPrefix("\(name)(") || text.utf8.contains(0) {
        Issue.record("\(label): unclear message \(text.debugDescription)", sourceLocation: sourceLocation)
    }
    if let message, !text.contains(message) {
        Issue.record("\(label): message '\(text.prefix(300))' lacks '\(message)'", sourceLocation: sourceLocation)
    }
}

/// The error's type name, as the corpus spells it.
func typeName(_ error: any Error) -> String { String(describing: type(of: error)) }

/// Counts checks per entry point, printed once per test for the report.
struct BadInputTally {
    private(set) var counts: [(String, Int)] = []
    mutating func add(_ entryPoint: String, _ count: Int = 1) {
        if let index = counts.firstIndex(where: { $0.0 == entryPoint }) { counts[index].1 += count } else { counts.append((entryPoint, count)) }
    }
    func report(_ title: String) {
        print("bad input, \(title): " + counts.map { "\($0.0) \($0.1)" }.joined(separator: ", "))
    }
}
