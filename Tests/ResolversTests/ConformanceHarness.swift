@testable import Resolvers
#if canImport(Glibc)
import Glibc
#endif

/// The result of running the conformance cases through one backend.
struct ConformanceReport: Sendable, CustomStringConvertible {
    /// One case whose outcomes did not match.
    struct Mismatch: Sendable {
        var testCase: ConformanceCase
        var system: ConformanceOutcome
        var backend: ConformanceOutcome
    }

    var backend: String
    var comparison: String
    var total = 0
    var equal = 0
    /// Of `equal`, the cases whose outcomes are identical (no allowance used).
    var identical = 0
    /// Of `equal`, the cases that matched only the system asked again.
    var rechecked = 0
    var mismatches: [Mismatch] = []

    /// "thread (exact): 20000 cases, 20000 equal", then the first mismatches.
    var description: String {
        var lines = ["\(backend) (\(comparison)): \(total) cases, \(equal) equal (\(identical) identical, "
                     + "\(equal - identical) up to DNS round-robin order; \(rechecked) after asking the system again), "
                     + "\(mismatches.count) different"]
        for mismatch in mismatches.prefix(40) {
            lines.append("  \(mismatch.testCase)\n    system:  \(clip(mismatch.system))\n    backend: \(clip(mismatch.backend))")
        }
        if mismatches.count > 40 { lines.append("  ... and \(mismatches.count - 40) more") }
        return lines.joined(separator: "\n")
    }
}

/// Writes a line to standard error (unbuffered: it survives the test process's exit).
func testLog(_ line: String) {
    let text = line + "\n"
    _ = text.withCString { write(2, $0, strlen($0)) }
}

/// An outcome's description, cut short for reports.
func clip(_ outcome: ConformanceOutcome, limit: Int = 400) -> String {
    let text = outcome.description
    return text.count <= limit ? text : String(text.prefix(limit)) + "... (\(text.count) characters)"
}

/// Runs conformance cases through the system and through any backend.
enum ConformanceHarness {
    /// The system's outcome of every case (computed on the calling thread).
    static func systemOutcomes(_ cases: [ConformanceCase]) -> [ConformanceOutcome] {
        cases.map { SystemReference.run($0.call) }
    }

    /// Runs every case through `resolver` from a task on `hub` and compares
    /// each outcome with the system's using `comparison`.
    static func run(_ cases: [ConformanceCase], expected: [ConformanceOutcome], against resolver: any Resolver,
                    comparison: ConformanceComparison, on hub: Hub) async throws -> ConformanceReport {
        precondition(cases.count == expected.count)
        let outcomes = try await hub.run {
            var outcomes: [ConformanceOutcome] = []
            outcomes.reserveCapacity(cases.count)
            for testCase in cases { outcomes.append(await testCase.call.run(on: resolver)) }
            return outcomes
        }
        var report = ConformanceReport(backend: resolver.name, comparison: comparison.name)
        for (index, testCase) in cases.enumerated() {
            report.total += 1
            let verdict = judge(testCase.call, expected: expected[index], actual: outcomes[index], comparison: comparison)
            if verdict.matches {
                report.equal += 1
                if verdict.system == outcomes[index] { report.identical += 1 }
                if verdict.system != expected[index] { report.rechecked += 1 }
            } else {
                report.mismatches.append(.init(testCase: testCase, system: verdict.system, backend: outcomes[index]))
            }
        }
        return report
    }

    /// Compares a backend's outcome with the system's. On a mismatch the
    /// system is asked again: the world can change between the two calls
    /// (another suite in the same namespace adds a blackhole route, which
    /// reorders `deadv6.evergreen.test`), and the backend is right if it
    /// agrees with the system as it is now.
    static func judge(_ call: ConformanceCall, expected: ConformanceOutcome, actual: ConformanceOutcome,
                      comparison: ConformanceComparison) -> (matches: Bool, system: ConformanceOutcome) {
        if comparison.matches(call, expected, actual) { return (true, expected) }
        let now = SystemReference.run(call)
        return (comparison.matches(call, now, actual), now)
    }
}

/// Whether this test process runs inside `scripts/dnsworld` (DNSWORLD=1 and
/// no default route). Tests that resolve names run only there: anywhere else
/// a lookup could reach the machine's real DNS servers.
let insideDNSWorld: Bool = {
    guard let flag = getenv("DNSWORLD"), String(cString: flag) == "1" else { return false }
    guard let file = fopen("/proc/self/net/route", "r") else { return false }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 512)
    var lineNumber = 0
    while fgets(&line, Int32(line.count), file) != nil {
        lineNumber += 1
        if lineNumber == 1 { continue }  // the header
        let fields = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            .split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
        if fields.count >= 8, fields[1] == "00000000", fields[7] == "00000000", fields[0] != "lo" { return false }
    }
    return true
}()
