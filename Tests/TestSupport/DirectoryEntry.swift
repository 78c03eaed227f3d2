#if canImport(Glibc)
import Glibc
#endif

/// The name in a `readdir` entry, read in place: a short entry's record ends
/// before the 256 bytes `d_name` is declared with, so copying the field
/// (or the struct) reads past glibc's buffer.
public func directoryEntryName(_ entry: UnsafeMutablePointer<dirent>) -> String {
    withUnsafePointer(to: &entry.pointee.d_name) { $0.withMemoryRebound(to: CChar.self, capacity: 1) { String(cString: $0) } }
}
