/// A one-pass look at a config file's bytes before any parser sees them:
/// it bounds the nesting depth (parsers recurse, and a 1 MiB file of `[`
/// would exhaust the stack) and, for JSON, notes each top-level value's type.
/// It never rejects what the parser would accept except for depth and YAML
/// anchors; malformed text is left for the parser to report.
enum ConfigurationFileScan {
    /// Why a file was refused before parsing.
    enum Problem: Error, Equatable {
        /// Nesting deeper than the limit.
        case tooDeep(limit: Int, line: Int)
        /// A YAML anchor or alias (`&a`, `*a`): aliases can expand a small
        /// file into an enormous tree ("billion laughs").
        case alias(line: Int)
    }

    /// Checks a JSON document and outlines its top-level object.
    static func json(_ bytes: [UInt8], maximumNesting: Int) throws(Problem) -> JSONOutline {
        var outline = JSONOutline()
        var depth = 0, line = 1
        var inString = false, escaped = false
        var state = TopLevel.expectKey
        var key: [UInt8] = [], keyStart = 0
        var valueStart = 0, kind = JSONOutline.Kind.null
        var elements = Set<JSONOutline.Kind>(), expectElement = false

        func finishEntry(at end: Int) {
            guard state == .inValue else { return }
            var text = String(decoding: bytes[valueStart..<min(end, valueStart + 200)], as: UTF8.self).trimmingWhitespace()
            if kind == .string && text.count >= 2 && text.hasPrefix("\"") && text.hasSuffix("\"") {
                text = String(text.dropFirst().dropLast())
            }
            outline.entries[String(decoding: key, as: UTF8.self)] = .init(kind: kind, elements: elements, text: text)
        }
        func startValue(_ valueKind: JSONOutline.Kind, at index: Int) {
            if depth == 1 && state == .expectValue {
                state = .inValue; kind = valueKind; valueStart = index; elements = []
                expectElement = valueKind == .array
            } else if depth == 2 && kind == .array && state == .inValue && expectElement {
                elements.insert(valueKind); expectElement = false
            }
        }

        for (index, byte) in bytes.enumerated() {
            if byte == UInt8(ascii: "\n") { line += 1 }
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") {
                    inString = false
                    if depth == 1 && state == .inKey { key = Array(bytes[keyStart..<index]); state = .expectColon }
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
                if depth == 1 && state == .expectKey { state = .inKey; keyStart = index + 1 } else { startValue(.string, at: index) }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                startValue(byte == UInt8(ascii: "{") ? .object : .array, at: index)
                depth += 1
                if depth > maximumNesting { throw .tooDeep(limit: maximumNesting, line: line) }
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if depth == 1 { finishEntry(at: index) }
                depth -= 1
            case UInt8(ascii: ":"):
                if depth == 1 && state == .expectColon { state = .expectValue }
            case UInt8(ascii: ","):
                if depth == 1 { finishEntry(at: index); state = .expectKey } else if depth == 2 { expectElement = true }
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                break
            case UInt8(ascii: "t"), UInt8(ascii: "f"):
                startValue(.bool, at: index)
            case UInt8(ascii: "n"):
                startValue(.null, at: index)
            default:
                startValue(.number, at: index)
            }
        }
        return outline
    }

    /// Where the JSON scanner is in the top-level object.
    private enum TopLevel { case expectKey, inKey, expectColon, expectValue, inValue }

    /// Checks a YAML document's nesting (block indentation plus flow
    /// brackets) and refuses anchors and aliases.
    static func yaml(_ bytes: [UInt8], maximumNesting: Int) throws(Problem) -> Void {
        var indents: [Int] = []          // open block levels, by indentation
        var flowDepth = 0
        var quote: UInt8? = nil          // open quote, which may span lines
        var blockScalarParent: Int? = nil
        var lineNumber = 0
        for rawLine in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            let lineBytes = Array(rawLine.last == UInt8(ascii: "\r") ? rawLine.dropLast() : rawLine[...])
            let indent = lineBytes.prefix { $0 == UInt8(ascii: " ") }.count
            let content = lineBytes[indent...]
            if quote == nil {
                if content.isEmpty || content.first == UInt8(ascii: "#") { continue }
                // The body of a `|` or `>` scalar is text, however indented.
                if let parent = blockScalarParent {
                    if indent > parent { continue }
                    blockScalarParent = nil
                }
                if flowDepth == 0 {
                    while let last = indents.last, last > indent { indents.removeLast() }
                    if indents.last != indent { indents.append(indent) }
                    var dashes = 0, rest = content[...]
                    while rest.first == UInt8(ascii: "-"), rest.count == 1 || rest.dropFirst().first == UInt8(ascii: " ") {
                        dashes += 1
                        rest = rest.dropFirst().drop { $0 == UInt8(ascii: " ") }
                    }
                    // `- - x` nests a sequence per dash; the first one's level is
                    // usually the indentation's already.
                    if indents.count + max(0, dashes - 1) > maximumNesting { throw .tooDeep(limit: maximumNesting, line: lineNumber) }
                }
            }
            var lastToken: ArraySlice<UInt8> = []
            var tokenStart = content.startIndex
            var index = content.startIndex
            while index < content.endIndex {
                let byte = content[index]
                let next = index + 1 < content.endIndex ? content[index + 1] : nil
                defer { index += 1 }
                if let open = quote {
                    if open == UInt8(ascii: "\"") && byte == UInt8(ascii: "\\") {
                        index += 1                       // an escaped character
                    } else if open == UInt8(ascii: "'") && byte == open && next == open {
                        index += 1                       // '' is a quote inside '...'
                    } else if byte == open {
                        quote = nil
                    }
                    continue
                }
                let previous = index == content.startIndex ? UInt8(ascii: " ") : content[index - 1]
                let atTokenStart = [UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "["), UInt8(ascii: "{"),
                                    UInt8(ascii: ",")].contains(previous)
                if atTokenStart { tokenStart = index }
                if atTokenStart && byte == UInt8(ascii: "#") { break }          // a comment
                if atTokenStart && (byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"")) {
                    quote = byte
                } else if atTokenStart && (byte == UInt8(ascii: "&") || byte == UInt8(ascii: "*")),
                          let next, next != UInt8(ascii: " ") {
                    throw .alias(line: lineNumber)
                } else if byte == UInt8(ascii: "[") || byte == UInt8(ascii: "{") {
                    flowDepth += 1
                    if indents.count + flowDepth > maximumNesting { throw .tooDeep(limit: maximumNesting, line: lineNumber) }
                } else if byte == UInt8(ascii: "]") || byte == UInt8(ascii: "}") {
                    flowDepth = max(0, flowDepth - 1)
                }
                if byte != UInt8(ascii: " ") { lastToken = content[tokenStart...index] }
            }
            if quote == nil, flowDepth == 0, let indicator = lastToken.first,
               indicator == UInt8(ascii: "|") || indicator == UInt8(ascii: ">"),
               lastToken.dropFirst().allSatisfy({ $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "-") || ($0 >= 48 && $0 <= 57) }) {
                blockScalarParent = indent
            }
        }
    }
}

/// The top-level entries of a JSON object, as written: each value's type
/// and, for an array, its elements' types.
struct JSONOutline: Equatable {
    /// A JSON value's type.
    enum Kind: String, Hashable, CustomStringConvertible {
        case string, number, bool, null, array, object
        var description: String { rawValue }
    }

    /// One top-level entry.
    struct Entry: Equatable {
        /// The value's type.
        var kind: Kind
        /// For an array, the types of its elements.
        var elements: Set<Kind>
        /// The value as written (at most 200 bytes).
        var text: String
    }

    /// The entries by key (as written, escapes kept).
    var entries: [String: Entry] = [:]

    /// The entry for `key`.
    subscript(key: String) -> Entry? { entries[key] }
}
