import Resolvers
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A hosts file of the test's own, next to the fake DNS server.
final class AresTempHostsFile: Sendable {
    let path: String

    init(_ text: String) throws {
        var template = Array("/tmp/evergreen-hosts-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { throw FakeDNSError("mkstemp failed: errno \(errno)") }
        close(fd)
        path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        try write(text)
    }

    /// Replaces the content (a new file renamed over the old: a new inode).
    func write(_ text: String) throws {
        let temporary = path + ".new"
        guard let file = fopen(temporary, "w") else { throw FakeDNSError("cannot write \(temporary)") }
        fputs(text, file)
        fclose(file)
        guard rename(temporary, path) == 0 else { throw FakeDNSError("rename failed: errno \(errno)") }
    }

    deinit { unlink(path) }
}

/// The hosts file, read by Evergreen, before or after DNS.
@Suite("c-ares hosts file (fake server)", .timeLimit(.minutes(1)))
struct AresHostsFileTests {
    static let hosts = """
        # comment line
        192.0.2.60\thostsonly.fake.test hostsonly   # trailing comment
        2001:db8::60\thostsonly.fake.test hostsonly
        192.0.2.70 ok.fake.test
        not-an-address broken.fake.test
        192.0.2.61 HostsOnly.fake.test second.fake.test

        """

    private func withHosts(_ lookups: [AresLookupSource] = [.hostsFile, .dns],
                           _ body: (AresResolver, FakeDNSServer, AresTempHostsFile) async throws -> Void) async throws {
        let file = try AresTempHostsFile(Self.hosts)
        try await withAresFixture(configure: {
            $0.lookups = lookups
            $0.hostsFilePath = file.path
            $0.hostsFileCheckInterval = .zero
        }) { resolver, server, _ in try await body(resolver, server, file) }
    }

    @Test func aHostsNameGetsExactlyTheFilesAddressesForEveryFamily() async throws {
        try await withHosts { resolver, server, _ in
            let any = try await resolver.getaddrinfo(host: "hostsonly.fake.test", port: 22, type: .stream)
            #expect(Set(any.map(\.address)) == [.inet(host: "192.0.2.60", port: 22), .inet(host: "192.0.2.61", port: 22),
                                                 .inet6(host: "2001:db8::60", port: 22)])
            let v4 = try await resolver.getaddrinfo(host: "HOSTSONLY", family: .inet, type: .stream)
            #expect(v4.map(\.address) == [.inet(host: "192.0.2.60", port: 0)])
            let v6 = try await resolver.getaddrinfo(host: "hostsonly", family: .inet6)
            #expect(v6.map(\.address) == [.inet6(host: "2001:db8::60", port: 0), .inet6(host: "2001:db8::60", port: 0)])
            #expect(v6.map(\.type) == [.stream, .datagram])
            // ok.fake.test is in the file (192.0.2.70) and in DNS (192.0.2.1): the file wins.
            let ok = try await resolver.getaddrinfo(host: "ok.fake.test", type: .stream)
            #expect(ok.map(\.address) == [.inet(host: "192.0.2.70", port: 0)])
            #expect(server.count(of: "hostsonly.fake.test") == 0)
            #expect(server.count(of: "ok.fake.test") == 0)
            // The file has no IPv6 address for ok.fake.test: that family goes to DNS.
            await #expect(throws: AddressInfoError.self) { try await resolver.getaddrinfo(host: "ok.fake.test", family: .inet6) }
            #expect(server.count(of: "ok.fake.test") == 1)
        }
    }

    @Test func hostEntriesAndReverseLookupsComeFromTheFile() async throws {
        try await withHosts { resolver, server, _ in
            let entry = try await resolver.gethostbynameEx("hostsonly.fake.test")
            #expect(entry == HostEntry(name: "hostsonly.fake.test", aliases: ["hostsonly", "HostsOnly.fake.test", "second.fake.test"],
                                       addresses: ["192.0.2.60", "192.0.2.61"]))
            let value1 = try await resolver.gethostbyname("second.fake.test")
            #expect(value1 == "192.0.2.61")
            let reverse = try await resolver.gethostbyaddr("2001:db8:0::60")
            #expect(reverse == HostEntry(name: "hostsonly.fake.test", aliases: ["hostsonly"], addresses: ["2001:db8::60"]))
            let names = try await resolver.getnameinfo(.inet(host: "192.0.2.60", port: 22), flags: [])
            #expect(names.host == "hostsonly.fake.test")
            #expect(names.service == "ssh")
            #expect(server.count(of: "60.2.0.192.in-addr.arpa") == 0)
        }
    }

    @Test func aChangedFileIsReadAgain() async throws {
        try await withHosts { resolver, _, file in
            let value2 = try await resolver.gethostbyname("hostsonly")
            #expect(value2 == "192.0.2.60")
            try file.write("192.0.2.99 hostsonly\n")
            let value3 = try await resolver.gethostbyname("hostsonly")
            #expect(value3 == "192.0.2.99")
            try file.write("")
            await #expect(throws: AddressInfoError.self) { try await resolver.gethostbyname("hostsonly") }
        }
    }

    @Test func theFileIsCheckedAtMostOncePerInterval() async throws {
        let file = try AresTempHostsFile(Self.hosts)
        try await withAresFixture(configure: {
            $0.lookups = [.hostsFile, .dns]
            $0.hostsFilePath = file.path
            $0.hostsFileCheckInterval = .seconds(3600)
        }) { resolver, _, _ in
            #expect(try await resolver.gethostbyname("hostsonly") == "192.0.2.60")
            try file.write("192.0.2.99 hostsonly\n")
            // Not an hour yet: the parsed copy still answers.
            #expect(try await resolver.gethostbyname("hostsonly") == "192.0.2.60")
        }
    }

    @Test func dnsFirstFallsBackToTheFile() async throws {
        try await withHosts([.dns, .hostsFile]) { resolver, server, _ in
            let ok = try await resolver.getaddrinfo(host: "ok.fake.test", family: .inet, type: .stream)
            #expect(ok.map(\.address) == [.inet(host: "192.0.2.1", port: 0)])
            let only = try await resolver.getaddrinfo(host: "hostsonly.fake.test", family: .inet, type: .stream)
            #expect(only.map(\.address) == [.inet(host: "192.0.2.60", port: 0), .inet(host: "192.0.2.61", port: 0)])
            #expect(server.count(of: "hostsonly.fake.test") == 1)
        }
    }

    @Test func theFileAloneNeverAsksDNS() async throws {
        try await withHosts([.hostsFile]) { resolver, server, _ in
            let value4 = try await resolver.gethostbyname("hostsonly")
            #expect(value4 == "192.0.2.60")
            await #expect(throws: AddressInfoError(code: AddressInfoError.noName, message: "Name or service not known")) {
                try await resolver.getaddrinfo(host: "n3.fake.test")
            }
            #expect(server.count(of: "n3.fake.test") == 0)
        }
    }
}
