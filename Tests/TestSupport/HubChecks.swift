import EvergreenHub
import Testing

/// The hub has no waits or watchers left.
public func expectQuiet(_ hub: Hub, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let stats = try await hub.statistics()
    #expect(stats.pendingWaits == 0, "pending waits left", sourceLocation: sourceLocation)
    #expect(stats.activeWatchers == 0, "watchers left", sourceLocation: sourceLocation)
}
