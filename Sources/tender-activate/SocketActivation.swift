#if canImport(Glibc)
import Glibc
#endif

// Socket activation: listening sockets passed by systemd (sd_listen_fds(3))
// and --exit-idle, so that a .socket unit starts the launcher on the first
// connection and the launcher goes away when traffic stops.

/// A listening TCP/IPv4 socket passed by systemd.
struct PassedSocket {
    let fd: Int32
    /// Its name in LISTEN_FDNAMES (the unit's FileDescriptorName=), if any.
    let name: String
    /// Where it is bound: address (network order) and port.
    let address: UInt32
    let port: UInt16

    var description: String {
        "passed socket \(fd)\(name.isEmpty ? "" : " (\(name))") on \(formatIPv4(address)):\(port)"
    }

    /// Whether it is `config`'s socket: bound to its listen= address and port.
    func serves(_ config: EndpointConfig) -> Bool {
        config.listenAddress == address && config.listenPort == port
    }
}

/// The first passed descriptor (SD_LISTEN_FDS_START).
private let firstPassedFd: Int32 = 3

/// The sockets in LISTEN_FDS when LISTEN_PID is this process, each checked
/// (a listening TCP/IPv4 socket), made close-on-exec and non-blocking.
/// LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES are unset either way, so that
/// tenders do not inherit them.
func takePassedSockets() throws(ConfigError) -> [PassedSocket] {
    let pid = environment("LISTEN_PID"), count = environment("LISTEN_FDS"), names = environment("LISTEN_FDNAMES")
    for variable in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] { unsetenv(variable) }
    guard let pid, let count, pid_t(pid) == getpid() else { return [] }
    guard let n = Int32(count), (0...1000).contains(n) else {
        throw ConfigError("LISTEN_FDS=`\(count)' is not a number of descriptors")
    }
    let fdNames = names?.split(separator: ":", omittingEmptySubsequences: false).map(String.init) ?? []
    var sockets: [PassedSocket] = []
    for index in 0..<Int(n) {
        sockets.append(try passedSocket(firstPassedFd + Int32(index), name: index < fdNames.count ? fdNames[index] : ""))
    }
    return sockets
}

/// Each endpoint's passed socket, in the order of `configs` (nil: the
/// endpoint listens itself); a passed socket that no endpoint's listen=
/// names is an error.
func assignPassedSockets(_ sockets: [PassedSocket], to configs: [EndpointConfig]) throws(ConfigError) -> [Int32?] {
    var assigned = [Int32?](repeating: nil, count: configs.count)
    for socket in sockets {
        guard let index = configs.firstIndex(where: { socket.serves($0) }) else {
            throw ConfigError("\(socket.description) matches no endpoint: no listen=\(formatIPv4(socket.address)):\(socket.port)")
        }
        guard assigned[index] == nil else {
            throw ConfigError("\(socket.description): endpoint \(configs[index].listenText) has a passed socket already")
        }
        assigned[index] = socket.fd
        log("\(configs[index].listenText): \(socket.description) from systemd")
    }
    return assigned
}

private func environment(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }
}

/// Passed descriptor `fd`, checked and prepared for the accept loop.
private func passedSocket(_ fd: Int32, name: String) throws(ConfigError) -> PassedSocket {
    let what = "passed descriptor \(fd)\(name.isEmpty ? "" : " (\(name))")"
    let domain = try socketOption(fd, SO_DOMAIN, what)
    let type = try socketOption(fd, SO_TYPE, what)
    let proto = try socketOption(fd, SO_PROTOCOL, what)
    let listening = try socketOption(fd, SO_ACCEPTCONN, what)
    guard domain == AF_INET else {
        throw ConfigError("\(what) is not an IPv4 socket: give ListenStream= an IPv4 ADDRESS:PORT (a port alone is IPv6)")
    }
    guard type == Int32(SOCK_STREAM.rawValue), proto == Int32(IPPROTO_TCP) else {
        throw ConfigError("\(what) is not a TCP socket: give ListenStream=")
    }
    guard listening != 0 else {
        throw ConfigError("\(what) is not listening (a connection?): the socket unit needs Accept=no")
    }
    var address = sockaddr_in()
    let named = withMutableSocketAddress(&address) { getsockname(fd, $0, $1) }
    guard named == 0 else { throw ConfigError("\(what): getsockname: \(errnoText(errno))") }
    let flags = fcntl(fd, F_GETFL)
    guard fcntl(fd, F_SETFD, FD_CLOEXEC) == 0, flags >= 0, fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 else {
        throw ConfigError("\(what): fcntl: \(errnoText(errno))")
    }
    return PassedSocket(fd: fd, name: name, address: address.sin_addr.s_addr, port: UInt16(bigEndian: address.sin_port))
}

/// An integer socket option (SOL_SOCKET) of a passed descriptor.
private func socketOption(_ fd: Int32, _ option: Int32, _ what: String) throws(ConfigError) -> Int32 {
    var value: Int32 = 0
    var length = socklen_t(MemoryLayout<Int32>.size)
    guard getsockopt(fd, SOL_SOCKET, option, &value, &length) == 0 else {
        let code = errno
        throw ConfigError("\(what) is \(code == ENOTSOCK ? "not a socket" : code == EBADF ? "not open" : "unusable: \(errnoText(code))")")
    }
    return value
}

// MARK: --exit-idle

/// The launcher's own idle time: since a connection was last open or accepted.
struct IdleExit {
    let seconds: Double
    private var since = now()

    init(seconds: Double) { self.seconds = seconds }

    /// Whether the launcher has been idle for `seconds`; `busy`: a
    /// connection is open or was accepted since the last call.
    mutating func expired(busy: Bool) -> Bool {
        if busy { since = now() }
        return now() - since >= seconds
    }
}

extension Launcher {
    /// Whether --exit-idle's time is up; `fds`: the main loop's poll set
    /// after poll (the signalfd, then each endpoint's socket).
    func idleTooLong(_ fds: [pollfd]) -> Bool {
        guard exitIdle != nil else { return false }
        let busy = fds.dropFirst().contains { $0.revents != 0 } || lock.locked { endpoints.contains { $0.connections > 0 } }
        return exitIdle!.expired(busy: busy)
    }
}
