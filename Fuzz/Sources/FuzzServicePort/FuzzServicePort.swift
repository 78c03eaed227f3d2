import FuzzSupport
import Resolvers

// ServicePort on any text and any integer. Invariants: text of digits is a
// number, in range or an InvalidArgument naming it; anything else is a
// service name (nil); numbers outside 0...65535 are an InvalidArgument.

/// libFuzzer's entry point: checks one input against the invariants above.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzServicePort(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let text = fuzzText(data, size)
    let digits = !text.isEmpty && text.utf8.allSatisfy { $0 >= 48 && $0 <= 57 }
    do {
        let value = try ServicePort.service(text).numericValue()
        switch value {
        case .some(let port):
            guard digits, let number = Int(text), number == Int(port) else { finding("\(text.debugDescription) read as port \(port)"); return 0 }
        case .none:
            if digits { finding("\(text.debugDescription) is digits but was read as a service name") }
        }
    } catch {
        checkError(error, is: InvalidArgument.self, input: text)
        if !digits { finding("\(text.debugDescription) is a service name but threw \(error)") }
        if let number = Int(text), (0...65535).contains(number) { finding("\(text.debugDescription) is in range but threw \(error)") }
    }
    // The first eight bytes as a number.
    var raw: UInt64 = 0
    for index in 0..<min(size, 8) { raw |= UInt64(data![index]) << (8 * UInt64(index)) }
    let number = Int(truncatingIfNeeded: raw)
    do {
        let port = try ServicePort.number(number).numericValue()
        guard (0...65535).contains(number), port.map(Int.init) == number else { finding("\(number) read as \(String(describing: port))"); return 0 }
    } catch {
        checkError(error, is: InvalidArgument.self, input: "\(number)")
        if (0...65535).contains(number) { finding("\(number) is in range but threw \(error)") }
    }
    if "\(ServicePort.service(text))" != text { finding("\(text.debugDescription) describes itself differently") }
    return 0
}

/// The process entry point (SwiftPM links `main` as `FuzzServicePort_main`): runs libFuzzer.
@_cdecl("FuzzServicePort_main")
public func fuzzServicePortMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv, fuzzServicePort)
}
