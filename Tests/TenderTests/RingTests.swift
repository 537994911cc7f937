import Foundation
import Testing
import HvtABI
@testable import Tender

/// Ring I/O (HVT_FEATURE_RING_IO): the memory layout, the net_ring guest's
/// flood over the ring, a hypercall-only guest with the ring offered, the
/// ring thread's syscall rules, and every ring_hostile attack. Network tests
/// run in a namespace of their own.
@Suite("Ring I/O", .serialized)
struct RingTests {
    static let guestAddress = "10.0.0.2"
    static let ringBytes = UInt64(49280)  // sizeof(struct hvt_ring)

    /// The reference's sizing: memory + the ring rounded up to 2 MiB, rounded
    /// up again, capped at 4 GiB; the ring on top, the guest below it.
    @Test func sizing() throws {
        let mib: UInt64 = 1 << 20
        #expect(UInt64(MemoryLayout<hvt_ring>.size) == Self.ringBytes)
        func layout(_ guest: UInt64) throws -> (UInt64, UInt64, UInt64?) {
            let l = try X86Layout.reserving(Self.ringBytes, above: guest)
            return (l.mapped, l.guest, l.region)
        }
        #expect(try layout(32 * mib) == (34 * mib, 32 * mib, 32 * mib))
        #expect(try layout(2 * mib) == (4 * mib, 2 * mib, 2 * mib))
        #expect(try layout(512 * mib) == (514 * mib, 512 * mib, 512 * mib))
        #expect(try layout(4094 * mib) == (4096 * mib, 4094 * mib, 4094 * mib))
        // At the cap the ring comes out of the guest's memory.
        #expect(try layout(4096 * mib) == (4096 * mib, 4094 * mib, 4094 * mib))
        // A region over 2 MiB takes whole large pages.
        let big = try X86Layout.reserving(2 * mib + 1, above: 32 * mib)
        #expect(big.mapped == 36 * mib && big.guest == 32 * mib && big.region == 32 * mib)
        // No region asked for: nothing changes.
        let none = try X86Layout.reserving(0, above: 32 * mib)
        #expect(none.mapped == 32 * mib && none.guest == 32 * mib && none.region == nil)
        // A region the guest's memory cannot match is an error, not a
        // silently larger guest.
        #expect(throws: TenderError.self) { try X86Layout.reserving(3072 * mib, above: 2 * mib) }
    }

    private func namespace() throws -> NetNamespace {
        let ns = try NetNamespace()
        do { try ns.addTap("tap0", address: "10.0.0.1") } catch { ns.delete(); throw error }
        return ns
    }

    private func serve(_ ns: NetNamespace, guest: String, _ arguments: [String]) throws -> Harness.Running {
        let tender = try ns.tender(["--mem=32", "--net:service0=tap0", try Harness.guest(guest)] + arguments)
        try ns.waitForCarrier("tap0")
        return tender
    }

    private func expectAllReplies(_ ping: Harness.Outcome, _ count: Int, _ context: @autoclosure () -> String) {
        let counts = ping.pingCounts
        #expect(counts?.transmitted == count && counts?.received == count, "ping lost replies:\n\(ping)\n\(context())")
        #expect(!ping.stdout.contains("wrong data byte"), "echoed payload differs:\n\(ping)")
    }

    private func expectServed(_ outcome: Harness.Outcome, _ answered: Int) {
        #expect(!outcome.signaled && outcome.status == 0, "\(outcome)")
        #expect(outcome.stdout.contains("answered \(answered) echo requests"), "\(outcome)")
        #expect(outcome.stdout.contains(" 0 bad") && outcome.stdout.contains("SUCCESS")
                && !outcome.output.contains("FAILURE"), "\(outcome)")
    }

    /// A guest that only uses the hypercalls is served as before while the
    /// ring is offered (and its thread runs), malformed requests included.
    @Test func hypercallGuestWithTheRingOffered() throws {
        try Harness.requireKVM()
        try Harness.takingTurns {
            let ns = try namespace()
            defer { ns.delete() }
            let tender = try serve(ns, guest: "net_ping", ["500"])
            let ping = try ns.ping(Self.guestAddress, ["-f", "-q", "-c", "500", "-W", "5"])
            let outcome = tender.wait(timeout: 30)
            expectAllReplies(ping, 500, "\(outcome)")
            expectServed(outcome, 500)
            #expect(!outcome.stdout.contains("ring I/O"))
        }
    }

    /// The ring thread's rules are in the net module's policy.
    @Test func policyHasTheRingThreadsRules() throws {
        try Harness.requireKVM()
        let ns = try namespace()
        defer { ns.delete() }
        let outcome = try ns.run([Harness.executable("solo5-hvt"), "--x-seccomp-dump", "--mem=32",
                                  "--net:service0=tap0", try Harness.guest("net_ring")])
        #expect(outcome.status == 0, "\(outcome)")
        let net = outcome.stdout.components(separatedBy: "net:\n").last ?? ""
        for line in ["— the ring thread sleeps until the guest kicks", "— the halt hook wakes the ring thread to stop it",
                     "  exit — the ring thread ends", "rt_sigprocmask if arg0 == 0 —"] {
            #expect(net.contains(line), "missing \(line):\n\(outcome.stdout)")
        }
    }

    enum Expected: Sendable { case survives, ends(String), either }

    /// Each attack of ring_hostile: the tender survives (the guest reports
    /// SUCCESS) or ends with status 1 and its message; it is never killed
    /// by a signal (no crash, no seccomp kill) and never hangs.
    @Test(arguments: [
        ("bad_handle", Expected.survives),
        ("huge_len", .survives),
        ("bad_op", .survives),
        ("scribble", .survives),
        ("bad_tail", .ends("guest's ent_tail")),
        ("tail_behind", .ends("guest's ent_tail")),
        ("gpa_out", .ends("Invalid guest access: gpa=0x2000000, sz=60 (net ring)")),
        ("gpa_ring", .ends("Invalid guest access: gpa=0x2000000, sz=1514 (net ring)")),
        ("gpa_wrap", .ends("Invalid guest access: gpa=0xffffffffffffffc0, sz=128 (net ring)")),
        ("read_huge", .ends("Invalid guest access: gpa=0x1fff000, sz=4294967295 (net ring)")),
        ("com_overrun", .ends("guest's com_head")),
        ("race", .either),
    ])
    func hostile(attack: String, expected: Expected) throws {
        try Harness.requireKVM()
        let ns = try namespace()
        defer { ns.delete() }
        let outcome = try ns.tender(["--mem=32", "--net:service0=tap0", try Harness.guest("ring_hostile"), attack])
            .wait(timeout: 30)
        #expect(!outcome.signaled, "\(outcome)")
        // The guest sees 32 MiB and the ring right above it.
        #expect(outcome.stdout.contains("mem_size 0x2000000, net_ring 0x2000000"), "\(outcome)")
        switch expected {
        case .survives:
            #expect(outcome.status == 0 && outcome.stdout.contains("SUCCESS") && !outcome.stdout.contains("FAILURE"),
                    "\(outcome)")
        case .ends(let message):
            #expect(outcome.status == 1 && outcome.stderr.contains("solo5-hvt: \(message)")
                    && outcome.stderr.hasSuffix(" (net ring)\n"), "\(outcome)")
            #expect(!outcome.stdout.contains("still running"), "\(outcome)")
        case .either:
            let survived = outcome.status == 0 && outcome.stdout.contains("SURVIVED")
            let ended = outcome.status == 1 && outcome.stderr.hasSuffix(" (net ring)\n")
            #expect(survived || ended, "\(outcome)")
        }
    }
}
