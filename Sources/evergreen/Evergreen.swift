import ArgumentParser
import Sockets

/// The `evergreen` command-line tool (started by `EvergreenMain`).
struct Evergreen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evergreen",
        abstract: "Cooperative networking on a libev hub: resolve names, compare resolvers, serve, benchmark.",
        subcommands: [Resolve.self, ServeEcho.self, Connect.self, Demo.self, Bench.self, ConfigCommand.self, Soak.self]
    )
}

/// `evergreen bench ...`
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks (the harness in Benchmarks/ compares them with gevent, C and SwiftNIO).",
        subcommands: [BenchWait.self, BenchResolve.self]
    )
}
