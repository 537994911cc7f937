import Foundation
import Testing

/// tender-activate on /dev/kvm: a launcher inside a network namespace made
/// per test, the tcp_reply guest (ARP, TCP, a fixed HTTP reply, FIN) and
/// real clients (curl) connecting to it from inside the same namespace.
@Suite("tender-activate", .serialized)
struct ActivateTests {
    static let body = "hello\n"

    /// A launcher running in `ns`, with its log (stderr) collected on exit,
    /// or, with `log`, written to that file (to be read while it runs).
    final class Launcher {
        let ns: NetNamespace
        let running: Harness.Running
        let log: String?

        /// `options`: more of the launcher's options; `via`: a command that
        /// execs the launcher (its path and arguments follow).
        init(_ ns: NetNamespace, _ endpoints: [String], tender: String = Harness.executable("solo5-hvt"),
             options: [String] = [], via: [String] = [], log: String? = nil) throws {
            self.ns = ns
            self.log = log
            let arguments = ["--verbose", "--tender", tender] + options + endpoints.flatMap { ["--endpoint", $0] }
            let command = via + [Harness.executable("tender-activate")] + arguments
            // (The shell execs: the test's threads block SIGCHLD, so it must not wait.)
            running = try ns.spawn(log.map { ["/bin/sh", "-c", "exec \"$@\" 2>\"$0\"", $0] + command } ?? command)
            // Wait until it listens on every endpoint.
            let ports = endpoints.compactMap { $0.split(separator: " ").first { $0.hasPrefix("listen=") }?.split(separator: ":").last }
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline && running.process.isRunning {
                let listening = try ns.run(["/usr/bin/ss", "-ltnH"], timeout: 5).stdout
                if ports.allSatisfy({ listening.contains("127.0.0.1:\($0) ") }) { break }
                usleep(20_000)
            }
        }

        /// SIGTERM, then the outcome: the launcher's exit and its log.
        func stop() -> Harness.Outcome {
            kill(running.pid, SIGTERM)
            var outcome = running.wait(timeout: 20)
            if let log { outcome.stderr += (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
            return outcome
        }

        /// Waits until the log file has `count` lines containing `needle`
        /// (at most `timeout` seconds); the log so far.
        @discardableResult
        func waitForLog(_ needle: String, count: Int, timeout: Double = 30) -> String {
            let deadline = Date().addingTimeInterval(timeout)
            var text = ""
            repeat {
                text = log.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? ""
                if ActivateTests.count(text, needle) >= count || !running.process.isRunning { break }
                usleep(50_000)
            } while Date() < deadline
            return text
        }
    }

    /// An endpoint of the tcp_reply guest on 127.0.0.1:`port`.
    static func endpoint(port: Int, _ options: String, guestArguments: String = "10.0.0.2 80") throws -> String {
        "listen=127.0.0.1:\(port) kernel=\(try Harness.guest("tcp_reply")) guest=10.0.0.2:80 mem=8 \(options) args=\(guestArguments)"
    }

    typealias Reply = (body: String, code: String, exit: Int)

    /// `count` transfers at once against `port`, from one curl (--parallel:
    /// no shell waiting on children); each reply's code, curl's exit status
    /// and the body's size.
    static func curls(_ ns: NetNamespace, port: Int, count: Int) throws -> [(code: String, exit: Int, size: Int)] {
        let url = "http://127.0.0.1:\(port)/"
        let outcome = try ns.run(["/usr/bin/curl", "-s", "-Z", "--parallel-immediate", "--parallel-max", "\(count)", "-m", "30",
                                  "-w", "%{http_code}|%{exitcode}|%{size_download}\\n"]
                                 + Array(repeating: [url, "-o", "/dev/null"], count: count).flatMap { $0 }, timeout: 120)
        return outcome.stdout.split(separator: "\n").map { line in
            let parts = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            return (parts[0], parts.count > 1 ? Int(parts[1]) ?? -1 : -1, parts.count > 2 ? Int(parts[2]) ?? -1 : -1)
        }
    }

    /// One client: the body it got, the HTTP code and curl's exit status.
    static func curl(_ ns: NetNamespace, port: Int) throws -> Reply {
        let outcome = try ns.run(["/usr/bin/curl", "-s", "-m", "30", "-w", "|%{http_code}|%{exitcode}", "http://127.0.0.1:\(port)/"],
                                 timeout: 60)
        let parts = outcome.stdout.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 3 else { return (outcome.stdout, "", -1) }
        return (parts.dropLast(2).joined(separator: "|"), parts[parts.count - 2], Int(parts[parts.count - 1]) ?? -1)
    }

    static func count(_ text: String, _ needle: String) -> Int {
        text.components(separatedBy: needle).count - 1
    }

    /// After SIGTERM: exit 0, every VM stopped, no tap and no tender left.
    static func expectCleanStop(_ outcome: Harness.Outcome, _ ns: NetNamespace) throws {
        #expect(!outcome.signaled && outcome.status == 0, "\(outcome)")
        #expect(outcome.stderr.contains("stopped ") && !outcome.stderr.contains("not reaped"), "\(outcome)")
        let links = try ns.run([NetNamespace.ip, "-br", "link"], timeout: 10)
        #expect(!links.stdout.contains("act"), "taps left behind:\n\(links.stdout)")
        let pids = try Harness.run(program: NetNamespace.ip, ["netns", "pids", ns.name], timeout: 10)
        #expect(pids.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "processes left: \(pids.stdout)")
    }

    private func withNamespace(_ body: (NetNamespace) throws -> Void) throws {
        try Harness.requireKVM()
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/curl"), "curl is missing (scripts/deps installs it)")
        try Harness.takingTurns {
            let ns = try NetNamespace()
            defer {
                ns.killAll()
                ns.delete()
            }
            try body(ns)
        }
    }

    /// Per connection: every connection gets a fresh VM that ends with it.
    @Test func perConnectionModeBootsAFreshVMPerConnection() throws {
        try withNamespace { ns in
            let launcher = try Launcher(ns, [try Self.endpoint(port: 8080, "mode=connection")])
            var replies: [Reply] = []
            for _ in 0..<4 { replies.append(try Self.curl(ns, port: 8080)) }
            let outcome = launcher.stop()
            for reply in replies { #expect(reply.body == Self.body && reply.code == "200" && reply.exit == 0, "\(reply)\n\(outcome)") }
            #expect(Self.count(outcome.stderr, " started (pid") == 4, "\(outcome)")
            try Self.expectCleanStop(outcome, ns)
        }
    }

    /// Per endpoint: connections share one VM; after the idle timeout it is
    /// stopped (its tap removed) and the next connection boots it again.
    @Test func perEndpointModeSharesAVMAndStopsItWhenIdle() throws {
        try withNamespace { ns in
            let launcher = try Launcher(ns, [try Self.endpoint(port: 8080, "mode=endpoint idle=1")])
            var replies: [Reply] = []
            for _ in 0..<3 { replies.append(try Self.curl(ns, port: 8080)) }
            usleep(2_000_000)
            let links = try ns.run([NetNamespace.ip, "-br", "link"], timeout: 10)
            replies.append(try Self.curl(ns, port: 8080))
            let outcome = launcher.stop()
            for reply in replies { #expect(reply.body == Self.body && reply.code == "200", "\(reply)\n\(outcome)") }
            #expect(Self.count(outcome.stderr, " started (pid") == 2, "\(outcome)")
            #expect(outcome.stderr.contains("vm 1 idle for 1.0 s, stopping it"), "\(outcome)")
            #expect(!links.stdout.contains("act"), "the idle VM's tap is still there:\n\(links.stdout)\n\(outcome)")
            try Self.expectCleanStop(outcome, ns)
        }
    }

    /// A launcher killed with SIGKILL (no chance to clean up) takes its
    /// tenders with it: each asked for SIGKILL when the launcher dies, the
    /// per-endpoint VM booted by a connection thread that has ended as much
    /// as the warm and the pooled ones. Their taps go with them.
    @Test func aKilledLauncherLeavesNoTenderRunning() throws {
        try withNamespace { ns in
            let launcher = try Launcher(ns, [try Self.endpoint(port: 8080, "mode=endpoint idle=60"),
                                             try Self.endpoint(port: 8081, "mode=connection warm=2"),
                                             try Self.endpoint(port: 8082, "mode=connection pool=1")])
            let reply = try Self.curl(ns, port: 8080)
            usleep(300_000)
            let before = try Harness.run(program: NetNamespace.ip, ["netns", "pids", ns.name], timeout: 10)
            kill(launcher.running.pid, SIGKILL)
            var left = ""
            var links = ""
            for _ in 0..<50 {
                left = try Harness.run(program: NetNamespace.ip, ["netns", "pids", ns.name], timeout: 10).stdout
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                links = try ns.run([NetNamespace.ip, "-br", "link"], timeout: 10).stdout
                if left.isEmpty && !links.contains("act") { break }
                usleep(100_000)
            }
            // Anything left holds the launcher's output open: end it before
            // waiting for that output.
            if !left.isEmpty { ns.killAll() }
            let outcome = launcher.running.wait(timeout: 20)
            #expect(reply.body == Self.body && reply.code == "200", "\(reply)\n\(outcome)")
            #expect(before.stdout.split(separator: "\n").count == 5, "the launcher and four tenders:\n\(before.stdout)")
            #expect(outcome.signaled, "\(outcome)")
            #expect(left.isEmpty, "processes left: \(left)")
            #expect(!links.contains("act"), "taps left behind:\n\(links)")
        }
    }

    /// 50 clients at once against an endpoint with no VM: one boot, every
    /// client served by it.
    @Test func fiftyConcurrentClientsOnAColdEndpoint() throws {
        try withNamespace { ns in
            let launcher = try Launcher(ns, [try Self.endpoint(port: 8080, "mode=endpoint max=64 wait=20")])
            let replies = try Self.curls(ns, port: 8080, count: 50)
            let outcome = launcher.stop()
            #expect(replies.count == 50)
            #expect(replies.filter { $0.code == "200" && $0.exit == 0 && $0.size == Self.body.utf8.count }.count == 50,
                    "\(replies)\n\(outcome)")
            #expect(Self.count(outcome.stderr, " started (pid") == 1, "\(outcome)")
            try Self.expectCleanStop(outcome, ns)
        }
    }

    /// Per connection with a limit: 20 clients at once, at most 4 VMs; the
    /// excess is refused (a reset, logged), everyone else is served.
    @Test func perConnectionLimitRefusesTheExcessCleanly() throws {
        try withNamespace { ns in
            let launcher = try Launcher(ns, [try Self.endpoint(port: 8080, "mode=connection max=4 wait=20")])
            let replies = try Self.curls(ns, port: 8080, count: 20)
            let outcome = launcher.stop()
            let served = replies.filter { $0.code == "200" && $0.exit == 0 && $0.size == Self.body.utf8.count }.count
            let refused = Self.count(outcome.stderr, "4 connections already, refusing one")
            #expect(replies.count == 20)
            #expect(served >= 4 && refused > 0 && served + refused == 20, "served \(served), refused \(refused)\n\(replies)\n\(outcome)")
            #expect(Self.count(outcome.stderr, " started (pid") == served, "\(outcome)")
            try Self.expectCleanStop(outcome, ns)
        }
    }

    /// Warm start: tenders wait at their start gate before any connection;
    /// each connection releases one, and the pool is refilled.
    @Test func warmStartReleasesAPreparedTender() throws {
        try withNamespace { ns in
            let launcher = try Launcher(ns, [try Self.endpoint(port: 8080, "mode=connection warm=2")])
            usleep(500_000)
            let before = try ns.run([NetNamespace.ip, "-br", "link"], timeout: 10)
            var replies: [Reply] = []
            for _ in 0..<3 {
                replies.append(try Self.curl(ns, port: 8080))
                usleep(300_000)
            }
            let outcome = launcher.stop()
            #expect(Self.count(before.stdout, "act") == 2, "two warm tenders, each on its tap:\n\(before.stdout)\n\(outcome)")
            for reply in replies { #expect(reply.body == Self.body && reply.code == "200", "\(reply)\n\(outcome)") }
            #expect(Self.count(outcome.stderr, " released") == 3, "\(outcome)")
            #expect(!outcome.stderr.contains(" started (pid"), "no cold boot expected:\n\(outcome)")
            try Self.expectCleanStop(outcome, ns)
        }
    }

    /// A pool of booted VMs (pool=N) with a guest that starts slowly, as
    /// real unikernels do: VMs are booted ahead and probed (a half-open
    /// handshake) until their guest listens; each connection takes one, the
    /// pool refills in the background. Per connection every pooled VM serves
    /// one client; per endpoint the pooled VM becomes the endpoint's. The
    /// guests log every connection they accept: only the clients', never a
    /// probe (each VM was probed while it booted, several times).
    @Test func poolHandsOutBootedVMsTheGuestNeverSeesTheProbes() throws {
        try withNamespace { ns in
            let directory = try Harness.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let log = directory.appendingPathComponent("launcher.log").path
            let slow = "10.0.0.2 80 delay=1500"
            let launcher = try Launcher(ns, [
                try Self.endpoint(port: 8080, "mode=connection pool=2 wait=30", guestArguments: slow),
                try Self.endpoint(port: 8081, "mode=endpoint pool=1 idle=60 wait=30", guestArguments: slow),
            ], log: log)
            let ready = launcher.waitForLog("listening after", count: 3)
            var replies: [Reply] = []
            for port in [8080, 8080, 8081, 8081] { replies.append(try Self.curl(ns, port: port)) }
            launcher.waitForLog("listening after", count: 6)
            let outcome = launcher.stop()
            for reply in replies { #expect(reply.body == Self.body && reply.code == "200" && reply.exit == 0, "\(reply)\n\(outcome)") }
            #expect(Self.count(ready, "listening after") == 3, "the pools never filled:\n\(outcome)")
            #expect(Self.count(outcome.stderr, "taken from the pool") == 3,
                    "two connections and one endpoint VM from the pools:\n\(outcome)")
            // 3 pooled at first, 3 refills: no cold boot.
            #expect(Self.count(outcome.stderr, " started (pid") == 6, "\(outcome)")
            #expect(Self.count(outcome.stdout, "tcp_reply: network up") >= 6, "\(outcome)")
            #expect(Self.count(outcome.stdout, "tcp_reply: connection from") == 4, "only the clients' connections:\n\(outcome)")
            try Self.expectCleanStop(outcome, ns)
        }
    }

    /// A pooled VM whose guest never listens on its port (it listens on
    /// another: the probe gets resets) or dies while booting is replaced,
    /// with a log line, and never handed to a client: a client meanwhile
    /// gets a cold boot.
    @Test func aPooledGuestThatNeverListensOrDiesIsReplacedNotHandedOut() throws {
        try withNamespace { ns in
            let directory = try Harness.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let log = directory.appendingPathComponent("launcher.log").path
            let launcher = try Launcher(ns, [
                try Self.endpoint(port: 8080, "mode=connection pool=1 wait=1", guestArguments: "10.0.0.2 81"),
                try Self.endpoint(port: 8081, "mode=connection pool=1 wait=5", guestArguments: "10.0.0.2 80 bogus"),
            ], log: log)
            launcher.waitForLog("did not listen on 10.0.0.2:80 within 1.0 s; replacing it", count: 2)
            launcher.waitForLog("before its guest listened; replacing it", count: 2)
            let reply = try Self.curl(ns, port: 8080)
            let outcome = launcher.stop()
            #expect(Self.count(outcome.stderr, "did not listen on 10.0.0.2:80 within 1.0 s; replacing it") >= 2, "\(outcome)")
            #expect(Self.count(outcome.stderr, "exited with status 1 before its guest listened; replacing it") >= 2, "\(outcome)")
            #expect(!outcome.stderr.contains("taken from the pool"), "an unready VM was handed out:\n\(outcome)")
            #expect(reply.body.isEmpty && reply.exit == 52, "a cold VM that never accepts: a clean close:\n\(reply)\n\(outcome)")
            try Self.expectCleanStop(outcome, ns)
        }
    }

    /// A guest that crashes mid-connection: the client gets what was sent
    /// and a close, the exit status is logged, the launcher serves on.
    @Test func aGuestCrashingMidConnectionDoesNotTakeTheLauncherDown() throws {
        try withNamespace { ns in
            let launcher = try Launcher(ns, [
                try Self.endpoint(port: 8080, "mode=endpoint", guestArguments: "10.0.0.2 80 crash"),
                try Self.endpoint(port: 8081, "mode=endpoint"),
            ])
            let crashed = try Self.curl(ns, port: 8080)
            let after = try Self.curl(ns, port: 8081)
            let again = try Self.curl(ns, port: 8080)
            let outcome = launcher.stop()
            // (The reply is cut inside its headers: curl shows no body.)
            #expect(crashed.exit == 56 && again.exit == 56, "a reset expected: \(crashed) \(again)\n\(outcome)")
            #expect(after.body == Self.body && after.exit == 0, "\(after)\n\(outcome)")
            #expect(outcome.stdout.contains("tcp_reply: crashing mid-connection"), "\(outcome)")
            #expect(outcome.stderr.contains("vm 1 (pid ") && outcome.stderr.contains("exited with status 255 while serving 1 connection(s)"),
                    "\(outcome)")
            try Self.expectCleanStop(outcome, ns)
        }
    }

    /// A guest that never accepts: the client gets a clean close (no
    /// reply) once the bounded wait is over, and a log line says why.
    @Test func aGuestThatNeverListensGetsTheClientACleanClose() throws {
        try withNamespace { ns in
            let launcher = try Launcher(ns, [try Self.endpoint(port: 8080, "mode=endpoint wait=1", guestArguments: "10.0.0.2 81")])
            let start = Date()
            let reply = try Self.curl(ns, port: 8080)
            let elapsed = Date().timeIntervalSince(start)
            let outcome = launcher.stop()
            #expect(reply.body.isEmpty && reply.exit == 52, "curl: empty reply from server expected: \(reply)\n\(outcome)")
            #expect(elapsed < 10, "\(elapsed)")
            #expect(outcome.stderr.contains("guest 10.0.0.2:80 on vm 1 did not accept within 1.0 s"), "\(outcome)")
            try Self.expectCleanStop(outcome, ns)
        }
    }

    /// Cold mode takes any tender by path, attaching taps by name (Solo5
    /// 0.12.1's `@NN' leaves the MTU unset): the reference tender when
    /// REFERENCE_TENDER names one, else ours through the same path.
    @Test func coldModeRunsATenderGivenByPathWithTapsByName() throws {
        try Harness.requireKVM()
        let reference = ProcessInfo.processInfo.environment["REFERENCE_TENDER"] ?? Harness.executable("solo5-hvt")
        try #require(FileManager.default.isExecutableFile(atPath: reference), "\(reference) is missing")
        try withNamespace { ns in
            let launcher = try Launcher(ns, [try Self.endpoint(port: 8080, "mode=connection attach=name")], tender: reference)
            let reply = try Self.curl(ns, port: 8080)
            let outcome = launcher.stop()
            #expect(reply.body == Self.body && reply.code == "200", "\(reply)\n\(outcome)")
            try Self.expectCleanStop(outcome, ns)
        }
    }

    /// --x-start-fd: the guest runs only once the byte arrives; the run
    /// ends (exit 1, before the guest's first instruction) when the
    /// descriptor closes without one; the sealed policy reads that one fd.
    @Test func startGateHoldsTheGuestUntilItsByte() throws {
        try Harness.requireKVM()
        let tender = Harness.executable("solo5-hvt"), hello = try Harness.guest("hello")
        // (The test's threads block SIGCHLD, which its children inherit: a
        // shell here must exec, never wait.)
        let gate = Pipe(), output = Pipe()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "exec \(tender) --x-start-fd=5 \(hello) 5<&0"]
        process.standardInput = gate
        process.standardOutput = output
        try process.run()
        usleep(300_000)
        let early = process.isRunning
        try gate.fileHandleForWriting.write(contentsOf: [UInt8(ascii: "x")])
        process.waitUntilExit()
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(early, "the tender ran before its start byte:\n\(printed)")
        #expect(process.terminationStatus == 0 && printed.contains("Hello, world!"), "\(printed)")
        let closed = try Harness.run(program: "/bin/sh", ["-c", "exec \(tender) --x-start-fd=5 \(hello) 5</dev/null"])
        #expect(closed.status == 1 && !closed.stdout.contains("Hello"), "\(closed)")
        #expect(closed.stderr.contains("start descriptor closed before the start byte"), "\(closed)")
        let notOpen = try Harness.run(["--x-start-fd=9", hello])
        #expect(notOpen.status == 1 && notOpen.stderr.contains("descriptor 9 is not an open inherited descriptor"), "\(notOpen)")
        let policy = try Harness.run(program: "/bin/sh", ["-c", "exec \(tender) --x-seccomp-dump --x-start-fd=5 \(hello) 5</dev/null"])
        #expect(policy.stdout.contains("read if arg0 == 5 ") || policy.output.contains("read if arg0 == 5 "), "\(policy)")
        #expect(!policy.output.contains("read —"), "read must be pinned to the start descriptor:\n\(policy)")
    }

    /// Bad endpoint specifications: a message naming the problem, exit 1.
    @Test func badEndpointsAreRejected() throws {
        let hello = try Harness.guest("hello")
        for (spec, message) in [
            ("listen=127.0.0.1:8080 guest=10.0.0.2:80", "kernel=PATH is missing"),
            ("listen=127.0.0.1:8080 kernel=\(hello) guest=10.0.0.2:80 mode=sometimes", "mode must be"),
            ("listen=127.0.0.1 kernel=\(hello) guest=10.0.0.2:80", "listen=ADDRESS:PORT expected"),
            ("listen=127.0.0.1:8080 kernel=\(hello) guest=10.0.0.3:80", "not usable in a /30"),
            ("listen=127.0.0.1:8080 kernel=\(hello) guest=10.0.0.2:80 link=10.9.0.1/30", "does not share a subnet"),
            ("listen=127.0.0.1:8080 kernel=/nonexistent guest=10.0.0.2:80", "is not readable"),
            ("listen=127.0.0.1:8080 kernel=\(hello) guest=10.0.0.2:80 bogus=1", "unknown key `bogus'"),
        ] {
            let outcome = try Harness.run(program: Harness.executable("tender-activate"), ["--endpoint", spec], timeout: 10)
            #expect(outcome.status == 1 && outcome.stderr.contains(message), "\(spec): \(outcome)")
        }
    }

    // MARK: Socket activation

    /// systemd-socket-activate (Debian's systemd package) listening with
    /// `options`, as a command prefix: it listens, and on the first
    /// connection execs its command (same pid) with the listening socket as
    /// descriptor 3, LISTEN_FDS=1 and LISTEN_PID. Under `unshare --fork`, a
    /// parent that waits for it: it closes every descriptor it does not
    /// pass, and so the socket through which Foundation's Process learns of
    /// an exit, whose one manager thread would then block in waitpid() until
    /// it exits, reaping no other process meanwhile.
    static func socketActivate(_ options: [String]) throws -> [String] {
        let activate = try #require(["/usr/bin/systemd-socket-activate", "/lib/systemd/systemd-socket-activate"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }, "systemd-socket-activate is missing (scripts/deps installs systemd)")
        return ["/usr/bin/unshare", "--fork", "--kill-child", activate] + options
    }

    /// The environments of the tenders running in `ns`.
    static func tenderEnvironments(_ ns: NetNamespace) throws -> [String] {
        let pids = try Harness.run(program: NetNamespace.ip, ["netns", "pids", ns.name], timeout: 10).stdout
        return pids.split(whereSeparator: \.isWhitespace).filter {
            (try? String(contentsOfFile: "/proc/\($0)/comm", encoding: .utf8)) == "solo5-hvt\n"
        }.map { (try? String(contentsOfFile: "/proc/\($0)/environ", encoding: .utf8)) ?? "(gone)" }
    }

    /// Socket activation: the launcher serves the first connection on the
    /// socket it was passed (its tender inherits neither the socket nor the
    /// LISTEN_ variables), and once no connection has been open for
    /// --exit-idle seconds it stops its VM and exits 0 by itself.
    @Test func socketActivatedLauncherServesThenExitsWhenIdle() throws {
        try withNamespace { ns in
            // Two sockets: descriptor 4 is not one a cold tender's descriptors replace.
            let launcher = try Launcher(ns, [try Self.endpoint(port: 8080, "mode=endpoint idle=60"),
                                             try Self.endpoint(port: 8081, "mode=connection")],
                                        options: ["--exit-idle", "3"],
                                        via: try Self.socketActivate(["-l", "127.0.0.1:8080", "-l", "127.0.0.1:8081"]))
            let reply = try Self.curl(ns, port: 8080)
            let served = Date()
            let sockets = try ns.run(["/usr/bin/ss", "-ltnpH"], timeout: 10).stdout
            let environments = try Self.tenderEnvironments(ns)
            let outcome = launcher.running.wait(timeout: 30)
            let elapsed = Date().timeIntervalSince(served)
            #expect(reply.body == Self.body && reply.code == "200" && reply.exit == 0, "\(reply)\n\(outcome)")
            #expect(outcome.stderr.contains("127.0.0.1:8080: passed socket 3 on 127.0.0.1:8080 from systemd")
                    && outcome.stderr.contains("127.0.0.1:8081: passed socket 4 on 127.0.0.1:8081 from systemd"), "\(outcome)")
            #expect(Self.count(sockets, "((\"tender-activate\",pid=") == 2 && !sockets.contains("solo5-hvt"),
                    "only the launcher holds the listening sockets:\n\(sockets)")
            #expect(environments.count == 1 && !environments.contains { $0.contains("LISTEN_") },
                    "one tender, without LISTEN_ variables: \(environments)")
            #expect(outcome.stderr.contains("no connection for 3.0 s, exiting"), "\(outcome)")
            #expect(elapsed > 2.5 && elapsed < 10, "exited \(elapsed) s after the reply")
            try Self.expectCleanStop(outcome, ns)
        }
    }

    /// Passed descriptors the launcher cannot serve: a message naming the
    /// problem and status 1, before any VM.
    @Test func socketActivationRefusesSocketsItCannotServe() throws {
        try withNamespace { ns in
            let spec = try Self.endpoint(port: 8080, "")
            let command = [Harness.executable("tender-activate"), "--tender", Harness.executable("solo5-hvt"), "--endpoint", spec]
            var cases = [
                (["-l", "127.0.0.1:8081"], "127.0.0.1:8081", "/dev/tcp/127.0.0.1/8081",
                 "passed socket 3 on 127.0.0.1:8081 matches no endpoint: no listen=127.0.0.1:8081"),
                (["--datagram", "-l", "127.0.0.1:8080"], "127.0.0.1:8080", "/dev/udp/127.0.0.1/8080",
                 "passed descriptor 3 is not a TCP socket"),
            ]
            // ListenStream=8080 (a port alone) is IPv6: checked wherever the
            // kernel has IPv6 (a kernel without it cannot pass such a socket).
            if FileManager.default.fileExists(atPath: "/proc/sys/net/ipv6") {
                let lo = try ns.run([NetNamespace.ip, "-br", "addr", "show", "lo"], timeout: 10).stdout
                try #require(lo.contains("::1/128"), "the namespace's lo has no ::1: \(lo)")
                cases.append((["-l", "[::1]:8080"], "[::1]:8080", "/dev/tcp/::1/8080", "passed descriptor 3 is not an IPv4 socket"))
            }
            for (listen, address, poke, message) in cases {
                let running = try ns.spawn(try Self.socketActivate(listen) + command)
                let deadline = Date().addingTimeInterval(10)
                while Date() < deadline, running.process.isRunning,
                      !(try ns.run(["/usr/bin/ss", "-ltunH"], timeout: 5).stdout.contains("\(address) ")) { usleep(20_000) }
                _ = try ns.run(["/bin/bash", "-c", "echo x > \(poke)"], timeout: 10)
                let outcome = running.wait(timeout: 20)
                #expect(outcome.status == 1 && outcome.stderr.contains("tender-activate: \(message)"), "\(listen): \(outcome)")
            }
            let notASocket = try ns.run(["/bin/sh", "-c", "LISTEN_FDS=1 LISTEN_PID=$$ exec \"$@\" 3</dev/null", "sh"] + command,
                                        timeout: 20)
            #expect(notASocket.status == 1 && notASocket.stderr.contains("passed descriptor 3 is not a socket"), "\(notASocket)")
            let links = try ns.run([NetNamespace.ip, "-br", "link"], timeout: 10)
            #expect(!links.stdout.contains("act"), "taps left behind:\n\(links.stdout)")
        }
    }

    /// LISTEN_PID naming another process: its descriptors are not ours (3
    /// is /dev/null here, left alone); the launcher listens itself, and
    /// unsets the variables all the same, so that its tenders lack them.
    @Test func socketActivationForAnotherPidIsIgnored() throws {
        try withNamespace { ns in
            let launcher = try Launcher(ns, [try Self.endpoint(port: 8080, "mode=endpoint idle=60")], via: [
                "/bin/sh", "-c", "LISTEN_FDS=1 LISTEN_PID=1 LISTEN_FDNAMES=web exec \"$@\" 3</dev/null", "sh",
            ])
            let reply = try Self.curl(ns, port: 8080)
            let environments = try Self.tenderEnvironments(ns)
            let outcome = launcher.stop()
            #expect(reply.body == Self.body && reply.code == "200" && reply.exit == 0, "\(reply)\n\(outcome)")
            #expect(!outcome.stderr.contains("passed "), "\(outcome)")
            #expect(environments.count == 1 && !environments.contains { $0.contains("LISTEN_") },
                    "one tender, without LISTEN_ variables: \(environments)")
            try Self.expectCleanStop(outcome, ns)
        }
    }

    /// The Debian package's endpoints file as installed (comments only):
    /// still no endpoint, but the message says why; a bad --exit-idle.
    @Test func aConfigWithOnlyCommentsAndABadExitIdleAreClearErrors() throws {
        let directory = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("endpoints.conf")
        try "# listen=127.0.0.1:8080 kernel=web.hvt guest=10.0.0.2:80\n\n   # more\n".write(to: config, atomically: true, encoding: .utf8)
        let activate = Harness.executable("tender-activate")
        let empty = try Harness.run(program: activate, ["--config", config.path, "--exit-idle", "10"], timeout: 10)
        #expect(empty.status == 1 && empty.stderr.contains("no endpoint given: \(config.path) has only comments and blank lines"),
                "\(empty)")
        let zero = try Harness.run(program: activate, ["--exit-idle", "0", "--config", config.path], timeout: 10)
        #expect(zero.status == 1 && zero.stderr.contains("--exit-idle SECONDS expected, got `0'"), "\(zero)")
    }
}
