// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Evergreen",
    platforms: [.macOS(.v15)],
    products: [
        // The module is `EvergreenHub` so that the type `Hub` never shadows its own module.
        .library(name: "Hub", targets: ["EvergreenHub"]),
        .library(name: "Resolvers", targets: ["Resolvers"]),
        .library(name: "Sockets", targets: ["Sockets"]),
        .executable(name: "evergreen", targets: ["evergreen"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0", traits: ["JSON", "YAML"]),
    ],
    targets: [
        .target(
            name: "CLibev",
            path: "Sources/CLibev",
            linkerSettings: [.linkedLibrary("ev")]
        ),
        .systemLibrary(
            name: "CAres",
            path: "Sources/CAres",
            pkgConfig: "libcares",
            providers: [.apt(["libc-ares-dev"])]
        ),
        .systemLibrary(
            name: "CIDN2",
            path: "Sources/CIDN2",
            pkgConfig: "libidn2",
            providers: [.apt(["libidn2-dev"])]
        ),
        .target(
            name: "CSockets",
            path: "Sources/CSockets"
        ),
        .target(
            name: "CResolv",
            path: "Sources/CResolv"
        ),
        .target(
            name: "EvergreenHub",
            dependencies: ["CLibev"],
            path: "Sources/Hub"
        ),
        .target(
            name: "Resolvers",
            dependencies: [
                "EvergreenHub", "CAres", "CIDN2", "CResolv",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Configuration", package: "swift-configuration"),
            ],
            path: "Sources/Resolvers"
        ),
        .target(
            name: "Sockets",
            dependencies: ["EvergreenHub", "Resolvers", "CSockets"],
            path: "Sources/Sockets"
        ),
        .executableTarget(
            name: "evergreen",
            dependencies: [
                "Sockets",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/evergreen"
        ),
        // Helpers the three test targets share (racer thread, descriptor census...).
        .target(name: "EvergreenTestSupport", dependencies: ["EvergreenHub"], path: "Tests/TestSupport"),
        .testTarget(name: "HubTests", dependencies: ["EvergreenHub", "CLibev", "EvergreenTestSupport"], path: "Tests/HubTests"),
        .testTarget(
            name: "ResolversTests",
            dependencies: [
                "Resolvers", "EvergreenTestSupport",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/ResolversTests"
        ),
        .testTarget(name: "SocketsTests", dependencies: ["Sockets", "EvergreenTestSupport"], path: "Tests/SocketsTests"),
    ],
    swiftLanguageModes: [.v6]
)
