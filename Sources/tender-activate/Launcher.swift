#if canImport(Glibc)
import Glibc
#endif
import CActivate

/// One unikernel run by a tender, on its own tap.
final class VM {
    let id: Int
    let pid: pid_t
    let tap: String
    /// The guest's MAC (the launcher chooses it: --net-mac).
    let mac: [UInt8]
    /// The write end of the warm tender's start pipe (-1: started cold or released).
    var startFd: Int32
    var active = 0
    var lastUsed = now()
    /// Reaped; set by the main loop, read by relays (under the lock).
    var dead = false
    /// Stopped by the launcher (not a crash).
    var stopping = false
    var exitText = ""
    /// The tap is persistent (attach=name): removed once the VM is reaped.
    let persistentTap: Bool

    init(id: Int, pid: pid_t, tap: String, mac: [UInt8], startFd: Int32, persistentTap: Bool) {
        self.id = id
        self.pid = pid
        self.tap = tap
        self.mac = mac
        self.startFd = startFd
        self.persistentTap = persistentTap
    }
}

final class Endpoint {
    let config: EndpointConfig
    let listenFd: Int32
    /// Per-endpoint mode: the VM serving the endpoint.
    var current: VM?
    /// Tenders waiting at their start gate.
    var warmPool: [VM] = []
    /// Booted VMs whose guest listens (pool=N), unused, oldest first.
    var pool: [VM] = []
    /// VMs booting for the pool, not yet found listening.
    var poolBooting: [VM] = []
    /// After a pooled VM failed, no new one is started before this time
    /// (a guest that never becomes ready is replaced at most once a second).
    var poolPausedUntil = 0.0
    var connections = 0

    init(config: EndpointConfig, listenFd: Int32) {
        self.config = config
        self.listenFd = listenFd
    }

    var name: String { config.listenText }
}

/// The launcher: accepts on every endpoint, boots VMs, reaps them.
final class Launcher {
    let lock = Lock()
    var endpoints: [Endpoint] = []
    var byPid: [pid_t: (VM, Endpoint)] = [:]
    var nextVM = 1
    var stopping = false
    let signals: Int32
    /// --exit-idle (SocketActivation.swift).
    var exitIdle: IdleExit?

    /// `passed`: sockets from systemd, each for the endpoint listening there.
    init(configs: [EndpointConfig], passed: [PassedSocket] = []) throws(ConfigError) {
        let fd = act_signalfd()
        guard fd >= 0 else { throw ConfigError("signalfd: \(errnoText(-fd))") }
        signals = fd
        for (config, passedFd) in zip(configs, try assignPassedSockets(passed, to: configs)) {
            let listen = passedFd ?? listeningSocket(config.listenAddress, config.listenPort.bigEndian, backlog: 1024)
            guard listen >= 0 else { throw ConfigError("listening on \(config.listenText): \(errnoText(-listen))") }
            endpoints.append(Endpoint(config: config, listenFd: listen))
        }
    }

    // MARK: VMs (called with the lock held)

    /// A tender on a new tap; warm: it waits at its start gate.
    func spawn(_ endpoint: Endpoint, warm: Bool) -> VM? {
        let config = endpoint.config
        var name = [CChar](repeating: 0, count: 16)
        let tap = movedHigh(act_tap_create("act%d", &name))
        guard tap >= 0 else {
            log("\(endpoint.name): creating a tap: \(errnoText(-tap))")
            return nil
        }
        var tapFd = tap
        defer { if tapFd >= 0 { close(tapFd) } }
        let tapName = string(nulTerminated: name)
        var up: Int32 = 0
        if config.attachByName {
            // Persistent, and detached before it goes up: the tender attaches
            // it by name (attached here it would be busy), and until then it
            // has no carrier, which the relay waits for (a frame sent before
            // is dropped).
            up = act_tap_persist(tap, 1)
            close(tapFd)
            tapFd = -1
        }
        if up == 0 { up = act_if_up(tapName, config.hostAddress, Int32(config.prefix)) }
        // The guest's MAC is ours to choose (--net-mac): with a permanent
        // neighbour entry for it, the first SYN goes out without an ARP
        // exchange, one guest round trip less before the first byte.
        let mac: [UInt8] = [0x02, 0x00, 0x00, UInt8(truncatingIfNeeded: nextVM >> 16),
                            UInt8(truncatingIfNeeded: nextVM >> 8), UInt8(truncatingIfNeeded: nextVM)]
        if up == 0 { up = act_neigh_add(tapName, config.guestAddress, mac) }
        guard up == 0 else {
            log("\(endpoint.name): configuring \(tapName): \(errnoText(-up))")
            if config.attachByName { _ = act_tap_delete(tapName) }
            return nil
        }
        var gate: (read: Int32, write: Int32) = (-1, -1)
        if warm {
            var fds: [Int32] = [0, 0]
            guard act_pipe(&fds, 0) == 0 else {
                log("\(endpoint.name): pipe failed")
                return nil
            }
            gate = (movedHigh(fds[0]), fds[1])
        }
        defer { if gate.read >= 0 { close(gate.read) } }
        var arguments = [config.tender]
        if let memory = config.memoryMiB { arguments.append("--mem=\(memory)") }
        arguments += config.blocks.map { "--block:\($0)" }
        arguments.append("--net:\(config.netName)=\(config.attachByName ? tapName : "@3")")
        arguments.append("--net-mac:\(config.netName)=" + mac.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: ":"))
        if warm { arguments.append("--x-start-fd=4") }
        arguments.append("--")
        arguments.append(config.kernel)
        arguments += config.guestArguments
        var cArguments = arguments.map { strdup($0) } + [nil]
        defer { for p in cArguments { free(p) } }
        let pid = act_spawn(config.tender, &cArguments, tapFd, gate.read, -1)
        guard pid > 0 else {
            log("\(endpoint.name): starting \(config.tender): \(errnoText(-pid))")
            if gate.write >= 0 { close(gate.write) }
            if config.attachByName { _ = act_tap_delete(tapName) }
            return nil
        }
        let vm = VM(id: nextVM, pid: pid, tap: tapName, mac: mac, startFd: gate.write, persistentTap: config.attachByName)
        nextVM += 1
        byPid[pid] = (vm, endpoint)
        if verbose { log("\(endpoint.name): vm \(vm.id) started\(warm ? " warm" : "") (pid \(pid), \(tapName))") }
        return vm
    }

    /// A running VM for a new connection: a booted one from the pool, a
    /// warm one released, else a cold boot.
    func launch(_ endpoint: Endpoint) -> VM? {
        while !endpoint.pool.isEmpty {
            let vm = endpoint.pool.removeFirst()
            if !vm.dead {
                if verbose { log("\(endpoint.name): vm \(vm.id) taken from the pool") }
                return vm
            }
        }
        while !endpoint.warmPool.isEmpty {
            let vm = endpoint.warmPool.removeFirst()
            var byte: UInt8 = 1
            let written = write(vm.startFd, &byte, 1)
            close(vm.startFd)
            vm.startFd = -1
            if written == 1 && !vm.dead {
                if verbose { log("\(endpoint.name): vm \(vm.id) released") }
                return vm
            }
        }
        return spawn(endpoint, warm: false)
    }

    func stop(_ vm: VM) {
        guard !vm.dead, !vm.stopping else { return }
        vm.stopping = true
        kill(vm.pid, SIGKILL)
    }

    /// Fills the warm pools and the pools of booted VMs.
    func refill() {
        for endpoint in endpoints where !stopping {
            while endpoint.warmPool.count < endpoint.config.warm {
                guard let vm = spawn(endpoint, warm: true) else { break }
                endpoint.warmPool.append(vm)
            }
            while endpoint.pool.count + endpoint.poolBooting.count < endpoint.config.pool && now() >= endpoint.poolPausedUntil {
                guard let vm = spawn(endpoint, warm: false) else {
                    endpoint.poolPausedUntil = now() + 1
                    break
                }
                endpoint.poolBooting.append(vm)
                if !startThread({ [self] in self.awaitReadiness(vm, endpoint) }) {
                    log("\(endpoint.name): no thread to probe vm \(vm.id), stopping it")
                    endpoint.poolBooting.removeAll { $0 === vm }
                    stop(vm)
                    endpoint.poolPausedUntil = now() + 1
                    break
                }
            }
        }
    }

    /// On its own thread: probes a VM booting for the pool until its guest
    /// listens (it joins the pool), it dies or the endpoint's wait ends
    /// (it is stopped, and replaced by the next refill).
    private func awaitReadiness(_ vm: VM, _ endpoint: Endpoint) {
        let config = endpoint.config
        let started = now()
        let deadline = started + config.bootWait
        var failure: String
        do {
            let probe = try ReadinessProbe(tap: vm.tap, hostAddress: config.hostAddress, guestAddress: config.guestAddress,
                                           guestPort: config.guestPort, guestMAC: vm.mac)
            defer { probe.close() }
            failure = "did not listen on \(formatIPv4(config.guestAddress)):\(config.guestPort) within \(config.bootWait) s"
            while now() < deadline {
                if let exit = lock.locked({ vm.dead ? vm.exitText : nil }) {
                    failure = "\(exit) before its guest listened"
                    break
                }
                switch probe.ask(timeout: 0.05) {
                case .listening:
                    let joined = lock.locked { () -> Bool in
                        guard !vm.dead, !stopping else { return false }
                        endpoint.poolBooting.removeAll { $0 === vm }
                        endpoint.pool.append(vm)
                        return true
                    }
                    if joined {
                        if verbose { log("\(endpoint.name): vm \(vm.id) listening after \(milliseconds(now() - started)) ms, pooled") }
                        return
                    }
                    // Dead meanwhile (the loop reports it) or the launcher is stopping.
                case .closed:
                    // The guest's stack is up, its application not listening yet.
                    var pause = timespec(tv_sec: 0, tv_nsec: 20_000_000)
                    nanosleep(&pause, nil)
                case .silent:
                    break
                }
            }
        } catch {
            failure = "could not be probed: \(error.message)"
        }
        lock.locked {
            endpoint.poolBooting.removeAll { $0 === vm }
            endpoint.poolPausedUntil = now() + 1
            if !stopping { log("\(endpoint.name): pooled vm \(vm.id) (\(vm.tap)) \(failure); replacing it") }
            stop(vm)
        }
    }

    // MARK: The main loop

    func run() -> Never {
        log("serving \(endpoints.map { "\($0.name) (\($0.config.mode.rawValue))" }.joined(separator: ", "))")
        lock.locked { refill() }
        var fds = [pollfd(fd: signals, events: Int16(POLLIN), revents: 0)]
            + endpoints.map { pollfd(fd: $0.listenFd, events: Int16(POLLIN), revents: 0) }
        while true {
            let ready = poll(&fds, nfds_t(fds.count), 250)
            if ready < 0 && errno != EINTR {
                log("poll: \(errnoText(errno))")
                shutdown()
            }
            if fds[0].revents != 0 {
                while case let signal = act_read_signal(signals), signal > 0 {
                    if signal == SIGCHLD { reap() } else { shutdown() }
                }
            }
            for (index, endpoint) in endpoints.enumerated() where fds[index + 1].revents != 0 {
                acceptAll(endpoint)
            }
            if idleTooLong(fds) {
                log("no connection for \(exitIdle!.seconds) s, exiting")
                shutdown()
            }
            lock.locked {
                expireIdle()
                refill()
            }
        }
    }

    private func acceptAll(_ endpoint: Endpoint) {
        while true {
            let client = act_accept(endpoint.listenFd)
            if client < 0 {
                if client == -EINTR || client == -ECONNABORTED { continue }
                return
            }
            let admitted = lock.locked { () -> Bool in
                guard endpoint.connections < endpoint.config.maxConnections else { return false }
                endpoint.connections += 1
                return true
            }
            guard admitted else {
                log("\(endpoint.name): \(endpoint.config.maxConnections) connections already, refusing one")
                refuse(client)
                continue
            }
            let accepted = now()
            let started = startThread { [self] in
                Connection(launcher: self, endpoint: endpoint, client: client, accepted: accepted).serve()
            }
            if !started {
                log("\(endpoint.name): no thread for a connection, refusing it")
                lock.locked { endpoint.connections -= 1 }
                refuse(client)
            }
        }
    }

    /// Closes a client's connection at once (a RST, not a FIN after nothing).
    private func refuse(_ client: Int32) {
        var zero = linger(l_onoff: 1, l_linger: 0)
        setsockopt(client, SOL_SOCKET, SO_LINGER, &zero, socklen_t(MemoryLayout<linger>.size))
        close(client)
    }

    private func expireIdle() {
        let time = now()
        for endpoint in endpoints where endpoint.config.mode == .endpoint {
            guard let vm = endpoint.current, vm.active == 0, time - vm.lastUsed >= endpoint.config.idleTimeout else { continue }
            log("\(endpoint.name): vm \(vm.id) idle for \(endpoint.config.idleTimeout) s, stopping it")
            endpoint.current = nil
            stop(vm)
        }
    }

    private func reap() {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            guard pid > 0 else { return }
            lock.locked {
                guard let (vm, endpoint) = byPid.removeValue(forKey: pid) else { return }
                vm.dead = true
                if vm.persistentTap {
                    let removed = act_tap_delete(vm.tap)
                    if removed != 0 { log("\(endpoint.name): removing \(vm.tap): \(errnoText(-removed))") }
                }
                let exited = status & 0x7f == 0
                vm.exitText = exited ? "exited with status \((status >> 8) & 0xff)" : "was killed by signal \(status & 0x7f)"
                if endpoint.current === vm { endpoint.current = nil }
                // A pooled VM is replaced (after a pause); one still booting
                // for the pool is reported by its prober.
                let pooled = endpoint.pool.contains { $0 === vm }
                if pooled {
                    endpoint.pool.removeAll { $0 === vm }
                    endpoint.poolPausedUntil = now() + 1
                }
                let booting = endpoint.poolBooting.contains { $0 === vm }
                if let index = endpoint.warmPool.firstIndex(where: { $0 === vm }) {
                    endpoint.warmPool.remove(at: index)
                    close(vm.startFd)
                    vm.startFd = -1
                }
                if verbose { log("\(endpoint.name): vm \(vm.id) reaped: \(vm.exitText)") }
                if !vm.stopping && !booting {
                    log("\(endpoint.name): \(pooled ? "pooled " : "")vm \(vm.id) (pid \(pid), \(vm.tap)) \(vm.exitText) "
                        + (pooled ? "before it was used; replacing it" : "while serving \(vm.active) connection(s)"))
                }
            }
        }
    }

    /// SIGTERM: every VM stopped and reaped (their taps go with their
    /// tenders), then exit.
    func shutdown() -> Never {
        let count = lock.locked { () -> Int in
            stopping = true
            for endpoint in endpoints { close(endpoint.listenFd) }
            for (vm, _) in byPid.values {
                vm.stopping = true
                kill(vm.pid, SIGKILL)
            }
            return byPid.count
        }
        let deadline = now() + 5
        while lock.locked({ !byPid.isEmpty }) && now() < deadline {
            var p = pollfd(fd: signals, events: Int16(POLLIN), revents: 0)
            _ = poll(&p, 1, 100)
            while act_read_signal(signals) > 0 {}
            reap()
        }
        let left = lock.locked { byPid.count }
        log("stopped \(count) VM(s)\(left > 0 ? ", \(left) not reaped" : "")")
        _exit(left > 0 ? 1 : 0)
    }
}
