/// Checks `condition` until it holds or `limit` has passed, yielding in
/// between: for an effect that lands a moment after the event the test
/// waited for (a joined thread leaving /proc, a close finishing). Returns
/// whether it held; the caller decides what a miss means.
public func poll(for limit: Duration = .seconds(10), until condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now.advanced(by: limit)
    while try await !condition() {
        if ContinuousClock.now > deadline { return false }
        await Task.yield()
    }
    return true
}
