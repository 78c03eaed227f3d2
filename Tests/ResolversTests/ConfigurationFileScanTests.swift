@testable import Resolvers
import Testing

/// The look at a file's bytes before parsing: JSON value types, nesting
/// depth, YAML anchors.
@Suite("Configuration: file scan")
struct ConfigurationFileScanTests {
    @Test func theJSONOutlineHasEachTopLevelValuesType() throws {
        let text = #"""
            {"resolver": ["ares", "thread"], "timeout": 0.5, "tries": 2, "rotate": false,
             "log": "a \"quoted\" {[ text", "nested": {"a": [1, {"b": 2}]}, "none": null, "mixed": ["x", 1, true, [2]]}
            """#
        let outline = try ConfigurationFileScan.json(Array(text.utf8), maximumNesting: 16)
        #expect(outline["resolver"] == .init(kind: .array, elements: [.string], text: #"["ares", "thread"]"#))
        #expect(outline["timeout"] == .init(kind: .number, elements: [], text: "0.5"))
        #expect(outline["tries"]?.kind == .number)
        #expect(outline["rotate"] == .init(kind: .bool, elements: [], text: "false"))
        #expect(outline["log"] == .init(kind: .string, elements: [], text: #"a \"quoted\" {[ text"#))
        #expect(outline["nested"]?.kind == .object)
        #expect(outline["none"]?.kind == .null)
        #expect(outline["mixed"]?.elements == [.string, .number, .bool, .array])
        #expect(outline.entries.count == 8)
    }

    @Test func jsonDepthCountsBracketsOutsideStringsOnly() throws {
        let inString = "{\"log\": \"" + String(repeating: "[", count: 100) + "\"}"
        #expect(try ConfigurationFileScan.json(Array(inString.utf8), maximumNesting: 3)["log"]?.kind == .string)
        let nested = "{\"a\":\n[[[1]]]}"
        #expect(throws: ConfigurationFileScan.Problem.tooDeep(limit: 3, line: 2)) {
            try ConfigurationFileScan.json(Array(nested.utf8), maximumNesting: 3)
        }
        #expect(try ConfigurationFileScan.json(Array(nested.utf8), maximumNesting: 4)["a"]?.kind == .array)
    }

    @Test func yamlDepthCountsIndentationDashesAndFlowBrackets() throws {
        // A block scalar's text is not nesting, however far it is indented.
        let ok = "resolver:\n  - ares\n  - thread\nsearchDomains: [a.test, b.test]\nlog: |\n  text\n      more\n          text\ntries: 1\n"
        try ConfigurationFileScan.yaml(Array(ok.utf8), maximumNesting: 2)
        #expect(throws: ConfigurationFileScan.Problem.tooDeep(limit: 3, line: 4)) {
            try ConfigurationFileScan.yaml(Array("a:\n b:\n  c:\n   d: 1\n".utf8), maximumNesting: 3)
        }
        #expect(throws: ConfigurationFileScan.Problem.tooDeep(limit: 3, line: 1)) {
            try ConfigurationFileScan.yaml(Array("- - - - x\n".utf8), maximumNesting: 3)
        }
        #expect(throws: ConfigurationFileScan.Problem.tooDeep(limit: 3, line: 2)) {
            try ConfigurationFileScan.yaml(Array("a: [\n [[x]]]\n".utf8), maximumNesting: 3)
        }
    }

    @Test func yamlAnchorsAndAliasesAreRefusedButNotInQuotesOrComments() throws {
        #expect(throws: ConfigurationFileScan.Problem.alias(line: 2)) {
            try ConfigurationFileScan.yaml(Array("a: 1\nb: *a\n".utf8), maximumNesting: 16)
        }
        #expect(throws: ConfigurationFileScan.Problem.alias(line: 1)) {
            try ConfigurationFileScan.yaml(Array("list: [&x 1, 2]\n".utf8), maximumNesting: 16)
        }
        try ConfigurationFileScan.yaml(Array("a: '*not an alias'\nb: \"&nor this\" # *or this\nc: x&y*z\n".utf8), maximumNesting: 16)
    }
}
