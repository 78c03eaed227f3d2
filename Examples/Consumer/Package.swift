// swift-tools-version: 6.1
// A separate package that depends on Evergreen by path, as a user's would.
import Foundation
import PackageDescription

// SwiftPM names a path dependency after its folder, whatever the clone is called.
let evergreen = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

let package = Package(
    name: "consumer",
    dependencies: [.package(path: evergreen.path)],
    targets: [
        .executableTarget(
            name: "consumer",
            dependencies: [.product(name: "Sockets", package: evergreen.lastPathComponent.lowercased())]
        ),
    ]
)
