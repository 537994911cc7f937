import Foundation
import Testing

/// The net module on /dev/kvm: TAP interfaces in a network namespace made
/// per test, the guests net_ping/net_2if (ARP + ICMP echo responders) and
/// net_mtu, and the host's ping inside the same namespace.
@Suite("Net module", .serialized)
struct NetTests {
    static let guestAddress = "10.0.0.2"
    static let guestAddress1 = "10.1.0.2"

    /// Starts net_ping (or net_2if) on tap0 (and tap1), waiting until the
    /// tender has attached them.
    private func serve(_ ns: NetNamespace, guest: String = "net_ping", options: [String] = [],
                       interfaces: [String] = ["tap0"], arguments: [String]) throws -> Harness.Running {
        let nets = interfaces.enumerated().map { "--net:service\($0.offset)=\($0.element)" }
        let tender = try ns.tender(["--mem=32"] + options + nets + [try Harness.guest(guest)] + arguments)
        for interface in interfaces { try ns.waitForCarrier(interface) }
        return tender
    }

    private func expectAllReplies(_ ping: Harness.Outcome, _ count: Int, _ context: @autoclosure () -> String = "") {
        let counts = ping.pingCounts
        #expect(counts?.transmitted == count && counts?.received == count, "ping lost replies:\n\(ping)\n\(context())")
        #expect(!ping.stdout.contains("wrong data byte"), "echoed payload differs:\n\(ping)")
    }

    private func expectSuccess(_ tender: Harness.Outcome, answered: Int) {
        #expect(!tender.signaled && tender.status == 0, "\(tender)")
        #expect(tender.stdout.contains("answered \(answered) echo requests"), "\(tender)")
        #expect(tender.stdout.contains(" 0 bad") && tender.stdout.contains("SUCCESS") && !tender.output.contains("FAILURE"),
                "\(tender)")
    }

    /// Replies with the payload intact (ping -p, checked by the guest on the
    /// way in and by ping on the way back), full-size 1514-byte frames, the
    /// MAC set with --net-mac used on the wire, and the malformed requests
    /// the guest tries first rejected with SOLO5_R_EINVAL.
    @Test func pingRepliesWithPayloadIntact() throws {
        try Harness.requireKVM()
        try Harness.takingTurns {
            let ns = try NetNamespace()
            defer { ns.delete() }
            try ns.addTap("tap0", address: "10.0.0.1")
            let mac = "02:5e:1f:00:c0:de"
            let tender = try serve(ns, options: ["--net-mac:service0=\(mac)"], arguments: ["40", "deadbeef"])
            let small = try ns.ping(Self.guestAddress, ["-c", "20", "-i", "0.01", "-W", "5", "-p", "deadbeef"])
            // (While the tender runs: losing carrier flushes the neighbour.)
            let neighbour = try ns.run([NetNamespace.ip, "neigh", "show", Self.guestAddress])
            let full = try ns.ping(Self.guestAddress, ["-c", "20", "-i", "0.05", "-W", "5", "-p", "deadbeef", "-s", "1472", "-M", "do"])
            let outcome = tender.wait(timeout: 60)
            expectAllReplies(small, 20, "\(outcome)")
            expectAllReplies(full, 20, "\(outcome)")
            #expect(neighbour.stdout.contains(mac), "the guest's ARP replies carry the --net-mac address:\n\(neighbour)")
            #expect(outcome.stdout.contains("MAC \(mac), MTU 1500"), "\(outcome)")
            expectSuccess(outcome, answered: 40)
        }
    }

    /// A MAC the tender generates is unicast and locally administered (the
    /// MTU and jumbo frames are cases net-mtu and net-mtu-jumbo of the table).
    @Test func generatedMAC() throws {
        try Harness.requireKVM()
        let ns = try NetNamespace()
        defer { ns.delete() }
        try ns.addTap("tap0", address: "10.0.0.1", mtu: 9000)
        let mtu = try ns.tender(["--mem=32", "--net:service0=tap0", try Harness.guest("net_mtu")]).wait(timeout: 30)
        #expect(mtu.status == 0 && mtu.stdout.contains("MTU is 9000") && mtu.stdout.contains("SUCCESS"), "\(mtu)")
        let macLine = mtu.stdout.split(separator: "\n").first { $0.hasPrefix("MAC is ") }
        let firstOctet = macLine.flatMap { UInt8($0.dropFirst("MAC is ".count).prefix(2), radix: 16) }
        #expect(firstOctet.map { $0 & 0x03 == 0x02 } == true, "\(mtu)")
    }

    /// `--net:NAME=@NN`: a TAP descriptor opened by the parent (tapfd),
    /// served like an interface, its MTU asked of the interface behind it.
    @Test func preopenedDescriptor() throws {
        try Harness.requireKVM()
        try Harness.takingTurns {
            let ns = try NetNamespace()
            defer { ns.delete() }
            try ns.addTap("tap0", address: "10.0.0.1", mtu: 4000)
            let tapfd = Harness.executable("tapfd")
            let mtu = try ns.spawn([tapfd, "tap0", Harness.executable("solo5-hvt"), "--mem=32", "--net:service0=@FD",
                                    try Harness.guest("net_mtu")]).wait(timeout: 30)
            #expect(mtu.status == 0 && mtu.stdout.contains("MTU is 4000") && mtu.stdout.contains("SUCCESS"), "\(mtu)")

            let tender = try ns.spawn([tapfd, "tap0", Harness.executable("solo5-hvt"), "--mem=32", "--net:service0=@FD",
                                       try Harness.guest("net_ping"), "10"])
            try ns.waitForCarrier("tap0")
            let ping = try ns.ping(Self.guestAddress, ["-c", "10", "-i", "0.01", "-W", "5"])
            let outcome = tender.wait(timeout: 30)
            expectAllReplies(ping, 10, "\(outcome)")
            expectSuccess(outcome, answered: 10)
        }
    }

    /// Attach failures, each with the reference's message (ENOENT then
    /// said as what it means) and status 1.
    @Test(arguments: [
        (["--net:nosuch=tap0"], "Resource not declared in manifest: 'nosuch'\n"
            + "solo5-hvt: Invalid option: `--net:nosuch=tap0' (NET_BASIC devices the manifest declares: 'service0')"),
        (["--net-mac:nosuch=02:00:00:00:00:01", "--net:service0=tap0"], "Resource not declared in manifest: 'nosuch'"),
        (["--net:service0=tap9"], "Could not attach interface: tap9: No such file or directory (no such TAP interface: "
            + "create it with `ip tuntap add tap9 mode tap' and bring it up)"),
        // The later one wins, and must attach.
        (["--net:service0=tap0", "--net:service0=tap9"], "Could not attach interface: tap9: No such file or directory"),
        (["--net:service0=tapdown"], "Could not attach interface: tapdown: Network is down"),
        (["--net:service0=averyveryverylongname"], "Could not attach interface: averyveryverylongna: File name too long"),
        (["--net:service0=lo"], "Could not attach interface: lo: Invalid argument"),
        (["--net:service0=@2147483647"], "Could not attach interface: @2147483647: Bad file descriptor"),
        (["--net:service0=@x"], "Could not attach interface: @x: Invalid argument"),
        (["--net:service0=@99999999999"], "Could not attach interface: @99999999999: Numerical result out of range"),
        (["--net-mac:service0=02:00:00:00:01", "--net:service0=tap0"], "Invalid option: `--net-mac:service0=02:00:00:00:01'"),
        (["--net:service0="], "Invalid option: `--net:service0='"),
    ])
    func attachFailures(options: [String], message: String) throws {
        try Harness.requireKVM()
        let ns = try NetNamespace()
        defer { ns.delete() }
        try ns.addTap("tap0", address: "10.0.0.1")
        try ns.addTap("tapdown", address: "10.2.0.1", up: false)
        let outcome = try ns.tender(["--mem=32"] + options + [try Harness.guest("net_mtu")]).wait(timeout: 30)
        #expect(!outcome.signaled && outcome.status == 1, "\(outcome)")
        #expect(outcome.stderr.contains("solo5-hvt: \(message)"), "\(outcome)")
        #expect(!outcome.stdout.contains("SUCCESS"), "\(outcome)")
    }

    /// As in the reference, a later option for the same device wins (a
    /// command line it runs must run), with a warning; the interface given
    /// first is let go once the later one is attached, and the same TAP
    /// named twice stays attached (the reference finds it busy). A MAC is
    /// read as the reference's `%02hhx:` reads it: text after it is ignored.
    @Test func laterOptionWins() throws {
        try Harness.requireKVM()
        let ns = try NetNamespace()
        defer { ns.delete() }
        try ns.addTap("tap0", address: "10.0.0.1")
        try ns.addTap("tap1", address: "10.1.0.1", mtu: 4000)
        let outcome = try ns.tender(["--mem=32", "--net:service0=tap0", "--net:service0=tap1",
                                     "--net-mac:service0=02:00:00:00:00:01", "--net-mac:service0=02:00:00:00:00:02 and more",
                                     try Harness.guest("net_mtu")]).wait(timeout: 30)
        #expect(outcome.status == 0 && outcome.stdout.contains("MTU is 4000") && outcome.stdout.contains("MAC is 02:00:00:00:00:02"),
                "\(outcome)")
        #expect(outcome.stderr == """
            solo5-hvt: warning: --net:service0 given twice: using `--net:service0=tap1', not `--net:service0=tap0'
            solo5-hvt: warning: `--net-mac:service0=02:00:00:00:00:02 and more' read as `--net-mac:service0=02:00:00:00:00:02', \
            as Solo5's tender reads it
            solo5-hvt: warning: --net-mac:service0 given twice: using `--net-mac:service0=02:00:00:00:00:02 and more', \
            not `--net-mac:service0=02:00:00:00:00:01'

            """, "\(outcome)")
        let same = try ns.tender(["--mem=32", "--net:service0=tap0", "--net:service0=tap0", try Harness.guest("net_mtu")])
            .wait(timeout: 30)
        #expect(same.status == 0 && same.stdout.contains("MTU is 1500"), "\(same)")
        // A descriptor passed in, named twice: still open the second time.
        let passed = try ns.spawn([Harness.executable("tapfd"), "tap1", Harness.executable("solo5-hvt"), "--mem=32",
                                   "--net:service0=@FD", "--net:service0=@FD", try Harness.guest("net_mtu")]).wait(timeout: 30)
        #expect(passed.status == 0 && passed.stdout.contains("MTU is 4000"), "\(passed)")
    }

    @Test func declaredButNotAttached() throws {
        try Harness.requireKVM()
        let outcome = try Harness.run(["--mem=32", try Harness.guest("net_mtu")])
        #expect(outcome.status == 1, "\(outcome)")
        #expect(outcome.stderr.contains("Device 'service0' of type NET_BASIC declared but not attached."), "\(outcome)")
    }
}
