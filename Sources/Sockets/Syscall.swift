import CSockets
#if canImport(Glibc)
import Glibc
#endif

// Every system call a socket makes goes through `retryingSyscall`: it
// retries EINTR, turns EAGAIN/EWOULDBLOCK into nil ("would block": the
// caller then waits on its watcher and tries again), and throws any other
// errno as a `SystemError`. Sockets try the call first and wait only when it
// would block, so a ready socket costs one system call and no wait.

/// Runs `body` (a system call returning -1 and setting errno on failure)
/// until it is not interrupted.
///
/// - Returns: the non-negative result, or nil when the call would block.
/// - Throws: `SystemError` with errno for any other failure.
@inline(__always)
func retryingSyscall<Result: FixedWidthInteger>(_ body: () -> Result) throws -> Result? {
    while true {
        let result = body()
        if result >= 0 { return result }
        let code = errno
        if code == EINTR { continue }
        if code == EAGAIN || code == EWOULDBLOCK { return nil }
        throw SystemError(code: code)
    }
}

/// Like `retryingSyscall`, for calls where "would block" is an error too
/// (setsockopt, bind, listen, ...).
@inline(__always)
func checkedSyscall<Result: FixedWidthInteger>(_ body: () -> Result) throws -> Result {
    while true {
        let result = body()
        if result >= 0 { return result }
        let code = errno
        if code == EINTR { continue }
        throw SystemError(code: code)
    }
}

/// The error for an operation on a closed (or detached) socket.
func badDescriptor() -> SystemError {
    SystemError(code: EBADF, message: "Bad file descriptor")
}

/// The error a socket with a zero timeout throws instead of waiting
/// (Python's `BlockingIOError`).
func wouldBlock() -> SystemError {
    SystemError(code: EAGAIN)
}

/// `SOCK_NONBLOCK | SOCK_CLOEXEC`, or-ed into every socket and accept4 call.
let nonBlockingCloseOnExec = Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)

/// Makes `fd` non-blocking (for adopted descriptors).
func setNonBlocking(_ fd: Int32) throws {
    let flags = try checkedSyscall { fcntl(fd, F_GETFL) }
    if flags & O_NONBLOCK == 0 {
        _ = try checkedSyscall { fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }
}

/// Reads an integer socket option of `fd`.
func intOption(_ fd: Int32, level: Int32, name: Int32) throws -> Int32 {
    var value: Int32 = 0
    var length = socklen_t(MemoryLayout<Int32>.size)
    _ = try checkedSyscall { getsockopt(fd, level, name, &value, &length) }
    return value
}

/// Sets an integer socket option of `fd`.
func setIntOption(_ fd: Int32, level: Int32, name: Int32, _ value: Int32) throws {
    var value = value
    _ = try checkedSyscall { setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) }
}

/// `accept4(fd, address, length, SOCK_NONBLOCK | SOCK_CLOEXEC)`: one call
/// accepts a connection already non-blocking and close-on-exec.
@inline(__always)
func acceptNonBlocking(_ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>, _ length: UnsafeMutablePointer<socklen_t>) -> Int32 {
    evg_accept4(fd, address, length, nonBlockingCloseOnExec)
}
