import Sockets
#if canImport(Glibc)
import Glibc
#endif

/// What a soak phase measures at one quiet moment (no work in flight):
/// the process's memory and descriptors, and the hub's waits and watchers.
struct SoakSample: Sendable {
    /// "start", "warm-up" (the baseline), "chunk 3", ...
    var label: String
    /// Units of work done so far in the phase.
    var done: Int
    /// Resident memory, `VmRSS` of /proc/self/status, in KiB.
    var residentKiB: Int
    /// Entries of /proc/self/fd.
    var descriptors: Int
    /// `hub.statistics().activeWatchers`.
    var activeWatchers: Int
    /// `hub.statistics().pendingWaits`.
    var pendingWaits: Int

    /// Reads every count now.
    static func take(_ label: String, done: Int, hub: Hub) async throws -> SoakSample {
        let statistics = try await hub.statistics()
        return SoakSample(label: label, done: done, residentKiB: residentKiB(), descriptors: openDescriptors(),
                          activeWatchers: statistics.activeWatchers, pendingWaits: statistics.pendingWaits)
    }

    /// `VmRSS` in KiB, or -1 if /proc cannot tell.
    static func residentKiB() -> Int {
        guard let status = readText("/proc/self/status") else { return -1 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            // "VmRSS:\t   12345 kB"
            return Int(line.dropFirst("VmRSS:".count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "") ?? -1
        }
        return -1
    }

    /// Open descriptors, not counting the one used to list them.
    static func openDescriptors() -> Int {
        guard let entries = directoryEntryCount("/proc/self/fd") else { return -1 }
        return entries - 1
    }
}

/// One phase's samples, failures and verdict.
struct SoakReport {
    /// "waits", "lookups/thread", ...
    let phase: String
    /// What a unit of work is: "round trips", "lookups", "connections".
    let unit: String
    /// Units asked for.
    let total: Int
    /// The sample before any work, then one after each chunk.
    let samples: [SoakSample]
    /// Units that failed (an error, a wrong answer).
    let failures: Int
    /// The first failure's message, for the report.
    let firstFailure: String?
    /// Wall time of the work, sampling included.
    let seconds: Double
    /// How far resident memory may grow over the baseline (0.10 is 10%).
    let memoryTolerance: Double

    /// The sample after the warm-up chunk: what the rest must stay at.
    var baseline: SoakSample { samples[min(1, samples.count - 1)] }

    /// Why the phase failed; empty when it passed.
    var problems: [String] {
        var problems: [String] = []
        let base = baseline
        let later = samples.dropFirst(2)
        if samples.contains(where: { $0.residentKiB <= 0 }) {
            problems.append("resident memory could not be read from /proc/self/status")
        } else if let peak = later.max(by: { $0.residentKiB < $1.residentKiB }),
                  Double(peak.residentKiB) > Double(base.residentKiB) * (1 + memoryTolerance) {
            problems.append("memory grew \(percent(peak.residentKiB, over: base.residentKiB)) over the baseline "
                            + "(\(peak.residentKiB) KiB at \(peak.label); limit \(Int(memoryTolerance * 100))%)")
        }
        if let last = samples.last {
            if last.descriptors != base.descriptors {
                problems.append("descriptors \(base.descriptors) -> \(last.descriptors)")
            }
            if last.activeWatchers != base.activeWatchers {
                problems.append("active watchers \(base.activeWatchers) -> \(last.activeWatchers)")
            }
            if last.pendingWaits != base.pendingWaits {
                problems.append("pending waits \(base.pendingWaits) -> \(last.pendingWaits)")
            }
        }
        if failures > 0 { problems.append("\(failures) of \(total) \(unit) failed (first: \(firstFailure ?? "?"))") }
        return problems
    }

    /// The table of samples and the verdict line, for standard output.
    var text: String {
        var lines = ["phase \(phase): \(total) \(unit) in \(samples.count - 1) chunks (the first is the warm-up)"]
        lines.append("  " + pad("sample", 10) + pad("done", 10, right: true) + pad("rss KiB", 10, right: true)
                     + pad("fds", 6, right: true) + pad("watchers", 10, right: true) + pad("pending", 9, right: true)
                     + "  rss vs baseline")
        for sample in samples {
            let change = sample.label == "start" ? "" : percent(sample.residentKiB, over: baseline.residentKiB)
            lines.append("  " + pad(sample.label, 10) + pad("\(sample.done)", 10, right: true)
                         + pad("\(sample.residentKiB)", 10, right: true) + pad("\(sample.descriptors)", 6, right: true)
                         + pad("\(sample.activeWatchers)", 10, right: true) + pad("\(sample.pendingWaits)", 9, right: true)
                         + "  " + change)
        }
        let rate = seconds > 0 ? Int(Double(total) / seconds) : 0
        let timing = "\(total - failures) \(unit) ok in \(format2(seconds)) s (\(rate)/s)"
        let issues = problems
        if issues.isEmpty {
            lines.append("  verdict \(phase): PASS (memory within \(Int(memoryTolerance * 100))%, descriptors, "
                         + "watchers and pending waits back to the baseline; \(timing))")
        } else {
            lines.append("  verdict \(phase): FAIL: " + issues.joined(separator: "; ") + " (\(timing))")
        }
        return lines.joined(separator: "\n")
    }
}

/// "+3.2%" for `value` against `base`.
private func percent(_ value: Int, over base: Int) -> String {
    guard base > 0 else { return "?" }
    let change = (Double(value) - Double(base)) / Double(base) * 100
    return (change >= 0 ? "+" : "") + format2(change, digits: 1) + "%"
}

/// `value` with `digits` decimals, without Foundation.
private func format2(_ value: Double, digits: Int = 2) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    let whole = Int(scaled / scale)
    let fraction = Int(scaled) - whole * Int(scale)
    let fractionText = String(fraction)
    let padded = String(repeating: "0", count: max(0, digits - fractionText.count)) + fractionText
    return (value < 0 && scaled > 0 ? "-" : "") + "\(whole)" + (digits > 0 ? "." + padded : "")
}

/// `text` padded with spaces to `width` (on the left when `right`).
private func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, width - text.count))
    return right ? fill + text : text + fill
}
