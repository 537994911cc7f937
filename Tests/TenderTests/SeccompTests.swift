import Foundation
import Testing

/// The sealed syscall policy, against the real tender.
@Suite("Seccomp policy")
struct SeccompTests {
    @Test func syscallOutsideThePolicyKills() throws {
        try Harness.requireKVM()
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = dir.appendingPathComponent("must-not-exist")
        let outcome = try Harness.run(["--mem=32", "--test:syscall=open:\(target.path)", try Harness.guest("hypercall"), "4"],
                                      tender: "solo5-hvt-testmodule")
        #expect(outcome.signaled && outcome.status == SIGSYS, "\(outcome)")
        #expect(!FileManager.default.fileExists(atPath: target.path), "the file was not opened")
        #expect(!outcome.output.contains("test: open returned"))
    }

    @Test func allowedSyscallWithWrongDescriptorKills() throws {
        try Harness.requireKVM()
        let outcome = try Harness.run(["--mem=32", "--test:syscall=write-null", try Harness.guest("hypercall"), "4"],
                                      tender: "solo5-hvt-testmodule")
        #expect(outcome.signaled && outcome.status == SIGSYS, "\(outcome)")
        #expect(!outcome.output.contains("test: write returned"))
    }

    /// What the Swift runtime does on its own after the seal must be in the
    /// policy: here a global initialized on first use (swift_once's slow
    /// path calls gettid). Without the rule such a first use, e.g. on an
    /// error path in the ring thread, killed the tender with SIGSYS.
    @Test func globalFirstUsedAfterTheSealIsInitialized() throws {
        try Harness.requireKVM()
        let outcome = try Harness.run(["--mem=32", "--test:syscall=lazy-global", try Harness.guest("hypercall"), "4"],
                                      tender: "solo5-hvt-testmodule")
        #expect(!outcome.signaled, "\(outcome)")
        #expect(outcome.output.contains("test: lazy global 30"), "\(outcome)")
    }

    @Test func filterIsInstalledWhileTheGuestRuns() throws {
        try Harness.requireKVM()
        let running = try Harness.Running(["--mem=32", try Harness.guest("sleep"), "3000"], tender: "solo5-hvt")
        // Boot takes milliseconds; by then the policy is sealed.
        usleep(500_000)
        let status = try String(contentsOfFile: "/proc/\(running.pid)/status", encoding: .utf8)
        let outcome = running.wait()
        #expect(outcome.status == 0, "\(outcome)")
        let fields = Dictionary(status.split(separator: "\n").compactMap { line -> (String, String)? in
            let parts = line.split(separator: ":", maxSplits: 1)
            return parts.count == 2 ? (String(parts[0]), parts[1].trimmingCharacters(in: .whitespaces)) : nil
        }, uniquingKeysWith: { a, _ in a })
        #expect(fields["Seccomp"] == "2", "filter mode")
        #expect((Int(fields["Seccomp_filters"] ?? "") ?? 0) >= 1)
        #expect(fields["NoNewPrivs"] == "1")
    }

    @Test func policyDumpNamesEveryModulesRules() throws {
        try Harness.requireKVM()
        let outcome = try Harness.run(["--x-seccomp-dump", "--mem=32", try Harness.guest("hello")])
        #expect(outcome.status == 0, "\(outcome)")
        #expect(!outcome.stdout.contains("Hello"), "the guest does not run")
        let text = outcome.stdout
        #expect(text.hasPrefix("seccomp policy: default action kills the process (SIGSYS)"))
        for line in ["process:\n", "  ioctl if arg0 == ", "&& arg1 == 44672 — KVM_RUN", "core:\n",
                     "  epoll_pwait if arg0 == ", "console:\n", "  write if arg0 == 1 — PUTS"] {
            #expect(text.contains(line), "missing \(line)")
        }
        #expect(!text.contains("\n  read —") && !text.contains("\n  write —"), "no unconditional read or write")
    }
}
