import CIDN2
#if canImport(Glibc)
import Glibc
#endif

/// Internationalised domain names: the ASCII ("xn--") form of a host name,
/// made exactly as glibc's `getaddrinfo` makes it under `AI_IDN`.
///
/// glibc (inet/idna.c, `__idna_to_dns_encoding`) leaves all-ASCII names
/// alone, rejects non-ASCII names that contain a backslash, and otherwise
/// calls libidn2's `idn2_lookup_ul(name, &out, 0)`. That function adds
/// `IDN2_NFC_INPUT`, and libidn2 defaults to UTS #46 non-transitional
/// processing when neither `IDN2_TRANSITIONAL` nor `IDN2_NONTRANSITIONAL` is
/// given (asking for both is `IDN2_INVALID_FLAGS`). Swift strings are UTF-8,
/// so the UTF-8 entry point with the same flags gives the same answer
/// without depending on the process locale.
public enum IDNA {
    /// The flags glibc ends up using: NFC input, non-transitional UTS #46.
    static let flags = Int32(IDN2_NFC_INPUT.rawValue | IDN2_NONTRANSITIONAL.rawValue)

    /// `name` in the form DNS and the C library look up: unchanged when it
    /// is all ASCII, else its IDNA (punycode) encoding,
    /// e.g. "bücher.example" -> "xn--bcher-kva.example".
    ///
    /// - Throws: `AddressInfoError` with `EAI_IDN_ENCODE` ("Parameter string
    ///   not correctly encoded") when the name cannot be encoded, as glibc
    ///   reports it; `EAI_MEMORY` if libidn2 runs out of memory.
    public static func asciiName(_ name: String) throws -> String {
        if name.utf8.allSatisfy({ $0 < 0x80 }) { return name }
        // glibc refuses these rather than guess what the backslash escapes.
        if name.utf8.contains(UInt8(ascii: "\\")) { throw AddressInfoError(code: AddressInfoError.idnEncode) }
        var output: UnsafeMutablePointer<CChar>?
        let rc = idn2_to_ascii_8z(name, &output, flags)
        guard rc == Int32(IDN2_OK.rawValue), let output else {
            if rc == Int32(IDN2_MALLOC.rawValue) { throw AddressInfoError(code: AddressInfoError.memory) }
            throw AddressInfoError(code: AddressInfoError.idnEncode)
        }
        defer { idn2_free(output) }
        return String(cString: output)
    }
}
