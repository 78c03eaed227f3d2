// swift-tools-version: 6.0
// Reference echo server for the Evergreen benchmarks: SwiftNIO on ONE event loop.
// This is a separate package (its own .build/) so the main package never depends on NIO.
import PackageDescription

let package = Package(
    name: "nio-echo",
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "nio-echo",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Sources/nio-echo"
        ),
    ]
)
