import CAres

/// One lookup that waits for room in its channel's window
/// (`AresOptions.maxActiveLookups`). Hub thread only.
final class AresPendingLookup: @unchecked Sendable {
    /// Starts the c-ares call; nil once it was started, failed or cancelled,
    /// so that each lookup leaves the queue exactly once.
    private var start: ((ares_channel) -> Void)?
    /// Fails the waiting task (the channel was destroyed).
    private var fail: ((any Error) -> Void)?

    init() {}

    /// Whether it still waits in the queue.
    var isWaiting: Bool { start != nil }

    /// Fills in what to do when its turn comes (or the channel goes).
    func prepare(start: @escaping (ares_channel) -> Void, fail: @escaping (any Error) -> Void) {
        self.start = start
        self.fail = fail
    }

    /// Hands the lookup to c-ares.
    func run(on channel: ares_channel) {
        let start = self.start
        forget()
        start?(channel)
    }

    /// Fails the waiting task with `error`.
    func fail(with error: any Error) {
        let fail = self.fail
        forget()
        fail?(error)
    }

    /// Drops the closures (and the continuation they hold): cancelled.
    func forget() {
        start = nil
        fail = nil
    }
}

/// The lookups waiting for room in a channel's window, first in first out.
/// A cancelled lookup leaves at once (it is no longer counted, and can never
/// start); its slot in the array is reclaimed later, in bulk.
struct AresLookupQueue {
    private var entries: [AresPendingLookup] = []
    /// The index of the oldest entry not yet taken.
    private var head = 0
    /// Lookups waiting (cancelled ones not counted).
    private(set) var count = 0

    /// Whether no lookup waits.
    var isEmpty: Bool { count == 0 }

    /// Queues `lookup` last.
    mutating func append(_ lookup: AresPendingLookup) {
        entries.append(lookup)
        count += 1
    }

    /// Takes the oldest waiting lookup out of the queue.
    mutating func popFirst() -> AresPendingLookup? {
        while head < entries.count {
            let entry = entries[head]
            head += 1
            if entry.isWaiting {
                count -= 1
                compactIfWasteful()
                return entry
            }
        }
        return nil
    }

    /// Takes a cancelled lookup out of the queue; false if it was not
    /// waiting (already started or failed).
    mutating func cancel(_ lookup: AresPendingLookup) -> Bool {
        guard lookup.isWaiting else { return false }
        lookup.forget()
        count -= 1
        compactIfWasteful()
        return true
    }

    /// Takes every waiting lookup out, oldest first.
    mutating func removeAll() -> [AresPendingLookup] {
        let waiting = entries[head...].filter(\.isWaiting)
        entries = []
        head = 0
        count = 0
        return waiting
    }

    /// Drops taken and cancelled entries once they are the majority, so
    /// that the array stays within about twice the waiting lookups
    /// (amortised O(1) per lookup).
    private mutating func compactIfWasteful() {
        let dead = entries.count - count
        guard dead >= 64, dead > count else { return }
        entries = entries[head...].filter(\.isWaiting)
        head = 0
    }

    /// Entries held, waiting or not (for tests of the compaction).
    var storage: Int { entries.count }
}
