import FuzzSupport
import Resolvers

// Configuration values from the environment: the first byte picks a setting
// (or, past the last, a made-up EVERGREEN_ name from the text), the rest is
// its value; a second setting may follow a NUL. Invariants: load() gives a
// configuration or a ConfigurationError naming a variable of the input, and
// its message stays short whatever the value's size.

/// libFuzzer's entry point: checks one input against the invariants above.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfigValues(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard size > 0, let data else { return 0 }
    let keys = ConfigurationKey.allCases.map(\.environmentVariable) + ["EVERGREEN_CONFIG"]
    var environment: [String: String] = [:]
    var rest = UnsafeBufferPointer(start: data, count: size)[...]
    while let selector = rest.first, environment.count < 3 {
        rest = rest.dropFirst()
        let end = rest.firstIndex(of: 0) ?? rest.endIndex
        let value = String(decoding: rest[..<end], as: UTF8.self)
        rest = rest[end...].dropFirst()
        let index = Int(selector) % (keys.count + 1)
        // No files from here (FuzzConfigFile does those): a path would read the disk.
        if keys.indices.contains(index) && keys[index] == "EVERGREEN_CONFIG" { continue }
        let name = keys.indices.contains(index) ? keys[index] : "EVERGREEN_" + value.prefix(8).uppercased()
        if name == "EVERGREEN_CONFIG" { continue }
        environment[name] = value
    }
    do {
        _ = try ConfigurationLoader(environment: environment).load()
    } catch let error as ConfigurationError {
        guard case .environment(let variable) = error.source, environment[variable] != nil else {
            finding("\(environment): the error names \(error.source)")
            return 0
        }
        if error.description.count > 2_000 { finding("\(environment): a \(error.description.count)-character error") }
    } catch {
        finding("\(environment): threw \(type(of: error)): \(error)")
    }
    return 0
}

/// The process entry point (SwiftPM links `main` as `FuzzConfigValues_main`): runs libFuzzer.
@_cdecl("FuzzConfigValues_main")
public func fuzzConfigValuesMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv, fuzzConfigValues)
}
