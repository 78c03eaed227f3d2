// swift-tools-version: 6.1
// libFuzzer targets for the parsers Evergreen owns. A separate package that
// depends on Evergreen by path; build and run it with scripts/fuzz.sh
// (`make fuzz`), which passes -sanitize=fuzzer,address.
import Foundation
import PackageDescription

// SwiftPM names a path dependency after its folder, whatever the clone is called.
let evergreen = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let evergreenPackage = evergreen.lastPathComponent.lowercased()

/// One executable per fuzzer; its entry point is `<Target>_main` (see FuzzSupport).
func fuzzer(_ name: String) -> Target {
    .executableTarget(
        name: name,
        dependencies: ["FuzzSupport", .product(name: "Resolvers", package: evergreenPackage)]
    )
}

let package = Package(
    name: "EvergreenFuzz",
    dependencies: [.package(path: evergreen.path)],
    targets: [
        .target(name: "CLibFuzzer"),
        .target(name: "FuzzSupport", dependencies: ["CLibFuzzer", .product(name: "Resolvers", package: evergreenPackage)]),
        fuzzer("FuzzNumericHost"),
        fuzzer("FuzzServicePort"),
        fuzzer("FuzzNameserver"),
        fuzzer("FuzzConfigValues"),
        fuzzer("FuzzConfigFile"),
    ],
    swiftLanguageModes: [.v6]
)
