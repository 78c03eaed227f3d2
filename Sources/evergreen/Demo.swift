import ArgumentParser

/// `evergreen demo ...`: self-contained demonstrations on loopback.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Demonstrations that need nothing but loopback.",
        subcommands: [DemoEcho.self]
    )
}
