/// One receive buffer per hub. `recv(maxBytes)` reads into it and copies out
/// exactly what arrived, so a task blocked in `recv(65536)` holds no buffer
/// at all (idle connections stay small) and a receive allocates only its
/// result. Safe to share: it is used only on the hub's thread, between a
/// system call and the copy, with no suspension in between.
final class ReceiveScratch: @unchecked Sendable {
    /// Reads up to this many bytes go through the scratch buffer; larger ones
    /// read straight into their result.
    static let size = 64 * 1024

    let buffer: UnsafeMutableRawBufferPointer

    private init() {
        buffer = .allocate(byteCount: ReceiveScratch.size, alignment: 16)
    }

    deinit { buffer.deallocate() }

    private enum Key {}

    /// The scratch buffer of `hub`, made on first use.
    static func of(_ hub: Hub) -> ReceiveScratch {
        hub.storedValue(for: ObjectIdentifier(Key.self)) { ReceiveScratch() }
    }
}
