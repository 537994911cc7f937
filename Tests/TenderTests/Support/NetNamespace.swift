import Foundation
import Testing

/// A network namespace of one test, with TAP interfaces in it: the tender,
/// and the pings at its guest, run inside, so no traffic leaves it.
/// Delete it with `delete()` (in a `defer`).
final class NetNamespace {
    static let ip = "/usr/sbin/ip"
    let name = "tender-test-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"

    /// Network tests fail, never skip, without `ip`, `ping` or the TUN device.
    static func requireTools() throws {
        try #require(FileManager.default.isExecutableFile(atPath: ip), "\(ip) is missing: the network tests need iproute2")
        try #require(ping != nil, "ping is missing: the network tests need iputils-ping")
        try #require(FileManager.default.fileExists(atPath: "/dev/net/tun"), "/dev/net/tun is missing")
    }

    static let ping: String? = ["/usr/bin/ping", "/bin/ping", "/usr/sbin/ping"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    init() throws {
        try NetNamespace.requireTools()
        try NetNamespace.ip(["netns", "add", name])
        try inside([NetNamespace.ip, "link", "set", "lo", "up"])
    }

    func delete() {
        _ = try? Harness.run(program: NetNamespace.ip, ["netns", "delete", name], timeout: 10)
    }

    /// Creates TAP `interface` with `address` (a /24), optionally `up`.
    func addTap(_ interface: String, address: String, mtu: Int? = nil, up: Bool = true) throws {
        try inside([NetNamespace.ip, "tuntap", "add", interface, "mode", "tap"])
        try inside([NetNamespace.ip, "addr", "add", "\(address)/24", "dev", interface])
        if let mtu { try inside([NetNamespace.ip, "link", "set", interface, "mtu", String(mtu)]) }
        if up { try inside([NetNamespace.ip, "link", "set", interface, "up"]) }
    }

    /// Starts `command` (an absolute path and its arguments) inside.
    func spawn(_ command: [String]) throws -> Harness.Running {
        try Harness.Running(program: NetNamespace.ip, ["netns", "exec", name] + command)
    }

    /// Runs `command` inside to completion.
    func run(_ command: [String], timeout: Double = 60) throws -> Harness.Outcome {
        try Harness.run(program: NetNamespace.ip, ["netns", "exec", name] + command, timeout: timeout)
    }

    /// Runs a tender inside.
    func tender(_ arguments: [String], tender: String = "solo5-hvt") throws -> Harness.Running {
        try spawn([Harness.executable(tender)] + arguments)
    }

    /// Pings `address` from inside with `options`.
    func ping(_ address: String, _ options: [String], timeout: Double = 60) throws -> Harness.Outcome {
        try run([NetNamespace.ping!] + options + [address], timeout: timeout)
    }

    /// Waits until a tender has attached `interface` (it has carrier).
    func waitForCarrier(_ interface: String, timeout: Double = 15) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let link = try run([NetNamespace.ip, "link", "show", interface], timeout: 10)
            if link.stdout.contains("LOWER_UP") { return }
            usleep(20_000)
        }
        Issue.record("\(interface) never got carrier: the tender did not attach it")
    }

    /// Kills every process still inside (e.g. a ping left behind).
    func killAll() {
        guard let pids = try? Harness.run(program: NetNamespace.ip, ["netns", "pids", name], timeout: 10) else { return }
        for pid in pids.stdout.split(whereSeparator: \.isWhitespace).compactMap({ Int32($0) }) { kill(pid, SIGKILL) }
    }

    /// Whether a tender has attached `interface` (it has carrier).
    func hasCarrier(_ interface: String) -> Bool {
        (try? Harness.run(program: NetNamespace.ip, ["-n", name, "link", "show", interface], timeout: 10))?
            .stdout.contains("LOWER_UP") ?? false
    }

    @discardableResult
    private func inside(_ command: [String]) throws -> Harness.Outcome {
        try NetNamespace.ip(["netns", "exec", name] + command)
    }

    @discardableResult
    private static func ip(_ arguments: [String]) throws -> Harness.Outcome {
        let outcome = try Harness.run(program: ip, arguments, timeout: 10)
        try #require(outcome.status == 0 && !outcome.signaled, "ip \(arguments.joined(separator: " ")): \(outcome)")
        return outcome
    }
}

extension Harness.Outcome {
    /// From ping's summary: "N packets transmitted, M received".
    var pingCounts: (transmitted: Int, received: Int)? {
        guard let line = stdout.split(separator: "\n").first(where: { $0.contains("packets transmitted") }) else { return nil }
        let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        return numbers.count >= 2 ? (numbers[0], numbers[1]) : nil
    }
}
