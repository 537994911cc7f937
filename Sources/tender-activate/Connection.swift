#if canImport(Glibc)
import Glibc
#endif
import CActivate

/// One client connection: gets a VM, connects to the guest through the
/// VM's tap (bounded wait while it boots) and relays bytes both ways.
struct Connection {
    let launcher: Launcher
    let endpoint: Endpoint
    let client: Int32
    /// When the connection was accepted (for --verbose's first-byte time).
    let accepted: Double

    private var config: EndpointConfig { endpoint.config }

    func serve() {
        let vm: VM? = launcher.lock.locked {
            if config.mode == .endpoint {
                if endpoint.current == nil { endpoint.current = launcher.launch(endpoint) }
                endpoint.current?.active += 1
                return endpoint.current
            }
            let vm = launcher.launch(endpoint)
            vm?.active += 1
            return vm
        }
        defer {
            close(client)
            launcher.lock.locked {
                endpoint.connections -= 1
                if let vm {
                    vm.active -= 1
                    vm.lastUsed = now()
                    if config.mode == .connection { launcher.stop(vm) }
                }
            }
        }
        guard let vm else {
            closeCleanly()
            return
        }
        guard let guest = connectGuest(vm) else {
            closeCleanly()
            return
        }
        defer { close(guest) }
        if !relay(guest: guest, vm: vm) {
            // The VM ended mid-connection: a reset tells the client the
            // reply is cut short (a FIN would pass for its end).
            var zero = linger(l_onoff: 1, l_linger: 0)
            setsockopt(client, SOL_SOCKET, SO_LINGER, &zero, socklen_t(MemoryLayout<linger>.size))
        }
    }

    /// A FIN, not a reset, for a client that gets no reply: what it sent is
    /// read and dropped first (closing with unread data sends a reset).
    private func closeCleanly() {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 16)
        defer { buffer.deallocate() }
        while recv(client, buffer, 4096, Int32(MSG_DONTWAIT)) > 0 {}
        Glibc.shutdown(client, Int32(SHUT_WR))
        // Until the client closes its side too (bounded).
        let deadline = now() + 1
        while now() < deadline {
            var p = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 100) > 0, recv(client, buffer, 4096, Int32(MSG_DONTWAIT)) > 0 else { break }
        }
    }

    private func isDead(_ vm: VM) -> (dead: Bool, exit: String) {
        launcher.lock.locked { (vm.dead, vm.exitText) }
    }

    /// A connected socket to the guest, or nil (logged) when the guest did
    /// not accept within the endpoint's wait.
    private func connectGuest(_ vm: VM) -> Int32? {
        let deadline = now() + config.bootWait
        var lastError: Int32 = ETIMEDOUT
        if vm.persistentTap {
            // Until the tender attaches the tap, what the host sends on it is
            // dropped (an ARP request or SYN lost costs a 1 s retransmit).
            while act_if_carrier(vm.tap) == 0 && now() < deadline && !isDead(vm).dead {
                var pause = timespec(tv_sec: 0, tv_nsec: 200_000)
                nanosleep(&pause, nil)
            }
            // (The kernel's link watch then activates its queue, at once for a carrier coming up.)
            var settle = timespec(tv_sec: 0, tv_nsec: 1_000_000)
            nanosleep(&settle, nil)
        }
        while now() < deadline {
            let (dead, exit) = isDead(vm)
            if dead {
                log("\(endpoint.name): vm \(vm.id) \(exit) before accepting the connection")
                return nil
            }
            let socket = connectThrough(vm.tap, config.guestAddress, config.guestPort.bigEndian)
            guard socket >= 0 else {
                log("\(endpoint.name): connecting to the guest: \(errnoText(-socket))")
                return nil
            }
            while now() < deadline {
                var p = pollfd(fd: socket, events: Int16(POLLOUT), revents: 0)
                let ready = poll(&p, 1, 20)
                if ready == 0 {
                    if isDead(vm).dead { break }
                    continue
                }
                var error: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(socket, SOL_SOCKET, SO_ERROR, &error, &length)
                if error == 0 {
                    _ = fcntl(socket, F_SETFL, fcntl(socket, F_GETFL) & ~O_NONBLOCK)
                    return socket
                }
                lastError = error
                break
            }
            close(socket)
            // Refused (not listening yet) or unreachable: try again shortly.
            var pause = timespec(tv_sec: 0, tv_nsec: 2_000_000)
            nanosleep(&pause, nil)
        }
        log("\(endpoint.name): guest \(formatIPv4(config.guestAddress)):\(config.guestPort) on vm \(vm.id) did not accept within \(config.bootWait) s (\(errnoText(lastError))); closing the client")
        return nil
    }

    /// Copies both ways until both are closed or the VM is gone. Small
    /// transfers go through a buffer; a direction that fills the buffer
    /// switches to splice(2) through a pipe (no copy through user space).
    /// False when the VM ended before the connection did.
    private func relay(guest: Int32, vm: VM) -> Bool {
        var directions = [Direction(from: client, to: guest), Direction(from: guest, to: client)]
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: Direction.bufferSize, alignment: 16)
        defer {
            buffer.deallocate()
            for d in directions { d.closePipe() }
        }
        while directions.contains(where: { $0.open }) {
            var fds = directions.map { pollfd(fd: $0.from, events: Int16($0.open ? POLLIN : 0), revents: 0) }
            let ready = poll(&fds, 2, 100)
            if ready == 0 {
                if isDead(vm).dead {
                    // Whatever the guest sent before it ended is delivered.
                    _ = directions[1].pump(buffer)
                    return false
                }
                continue
            }
            for index in 0..<2 where directions[index].open && fds[index].revents != 0 {
                let before = directions[1].moved
                let open = directions[index].pump(buffer)
                if verbose && index == 1 && before == 0 && directions[1].moved > 0 {
                    log("\(endpoint.name): vm \(vm.id): first reply byte \(milliseconds(now() - accepted)) ms after accept")
                }
                // Reset or error: end both ways.
                if !open && directions[index].failed { return !isDead(vm).dead }
            }
        }
        return true
    }
}

/// One way of a relay.
struct Direction {
    static let bufferSize = 16 << 10
    let from: Int32
    let to: Int32
    var open = true
    var failed = false
    /// Bytes moved so far.
    var moved = 0
    var pipe: (read: Int32, write: Int32)?

    init(from: Int32, to: Int32) {
        self.from = from
        self.to = to
    }

    /// Moves what is readable now; false once this direction is closed.
    mutating func pump(_ buffer: UnsafeMutableRawPointer) -> Bool {
        if let pipe { return splicePump(pipe) }
        let n = recv(from, buffer, Self.bufferSize, Int32(MSG_DONTWAIT))
        if n < 0 && (errno == EAGAIN || errno == EINTR) { return true }
        if n <= 0 {
            finish(failed: n < 0)
            return false
        }
        guard writeAll(to, buffer, n) else {
            finish(failed: true)
            return false
        }
        moved += n
        if n == Self.bufferSize {
            var fds: [Int32] = [0, 0]
            if act_pipe(&fds, 1) == 0 { pipe = (fds[0], fds[1]) }
        }
        return true
    }

    private mutating func splicePump(_ pipe: (read: Int32, write: Int32)) -> Bool {
        let n = act_splice(from, pipe.write, 1 << 16)
        if n == -Int(EAGAIN) || n == -Int(EINTR) { return true }
        if n <= 0 {
            finish(failed: n < 0)
            return false
        }
        var left = n
        while left > 0 {
            let m = act_splice(pipe.read, to, left)
            if m == -Int(EAGAIN) || m == -Int(EINTR) {
                var p = pollfd(fd: to, events: Int16(POLLOUT), revents: 0)
                _ = poll(&p, 1, 1000)
                continue
            }
            if m <= 0 {
                finish(failed: true)
                return false
            }
            left -= m
        }
        moved += n
        return true
    }

    private mutating func finish(failed: Bool) {
        open = false
        self.failed = failed
        // Half close: the other side sees the end of this direction.
        Glibc.shutdown(to, Int32(failed ? SHUT_RDWR : SHUT_WR))
    }

    func closePipe() {
        if let pipe {
            close(pipe.read)
            close(pipe.write)
        }
    }
}
