import ArgumentParser
import Sockets

/// `evergreen config ...`
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "The resolver configuration: code, environment (EVERGREEN_*), config file, defaults.",
        subcommands: [ConfigShow.self]
    )
}

/// `evergreen config show`: the effective resolver settings and where each came from.
struct ConfigShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print the effective resolver settings and where each came from (code, environment, file, default).",
        discussion: """
            Sources, highest first: --config/--log-level (code), EVERGREEN_* variables, the config file
            (--config, else EVERGREEN_CONFIG), the defaults (for c-ares: the system's resolv.conf).
            A bad setting anywhere is an error naming the file or variable, the key and the value (exit status 1).
            """
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    func run() throws {
        let effective = try global.load()
        print(json ? Self.json(effective) : effective.report)
    }

    /// `{"settings": {"timeout": {"value": "0.5 s", "source": "file x.json"}, ...}, "configFile": ...}`.
    static func json(_ effective: EffectiveConfiguration) -> String {
        let settings = ConfigurationKey.allCases.map { key in
            "\(quoted(key.rawValue)): {\"value\": \(quoted(effective.valueText(of: key))), "
                + "\"source\": \(quoted(effective.source(of: key).description))}"
        }
        let file = effective.configFile.map(quoted) ?? "null"
        let fileSource = effective.configFileSource.map { quoted($0.description) } ?? "null"
        return "{\"settings\": {\(settings.joined(separator: ", "))}, \"configFile\": \(file), \"configFileSource\": \(fileSource)}"
    }

    /// A JSON string literal.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case _ where scalar.value < 0x20: result += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
