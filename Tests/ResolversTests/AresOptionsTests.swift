@testable import Resolvers
import Testing

/// `AresOptions` and `AresNameserver`: parsing and validation (no lookups).
@Suite("c-ares options")
struct AresOptionsTests {
    @Test func nameserversParse() throws {
        let cases: [(String, String, UInt16?, AddressFamily)] = [
            ("127.0.0.1", "127.0.0.1", nil, .inet),
            ("127.0.0.1:5353", "127.0.0.1", 5353, .inet),
            ("::1", "::1", nil, .inet6),
            ("[::1]", "::1", nil, .inet6),
            ("[::1]:5353", "::1", 5353, .inet6),
            ("2001:db8::53", "2001:db8::53", nil, .inet6),
        ]
        for (text, address, port, family) in cases {
            let server = try AresNameserver(parsing: text)
            #expect(server.address == address, "\(text)")
            #expect(server.port == port, "\(text)")
            #expect(server.family == family, "\(text)")
        }
    }

    @Test(arguments: ["", "localhost", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:53x",
                      "[::1", "[::1]5353", "[127.0.0.1]:53", "1.2.3", "::1:53:", "[::1]:"])
    func badNameserversAreClearErrors(text: String) {
        #expect(throws: InvalidArgument.self) { try AresNameserver(parsing: text) }
    }

    @Test func nameserversPrintAsTheyParse() throws {
        for text in ["127.0.0.1", "127.0.0.1:5353", "::1", "[::1]:5353"] {
            #expect(try AresNameserver(parsing: text).description == text)
        }
    }

    @Test func badOptionsAreRefusedBeforeAnyChannelExists() {
        var options = AresOptions()
        options.timeout = .zero
        #expect(throws: InvalidArgument("c-ares timeout must be positive, got 0.0 seconds")) { try options.validate() }
        options = AresOptions()
        options.tries = 0
        #expect(throws: InvalidArgument.self) { try options.validate() }
        options = AresOptions()
        options.ndots = -1
        #expect(throws: InvalidArgument.self) { try options.validate() }
        options = AresOptions()
        options.lookups = [.dns, .dns]
        #expect(throws: InvalidArgument.self) { try options.validate() }
        options = AresOptions()
        options.searchDomains = ["bad domain"]
        #expect(throws: InvalidArgument.self) { try options.validate() }
        options = AresOptions()
        options.maxInFlight = 0
        #expect(throws: InvalidArgument.self) { try options.validate() }
        let hub = Hub(name: "ares-options", threadPoolSize: 1)
        defer { hub.shutdown() }
        #expect(throws: InvalidArgument.self) { try AresResolver(hub: hub, options: options) }
    }

    @Test func timeoutsBecomeWholeMillisecondsRoundedUp() {
        var options = AresOptions()
        #expect(options.timeoutMilliseconds == nil)
        for (timeout, ms) in [(Duration.milliseconds(200), Int32(200)), (.microseconds(500), 1), (.microseconds(1_000_100), 1001),
                              (.seconds(3), 3000)] {
            options.timeout = timeout
            #expect(options.timeoutMilliseconds == ms)
        }
    }

    @Test func flagsNeverCarryNoCheckResp() {
        let all = AresFlags(rawValue: 0x1ff)
        #expect(all == [.useTCP, .primary, .ignoreTruncation, .noRecursion, .stayOpen, .noSearch, .noAliases, .edns])
        #expect(all.description == "useTCP|primary|ignoreTruncation|noRecursion|stayOpen|noSearch|noAliases|edns")
    }

    @Test func aResolverOnAShutDownHubIsRefused() throws {
        let hub = Hub(name: "ares-gone", threadPoolSize: 1)
        hub.shutdown()
        var options = AresOptions()
        options.nameservers = [try AresNameserver(parsing: "127.0.0.1:53")]
        #expect(throws: HubError.shutDown(hub: "ares-gone")) { try AresResolver(hub: hub, options: options) }
    }
}
