import Foundation
import Testing

/// solo5-hvt-debug --gdb on /dev/kvm, driven by Debian's gdb in batch mode.
///
/// kvm_pvm (KVM emulating the guest) differs from real KVM: single step
/// and breakpoints in debug registers work, but an int3 under
/// KVM_GUESTDBG_USE_SW_BP ends the run ("KVM: internal error exit:
/// suberror=0x1") and data watchpoints never fire. The stub puts the first
/// four breakpoints in debug registers, so `break` works on both; the tests
/// below state what kvm_pvm does and demand the real behaviour on hardware.
/// (The nested real-KVM bed, KVM under QEMU's emulated SVM, cannot stand in
/// for hardware here: only single step works there; see cases.txt.)
@Suite("GDB module")
struct GdbTests {
    /// Starts the tender waiting for gdb on a free port, runs gdb with
    /// `commands` against it, and returns both outcomes.
    private func session(_ commands: [String], guest: String = "gdbtarget",
                         tenderArguments: [String] = []) throws -> (tender: Harness.Outcome, gdb: Harness.Outcome) {
        try Harness.requireKVM()
        let gdb = "/usr/bin/gdb"
        try #require(FileManager.default.isExecutableFile(atPath: gdb), "gdb is missing (scripts/deps installs it)")
        let path = try Harness.guest(guest)
        // A port of our own choice: the tender's output is read only at its
        // exit, so it cannot tell us one it picked.
        let port = 20000 + Int(getpid() % 10000) + Int.random(in: 0..<20000)
        let tender = try Harness.Running(["--mem=32", "--gdb", "--gdb-port=\(port)"] + tenderArguments + [path],
                                         tender: "solo5-hvt-debug")
        var gdbOutcome: Harness.Outcome?
        for _ in 0..<50 where gdbOutcome == nil {
            usleep(100_000)
            let outcome = try Harness.run(program: gdb, ["-nx", "-batch", "-ex", "set tcp connect-timeout 1",
                                                         "-ex", "target remote localhost:\(port)"]
                                                         + commands.flatMap { ["-ex", $0] } + [path], timeout: 60)
            if !outcome.output.contains("Connection refused") { gdbOutcome = outcome }
        }
        let gdbResult = try #require(gdbOutcome, "gdb could not connect")
        return (tender.wait(timeout: 30), gdbResult)
    }

    /// The issue's session: break at main, continue, step, print a global,
    /// change a variable and see it in the guest's output, run to the exit.
    @Test func breakStepPrintSetContinue() throws {
        let (tender, gdb) = try session(["break main", "continue", "next", "step", "print counter",
                                         "set var debug_value = 42", "continue"])
        #expect(gdb.output.contains("Breakpoint 1, main ("), "\(gdb)")
        #expect(gdb.output.contains("bump (by=by@entry=2)"), "stepped into bump()\n\(gdb)")
        #expect(gdb.output.contains("$1 = 1"), "\(gdb)")
        #expect(gdb.output.contains("exited normally"), "gdb saw the exit (W00)\n\(gdb)")
        #expect(!tender.signaled && tender.status == 0, "\(tender)")
        #expect(tender.stdout.contains("debug_value: 42 counter: 3"), "\(tender)")
        #expect(tender.stderr.contains("Connection from debugger at 127.0.0.1"), "\(tender)")
    }

    /// The guest does not run before gdb says so: the first stop is at the
    /// entry point, registers and memory read back.
    @Test func stopsBeforeTheFirstInstruction() throws {
        let (tender, gdb) = try session(["info registers rip", "x/4xb 0x40000000", "x/2xg 0x1000",
                                         "maint packet m zz,1", "maint packet Z9,0,0", "stepi", "info registers rip", "kill"])
        #expect(gdb.output.contains("<_start>"), "\(gdb)")
        #expect(gdb.output.contains("Cannot access memory at address 0x40000000"), "outside guest memory\n\(gdb)")
        #expect(gdb.output.contains("Cannot access memory at address 0x1000"), "the tender's page tables\n\(gdb)")
        #expect(gdb.output.contains("received: \"E01\""), "a malformed packet gets an error\n\(gdb)")
        #expect(gdb.output.contains("<_start+1>"), "single step\n\(gdb)")
        #expect(!tender.stdout.contains("SUCCESS"), "killed before main\n\(tender)")
        #expect(tender.stderr.contains("Debugger asked us to quit"), "\(tender)")
        #expect(tender.status == 1, "\(tender)")
    }

    /// A write watchpoint (Z2, a debug register): fires on real KVM; under
    /// kvm_pvm the emulator does not check data breakpoints and the guest
    /// runs to its end.
    @Test func writeWatchpoint() throws {
        let (tender, gdb) = try session(["break bump", "continue", "watch counter", "continue", "delete", "continue"])
        #expect(tender.status == 0 && tender.stdout.contains("SUCCESS"), "\(tender)")
        if Harness.isKVMPVM {
            #expect(!gdb.output.contains("Old value ="), "kvm_pvm fires no data watchpoint (if this fails, it now does)\n\(gdb)")
        } else {
            #expect(gdb.output.contains("Hardware watchpoint 2: counter") && gdb.output.contains("Old value = 0")
                    && gdb.output.contains("New value = 1"), "\(gdb)")
        }
    }

    /// Five breakpoints: four debug registers and one int3 written into the
    /// read-only text. Real KVM stops at all five; kvm_pvm ends the run at
    /// the int3 with an internal error.
    @Test func fifthBreakpointIsAnInt3() throws {
        let (tender, gdb) = try session(["break kit_puts", "break kit_put_dec", "break kit_putc", "break kit_println",
                                         "break bump", "continue", "continue", "continue"])
        if Harness.isKVMPVM {
            #expect(tender.stderr.contains("KVM: internal error exit: suberror=0x1"), "\(tender)\n\(gdb)")
        } else {
            #expect(gdb.output.contains("Breakpoint 5, bump (by=by@entry=1)"), "\(gdb)")
            #expect(gdb.output.contains("Breakpoint 5, bump (by=by@entry=2)"), "\(gdb)")
            #expect(tender.status == 0 && tender.stdout.contains("SUCCESS"), "int3s removed at detach\n\(tender)")
        }
    }

    /// A fault stops the guest for gdb (SIGSEGV) at the faulting
    /// instruction; continuing ends the run.
    @Test func faultStopsForInspection() throws {
        let (tender, gdb) = try session(["continue", "bt", "continue"], guest: "nullpage")
        #expect(gdb.output.contains("Program received signal SIGSEGV"), "\(gdb)")
        #expect(gdb.output.contains("nullpage.c:12"), "\(gdb)")
        #expect(gdb.output.contains("Program terminated with signal SIGSEGV"), "\(gdb)")
        #expect(tender.status == 1 && tender.stderr.contains("KVM: unhandled exit: exit_reason=0x8, rip=0x")
                && tender.stderr.contains("(guest triple fault)"), "\(tender)")
    }

    @Test func badPortIsRefused() throws {
        try Harness.requireKVM()
        // What the reference's `%d` does not read, or reads out of range.
        for port in ["", "x", "65536", "-1", "123456", "99999999999999999999"] {
            let outcome = try Harness.run(["--gdb", "--gdb-port=\(port)", try Harness.guest("hello")], tender: "solo5-hvt-debug")
            #expect(outcome.status == 1 && outcome.stderr.contains("Malformed argument to --gdb-port"), "\(outcome)")
        }
    }

    /// The policy with --gdb: the connection's descriptor only, and the
    /// debug ioctls (the dump is printed once gdb has connected).
    @Test func policyPinsTheConnection() throws {
        let (tender, _) = try session([], guest: "hello", tenderArguments: ["--x-seccomp-dump"])
        let text = tender.stdout
        for line in ["gdb:\n", "  read if arg0 == ", "  write if arg0 == ", "KVM_SET_GUEST_DEBUG", "KVM_SET_REGS"] {
            #expect(text.contains(line), "missing \(line)\n\(tender)")
        }
        #expect(!text.contains("accept") && !text.contains("socket") && !text.contains("\n  read —"), "\(text)")
    }
}

/// The stub's framing against a client of our own: an oversized packet
/// gets an error reply, a bad checksum a `-`, and the stub stays usable.
@Suite("GDB module: packets")
struct GdbPacketTests {
    /// A packet with its checksum.
    private func frame(_ payload: String) -> String {
        "$" + payload + "#" + String(format: "%02x", payload.utf8.reduce(UInt8(0), &+))
    }

    @Test func oversizedAndCorruptPackets() throws {
        try Harness.requireKVM()
        let port = UInt16(20000 + Int.random(in: 0..<40000))
        let tender = try Harness.Running(["--mem=32", "--gdb", "--gdb-port=\(port)", try Harness.guest("hello")],
                                         tender: "solo5-hvt-debug")
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        var fd: Int32 = -1
        for _ in 0..<100 {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            let rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if rc == 0 { break }
            close(fd)
            fd = -1
            usleep(50_000)
        }
        try #require(fd >= 0, "could not connect to the stub")
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        func send(_ text: String) { _ = text.withCString { write(fd, $0, strlen($0)) } }
        // Reads until `marker` has arrived (or the stub goes quiet).
        func receive(until marker: String) -> String {
            var text = ""
            var buffer = [UInt8](repeating: 0, count: 65536)
            while !text.contains(marker) {
                let n = read(fd, &buffer, buffer.count)
                if n <= 0 { break }
                text += String(decoding: buffer[..<n], as: UTF8.self)
            }
            return text
        }

        send(frame(String(repeating: "m", count: 5000)))
        #expect(receive(until: "#") == "+" + frame("E01"), "an oversized packet gets an error reply")
        send("+")
        send("$?#00")
        #expect(receive(until: "-") == "-", "a bad checksum is refused")
        send(frame("?"))
        #expect(receive(until: "#") == "+" + frame("S05"), "the stub still answers")
        send("+")
        send(frame("m" + String(repeating: "f", count: 17) + ",4"))
        #expect(receive(until: "#") == "+" + frame("E01"), "an address of 17 digits is malformed")
        send("+")
        send(frame("mffffffffffffff00,200"))
        #expect(receive(until: "#") == "+" + frame("E14"), "memory that wraps around is refused")
        send("+")
        send(frame("c"))
        #expect(receive(until: "$W00").contains(frame("W00")), "the guest's exit is reported")
        close(fd)
        let outcome = tender.wait(timeout: 30)
        #expect(outcome.status == 0 && outcome.stdout.contains("Hello, world!"), "\(outcome)")
        // The reference's warning for the bad checksum ('?' sums to 0x3f).
        #expect(outcome.stderr.contains("solo5-hvt-debug: Failed checksum from GDB. My count = 0x3f, sent=0x0. buf=?\n"),
                "\(outcome)")
    }
}
