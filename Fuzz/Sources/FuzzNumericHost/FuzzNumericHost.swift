import FuzzSupport
import Resolvers

// SocketAddress(numericHost:port:), isNumericHost and withSockAddr on any text.
// Invariants: isNumericHost agrees with the parser; a parsed address turns
// into a sockaddr and back into itself; text that is not an address is an
// InvalidArgument with a readable message, for the parser and for
// `.inet(host:)` / `.inet6(host:)` alike (never a silently cut string).

/// libFuzzer's entry point: checks one input against the invariants above.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNumericHost(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let text = fuzzText(data, size)
    let port = UInt16(truncatingIfNeeded: size &* 257)
    let parsed: SocketAddress?
    do {
        parsed = try SocketAddress(numericHost: text, port: port)
    } catch {
        checkError(error, is: InvalidArgument.self, input: text)
        parsed = nil
    }
    if SocketAddress.isNumericHost(text) != (parsed != nil) {
        finding("isNumericHost(\(text.debugDescription)) is \(parsed == nil) but the parser says \(String(describing: parsed))")
    }
    if let parsed { roundTrip(parsed, text: text) }
    // The same text as the host of an address value, which skips the parser.
    for address in [SocketAddress.inet(host: text, port: port), .inet6(host: text, port: port)] {
        do {
            try address.withSockAddr { pointer, length in
                let back = try SocketAddress(pointer, length: length)
                if text.utf8.contains(0) { finding("\(address.family) host \(text.debugDescription) with a NUL became \(back)") }
            }
        } catch {
            checkError(error, is: InvalidArgument.self, input: text)
        }
    }
    return 0
}

/// A parsed address survives sockaddr and back, and parsing its own text.
private func roundTrip(_ address: SocketAddress, text: String) {
    do {
        let back = try address.withSockAddr { try SocketAddress($0, length: $1) }
        guard back.family == address.family, back.port == address.port else { finding("\(text.debugDescription): \(address) came back as \(back)"); return }
        if case .inet6(_, _, _, let scope) = address, case .inet6(_, _, _, let backScope) = back, scope != backScope {
            finding("\(text.debugDescription): scope \(scope) came back as \(backScope)")
        }
        let again = try SocketAddress(numericHost: back.host, port: back.port)
        guard again.host == back.host else { finding("\(text.debugDescription): \(back.host) parses as \(again.host)"); return }
    } catch {
        finding("\(text.debugDescription) parsed as \(address) but then failed: \(error)")
    }
}

/// The process entry point (SwiftPM links `main` as `FuzzNumericHost_main`): runs libFuzzer.
@_cdecl("FuzzNumericHost_main")
public func fuzzNumericHostMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv, fuzzNumericHost)
}
