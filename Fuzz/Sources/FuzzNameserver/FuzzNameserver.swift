import FuzzSupport
import Resolvers

// AresNameserver(parsing:) (`IP`, `IPv4:PORT`, `[IPv6]:PORT`) on any text,
// directly and as EVERGREEN_NAMESERVERS. Invariants: a parsed server has a
// numeric address and a port of 1-65535 and reads back from its own text;
// anything else is an InvalidArgument "bad nameserver '<text>': ..."; the
// configuration gives a value or a ConfigurationError, nothing else.

/// libFuzzer's entry point: checks one input against the invariants above.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNameserver(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let text = fuzzText(data, size)
    do {
        let server = try AresNameserver(parsing: text)
        if text.utf8.contains(0) { finding("\(text.debugDescription) with a NUL parsed as \(server)") }
        if server.port == 0 { finding("\(text.debugDescription) parsed with port 0") }
        guard SocketAddress.isNumericHost(server.address) else { finding("\(text.debugDescription): address \(server.address.debugDescription)"); return 0 }
        let again = try AresNameserver(parsing: server.description)
        if again != server { finding("\(text.debugDescription) parsed as \(server), which reads back as \(again)") }
    } catch let error as InvalidArgument {
        checkError(error, is: InvalidArgument.self, input: text)
        // Compared as bytes: a combining mark in the text would join the quote's character.
        if !error.message.utf8.starts(with: "bad nameserver '".utf8) { finding("\(text.debugDescription): message \(error.message.debugDescription)") }
    } catch {
        finding("\(text.debugDescription): threw \(type(of: error)): \(error)")
    }
    do {
        _ = try ConfigurationLoader(environment: ["EVERGREEN_NAMESERVERS": text]).load()
    } catch let error as ConfigurationError {
        if error.description.count > 2_000 { finding("\(text.debugDescription): a \(error.description.count)-character error") }
    } catch {
        finding("\(text.debugDescription) in EVERGREEN_NAMESERVERS: threw \(type(of: error)): \(error)")
    }
    return 0
}

/// The process entry point (SwiftPM links `main` as `FuzzNameserver_main`): runs libFuzzer.
@_cdecl("FuzzNameserver_main")
public func fuzzNameserverMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv, fuzzNameserver)
}
