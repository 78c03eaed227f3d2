#if canImport(Glibc)
import Glibc
#endif

/// The resolv.conf settings c-ares 1.18 does not read although the system
/// resolver does: `options timeout:N` and `attempts:N` (c-ares only knows the
/// old `retrans:`/`retry:` spellings, so a system configured for 1 s would
/// get c-ares' 5 s x 4 tries). Read the way glibc reads them: the file's
/// `options` lines, then `RES_OPTIONS` from the environment, the last value
/// winning, capped as glibc caps them.
enum AresResolvConf {
    /// glibc's RES_MAXRETRANS and RES_MAXRETRY.
    static let maxTimeoutSeconds = 30
    static let maxAttempts = 5

    struct Settings: Equatable {
        var timeoutSeconds: Int?
        var attempts: Int?
    }

    /// The settings of `path` (default /etc/resolv.conf) and `RES_OPTIONS`.
    static func read(path: String?) -> Settings {
        var settings = Settings()
        if let file = fopen(path ?? "/etc/resolv.conf", "r") {
            defer { fclose(file) }
            var line: UnsafeMutablePointer<CChar>?
            var capacity = 0
            defer { free(line) }
            while getline(&line, &capacity, file) > 0, let line {
                let text = String(cString: line)
                let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
                guard fields.first == "options" else { continue }
                apply(fields.dropFirst(), to: &settings)
            }
        }
        if let environment = getenv("RES_OPTIONS") {
            apply(String(cString: environment).split(whereSeparator: { $0 == " " || $0 == "\t" }), to: &settings)
        }
        return settings
    }

    static func apply<S: Sequence>(_ words: S, to settings: inout Settings) where S.Element == Substring {
        for word in words {
            if word.hasPrefix("timeout:"), let value = Int(word.dropFirst("timeout:".count)), value >= 0 {
                settings.timeoutSeconds = min(max(value, 1), maxTimeoutSeconds)
            } else if word.hasPrefix("attempts:"), let value = Int(word.dropFirst("attempts:".count)), value >= 0 {
                settings.attempts = min(max(value, 1), maxAttempts)
            }
        }
    }
}
