import Foundation
import Testing

/// solo5-hvt-debug --dumpcore=DIR on /dev/kvm: the core file's place and
/// name, its contents read back by Debian's gdb, the start-up checks of DIR,
/// and what the module may and may not do once the policy is sealed.
@Suite("Dumpcore module")
struct DumpcoreTests {
    static let tender = "solo5-hvt-debug"

    /// The core file the tender named: the path after "dumping guest core
    /// to: ", which must be DIR/core.solo5-hvt.PID and end its line (Solo5's
    /// test greps `core\.solo5-hvt\.[0-9]*$`).
    private func corePath(_ outcome: Harness.Outcome, dir: URL) -> String? {
        let prefix = "solo5-hvt-debug: dumpcore: dumping guest core to: "
        guard let line = outcome.stderr.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else { return nil }
        let path = String(line.dropFirst(prefix.count))
        let name = URL(fileURLWithPath: path).lastPathComponent
        guard path == dir.path + "/" + name, name.hasPrefix("core.solo5-hvt."),
              Int(name.dropFirst("core.solo5-hvt.".count)) != nil else { return nil }
        return path
    }

    /// Debian's gdb in batch mode on GUEST and CORE.
    private func gdb(_ guest: String, _ core: String, _ commands: [String]) throws -> String {
        let gdb = "/usr/bin/gdb"
        try #require(FileManager.default.isExecutableFile(atPath: gdb), "gdb is missing (scripts/deps installs it)")
        let outcome = try Harness.run(program: gdb, ["-nx", "-batch"] + commands.flatMap { ["-ex", $0] } + [guest, core])
        return outcome.output
    }

    private func registerValue(_ name: String, in text: String) -> UInt64? {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + " ") }) else { return nil }
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 2, fields[1].hasPrefix("0x") else { return nil }
        return UInt64(fields[1].dropFirst(2), radix: 16)
    }

    /// Runs guest `name` with --dumpcore in a fresh directory, expects
    /// `status` and a core file, and hands them to `body`.
    private func withCore(_ name: String, status: Int32,
                          _ body: (_ outcome: Harness.Outcome, _ guest: String, _ core: String) throws -> Void) throws {
        try Harness.requireKVM()
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let guest = try Harness.guest(name)
        let outcome = try Harness.run(["--mem=32", "--dumpcore=\(dir.path)", guest], tender: Self.tender)
        #expect(!outcome.signaled && outcome.status == status, "\(outcome)")
        try body(outcome, guest, try #require(corePath(outcome, dir: dir), "\(outcome)"))
    }

    @Test func abortWritesACoreGdbReads() throws {
        try withCore("abort", status: 255) { outcome, guest, core in
            #expect(outcome.stderr.contains("dumpcore: dumped "), "\(outcome)")
            #expect(outcome.stderr.contains(" pages of total 8192 pages"), "32 MiB of guest memory\n\(outcome)")
            let attributes = try FileManager.default.attributesOfItem(atPath: core)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            let header = try Data(contentsOf: URL(fileURLWithPath: core)).prefix(20)
            #expect(Array(header.prefix(4)) == [0x7f, 0x45, 0x4c, 0x46] && header[16] == 4, "an ELF ET_CORE file")

            let text = try gdb(guest, core, ["bt", "info registers rip"])
            #expect(text.contains("Program terminated with signal SIGABRT"), "\(text)")
            #expect(text.contains(" abort () at "), "a backtrace through abort()\n\(text)")
            #expect(text.contains(" main (") && text.contains("abort.c:8"), "down to main\n\(text)")
            #expect(text.contains("<kit_halt+"), "rip in the halting function\n\(text)")
        }
    }

    /// A fault that ends the run: the registers come from KVM, and gdb's rip
    /// is the one the tender reports.
    @Test func faultWritesACoreAtTheFaultingInstruction() throws {
        try withCore("nullpage", status: 1) { outcome, guest, core in
            let reported = try #require(outcome.stderr.split(separator: "\n").first { $0.contains("triple fault") }
                .flatMap { $0.split(separator: "rip=0x").last }.flatMap { UInt64($0.prefix(while: \.isHexDigit), radix: 16) },
                "\(outcome)")
            let text = try gdb(guest, core, ["bt", "info registers rip"])
            #expect(registerValue("rip", in: text) == reported, "\(text)")
            #expect(text.contains("nullpage.c:12"), "the faulting line\n\(text)")
        }
    }

    /// A guest's trap handler passes its trap frame as the halt cookie: rip
    /// and rsp come from the frame. Guest memory is in the core.
    @Test func trapFrameGivesTheRegisters() throws {
        try withCore("trapframe", status: 255) { _, guest, core in
            let text = try gdb(guest, core, ["info registers rip", "p/x dump_marker", "p/x $cs"])
            #expect(text.contains("<faulting_function>"), "\(text)")
            #expect(text.contains("= 0x5afec0de5afec0de"), "guest memory in the core\n\(text)")
            #expect(text.contains("= 0x8"), "cs from the frame\n\(text)")
        }
    }

    @Test func noCoreUnlessTheGuestAborts() throws {
        try Harness.requireKVM()
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let outcome = try Harness.run(["--mem=32", "--dumpcore=\(dir.path)", try Harness.guest("exitcode"), "42"],
                                      tender: Self.tender)
        #expect(outcome.status == 42 && !outcome.output.contains("dumpcore"), "\(outcome)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test func missingDirectoryFailsBeforeTheGuestRuns() throws {
        try Harness.requireKVM()
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let outcome = try Harness.run(["--mem=32", "--dumpcore=\(dir.path)/missing", try Harness.guest("abort")],
                                      tender: Self.tender)
        #expect(!outcome.signaled && outcome.status == 1, "\(outcome)")
        #expect(outcome.stderr == "solo5-hvt-debug: dumpcore: cannot open dir: \(dir.path)/missing: No such file or directory\n",
                "\(outcome)")
        #expect(!outcome.output.contains("kit:"), "the guest did not run")
    }

    /// A directory on a read-only file system (root may write anywhere else).
    @Test func unwritableDirectoryFailsBeforeTheGuestRuns() throws {
        try Harness.requireKVM()
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let mount = try Harness.run(program: "/bin/mount", ["-t", "tmpfs", "-o", "ro,size=64k", "none", dir.path])
        try #require(mount.status == 0, "mounting a read-only tmpfs: \(mount)")
        defer { _ = try? Harness.run(program: "/bin/umount", [dir.path]) }
        let outcome = try Harness.run(["--mem=32", "--dumpcore=\(dir.path)", try Harness.guest("abort")],
                                      tender: Self.tender)
        #expect(!outcome.signaled && outcome.status == 1, "\(outcome)")
        #expect(outcome.stderr == "solo5-hvt-debug: dumpcore: dir not writable\n", "\(outcome)")
        #expect(!outcome.output.contains("kit:"), "the guest did not run")
    }

    /// A symlink planted at the core's name (the PID is known: the shell
    /// execs the tender) is not followed, and nothing is written through it.
    @Test func plantedSymlinkIsNotFollowed() throws {
        try Harness.requireKVM()
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = dir.appendingPathComponent("target")
        let core = dir.appendingPathComponent("cores")
        try FileManager.default.createDirectory(at: core, withIntermediateDirectories: false)
        let script = "ln -s \"$1\" \"$2/core.solo5-hvt.$$\" && exec \"$3\" --mem=32 --dumpcore=\"$2\" \"$4\""
        let outcome = try Harness.run(program: "/bin/sh", ["-c", script, "sh", target.path, core.path,
                                                           Harness.executable(Self.tender), try Harness.guest("abort")])
        #expect(!outcome.signaled && outcome.status == 255, "\(outcome)")
        #expect(outcome.stderr.contains("dumpcore: open(core.solo5-hvt."), "\(outcome)")
        #expect(outcome.stderr.contains("): File exists"), "\(outcome)")
        #expect(outcome.stderr.contains("dumpcore: error(s) dumping core, file may be incomplete"), "\(outcome)")
        #expect(!FileManager.default.fileExists(atPath: target.path), "nothing written through the symlink")
    }

    @Test func policyPinsTheDirectoryAndTheCoreFile() throws {
        try Harness.requireKVM()
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let outcome = try Harness.run(["--x-seccomp-dump", "--mem=32", "--dumpcore=\(dir.path)", try Harness.guest("abort")],
                                      tender: Self.tender)
        #expect(outcome.status == 0 && !outcome.output.contains("kit:"), "\(outcome)")
        let text = outcome.stdout
        let flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC
        for line in ["dumpcore:\n", "  openat if arg0 == ", " && arg2 == \(flags) — create the core file",
                     "  dup2 if arg1 == ", " — move the core file",
                     "  pwrite64 if arg0 == ", "  ftruncate if arg0 == ", "  close if arg0 == ",
                     "KVM_GET_SREGS", "  mincore —"] {
            #expect(text.contains(line), "missing \(line)\n\(text)")
        }
        #expect(!text.contains("\n  openat —") && !text.contains("\n  write —") && !text.contains("\n  open "),
                "no unconditional open or write\n\(text)")
        // Without --dumpcore the module adds nothing.
        let plain = try Harness.run(["--x-seccomp-dump", "--mem=32", try Harness.guest("abort")], tender: Self.tender)
        #expect(plain.status == 0 && !plain.stdout.contains("dumpcore:"), "\(plain)")
    }

    /// The debug tender runs its guest under the sealed filter, and with the
    /// debug modules' rules in place a syscall outside them still kills it
    /// (solo5-hvt-testmodule carries the debug modules and a module that
    /// makes the forbidden call).
    @Test func debugTenderIsSealed() throws {
        try Harness.requireKVM()
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let running = try Harness.Running(["--mem=32", "--dumpcore=\(dir.path)", try Harness.guest("sleep"), "2000"],
                                          tender: Self.tender)
        usleep(500_000)
        let status = try String(contentsOfFile: "/proc/\(running.pid)/status", encoding: .utf8)
        #expect(running.wait().status == 0)
        #expect(status.contains("\nSeccomp:\t2\n"), "filter mode\n\(status)")

        // open(2) is openat(AT_FDCWD, ...): the dumpcore rule allows openat
        // on DIR's descriptor only.
        let target = dir.appendingPathComponent("must-not-exist")
        let outcome = try Harness.run(["--mem=32", "--dumpcore=\(dir.path)", "--test:syscall=open:\(target.path)",
                                       try Harness.guest("hypercall"), "4"], tender: "solo5-hvt-testmodule")
        #expect(outcome.signaled && outcome.status == SIGSYS, "\(outcome)")
        #expect(!FileManager.default.fileExists(atPath: target.path))
    }
}
