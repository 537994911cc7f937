#if canImport(Glibc)
import Glibc
#endif

/// The launcher's TCP sockets. Every descriptor is close-on-exec (tenders
/// are spawned from another thread at any time); errors are -errno.

/// An IPv4 socket address; `address` and `port` in network order.
func socketAddress(_ address: UInt32, _ port: UInt16) -> sockaddr_in {
    sockaddr_in(sin_family: sa_family_t(AF_INET), sin_port: port, sin_addr: in_addr(s_addr: address),
                sin_zero: (0, 0, 0, 0, 0, 0, 0, 0))
}

/// Calls `body` with `address` as a `sockaddr` pointer and its size.
func withSocketAddress<R>(_ address: sockaddr_in, _ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
    withUnsafePointer(to: address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
}

/// Calls `body` with `address` as a mutable `sockaddr` pointer and its
/// size (for getsockname and the like).
func withMutableSocketAddress<R>(_ address: inout sockaddr_in, _ body: (UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> R) -> R {
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    return withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, &length) }
    }
}

private func tcpSocket() -> Int32 {
    socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
}

/// -errno of the last call, after closing `fd`.
private func failing(_ fd: Int32) -> Int32 {
    let error = errno
    close(fd)
    return -error
}

/// A listening TCP socket on address:port (network order), non-blocking.
func listeningSocket(_ address: UInt32, _ port: UInt16, backlog: Int32) -> Int32 {
    let fd = tcpSocket()
    guard fd >= 0 else { return -errno }
    var one: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    let bound = withSocketAddress(socketAddress(address, port)) { bind(fd, $0, $1) == 0 }
    guard bound, listen(fd, backlog) == 0 else { return failing(fd) }
    return fd
}

/// A non-blocking TCP socket bound to interface `device`, connecting to
/// address:port (network order); the connection may still be in progress.
func connectThrough(_ device: String, _ address: UInt32, _ port: UInt16) -> Int32 {
    let fd = tcpSocket()
    guard fd >= 0 else { return -errno }
    var one: Int32 = 1
    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    let bound = device.withCString { setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, $0, socklen_t(strlen($0) + 1)) == 0 }
    guard bound else { return failing(fd) }
    let started = withSocketAddress(socketAddress(address, port)) { connect(fd, $0, $1) == 0 || errno == EINPROGRESS }
    guard started else { return failing(fd) }
    return fd
}

/// Moves a descriptor out of 0...9 (those a tender is given), closing the
/// old one; -errno on failure (an error given passes through).
func movedHigh(_ fd: Int32) -> Int32 {
    if fd < 0 || fd >= 10 { return fd }
    let high = fcntl(fd, F_DUPFD_CLOEXEC, 10)
    let error = errno
    close(fd)
    return high < 0 ? -error : high
}
