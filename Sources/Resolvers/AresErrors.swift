import CAres
#if canImport(Glibc)
import Glibc
#endif

/// What c-ares status codes become, exactly as gevent maps them (the table
/// in BEHAVIOUR.md), so code written against the system backends sees the
/// same error kinds and messages.
enum AresErrorMapping {
    static let eaiAddrFamily = AddressInfoError.addressFamily
    static let eaiBadFlags = AddressInfoError.badFlags
    static let eaiNoName = AddressInfoError.noName
    static let eaiFamily = AddressInfoError.family
    static let eaiService = AddressInfoError.service
    static let eaiMemory = AddressInfoError.memory
    static let hostNotFound = HostError.hostNotFound
    static let noData = HostError.noData

    /// "ARES_ETIMEOUT" and so on, or the number.
    static func name(_ status: Int32) -> String {
        let names = [
            "ARES_SUCCESS", "ARES_ENODATA", "ARES_EFORMERR", "ARES_ESERVFAIL", "ARES_ENOTFOUND",
            "ARES_ENOTIMP", "ARES_EREFUSED", "ARES_EBADQUERY", "ARES_EBADNAME", "ARES_EBADFAMILY",
            "ARES_EBADRESP", "ARES_ECONNREFUSED", "ARES_ETIMEOUT", "ARES_EOF", "ARES_EFILE",
            "ARES_ENOMEM", "ARES_EDESTRUCTION", "ARES_EBADSTR", "ARES_EBADFLAGS", "ARES_ENONAME",
            "ARES_EBADHINTS", "ARES_ENOTINITIALIZED", "ARES_ELOADIPHLPAPI",
            "ARES_EADDRGETNETWORKPARAMS", "ARES_ECANCELLED", "ARES_ESERVICE",
        ]
        return names.indices.contains(Int(status)) ? names[Int(status)] : String(status)
    }

    /// "ARES_ETIMEOUT: Timeout while contacting DNS servers": the message of
    /// every status without a system equivalent.
    static func unmappedMessage(_ status: Int32) -> String {
        "\(name(status)): \(String(cString: ares_strerror(status)))"
    }

    /// The error `getaddrinfo` and `getnameinfo` throw for `status`.
    static func addressInfoError(_ status: Int32) -> AddressInfoError {
        let code: Int32
        switch status {
        case ARES_EBADFAMILY: code = eaiAddrFamily
        case ARES_EBADFLAGS: code = eaiBadFlags
        case ARES_ENOMEM: code = eaiMemory
        case ARES_ENONAME, ARES_ENOTFOUND, ARES_ENODATA: code = eaiNoName
        case ARES_ENOTIMP: code = eaiFamily
        case ARES_ESERVICE: code = eaiService
        default: return AddressInfoError(code: status, message: unmappedMessage(status))
        }
        return AddressInfoError(code: code, message: String(cString: gai_strerror(code)))
    }

    /// The error `gethostbyname` and `gethostbyaddr` throw for `status`.
    static func hostError(_ status: Int32) -> HostError {
        let code: Int32
        switch status {
        case ARES_ENONAME, ARES_ENOTFOUND: code = hostNotFound
        case ARES_ENODATA: code = noData
        default: return HostError(code: status, message: unmappedMessage(status))
        }
        return HostError(code: code, message: String(cString: hstrerror(code)))
    }

    /// The error `gethostbynameEx` throws: as `hostError`, but "unknown host"
    /// becomes EAI_NONAME, as the system's `gethostbyname_ex` reports it.
    static func hostEntryError(_ status: Int32) -> any Error {
        switch status {
        case ARES_ENONAME, ARES_ENOTFOUND: return addressInfoError(ARES_ENOTFOUND)
        default: return hostError(status)
        }
    }
}
