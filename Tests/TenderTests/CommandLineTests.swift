import Foundation
import Testing

/// The command line, messages and exit codes, against the real tender.
@Suite("Command line")
struct CommandLineTests {
    @Test func helpListsModulesAndExitsOne() throws {
        let outcome = try Harness.run(["--help"])
        #expect(outcome.status == 1)
        #expect(outcome.stderr.hasPrefix("usage: solo5-hvt [ CORE OPTIONS ] [ MODULE OPTIONS ] [ -- ] KERNEL [ ARGS ]\n"))
        #expect(outcome.stderr.contains("  [ --mem=512 ] (guest memory in MB, at most 4096)\n"))
        #expect(outcome.stderr.contains("Compiled-in modules: core console "))
        // What the reference's error for a bad sector size means (BlockTests).
        #expect(outcome.stderr.contains("must be a power of two greater than or equal 512"))
        #expect(outcome.stdout.isEmpty)
    }

    @Test func helpShowsEachModuleUsage() throws {
        let outcome = try Harness.run(["--help"], tender: "solo5-hvt-testmodule")
        #expect(outcome.stderr.contains("Compiled-in modules: core console test gdb dumpcore \n"))
        #expect(outcome.stderr.contains("\nCompiled-in module options:\n    [ --test:halt-message=TEXT ]"))
    }

    @Test func helpWinsOverALaterKernel() throws {
        let outcome = try Harness.run(["--mem=2", "--help", "/nonexistent"])
        #expect(outcome.status == 1 && outcome.stderr.hasPrefix("usage:"))
    }

    @Test func version() throws {
        let outcome = try Harness.run(["--version"])
        #expect(outcome.status == 0)
        #expect(outcome.stderr.hasPrefix("solo5-hvt tender, version "))
        #expect(outcome.stderr.hasSuffix("\nABI version 2\n"))
    }

    @Test func missingKernel() throws {
        for arguments in [[], ["--mem=32"], ["--mem=32", "--"]] {
            let outcome = try Harness.run(arguments)
            #expect(outcome.status == 1)
            #expect(outcome.stderr.hasPrefix("solo5-hvt: Missing KERNEL operand\nusage: "), "\(arguments)")
        }
    }

    @Test func invalidOption() throws {
        let outcome = try Harness.run(["--frobnicate", try Harness.guest("hello")])
        #expect(outcome.status == 1)
        #expect(outcome.stderr.hasPrefix("solo5-hvt: Invalid option: `--frobnicate'\nusage: "))
    }

    /// What the reference's `sscanf("--mem=%zd")` does not read, or reads
    /// as zero bytes.
    @Test(arguments: ["", "abc", "0", "00", "-0", "-", "+ 5", "17592186044416"])
    func malformedMemory(_ value: String) throws {
        let outcome = try Harness.run(["--mem=\(value)", try Harness.guest("hello")])
        #expect(outcome.status == 1)
        // The reference's words, then what is expected.
        #expect(outcome.stderr == "solo5-hvt: Malformed argument to --mem: `\(value)' "
                + "(expected guest memory in MB, a whole number from 1 to 4096)\n", "\(outcome)")
    }

    /// What the reference reads as a number runs (a command line it runs
    /// must run), with a warning where it reads something else than is
    /// written; leading white space and a sign are no news.
    @Test(arguments: [("12x", "12"), ("1.5", "1"), (" 5", nil), ("+7", nil), ("32 MB", "32")] as [(String, String?)])
    func memoryReadAsTheReferenceReadsIt(_ value: String, _ readAs: String?) throws {
        try Harness.requireKVM()
        let outcome = try Harness.run(["--mem=\(value)", try Harness.guest("hello")])
        #expect(outcome.status == 0, "\(outcome)")
        let warning = readAs.map { "solo5-hvt: warning: `--mem=\(value)' read as `--mem=\($0)', as Solo5's tender reads it\n" }
        #expect(outcome.stderr.hasPrefix(warning ?? "") && outcome.stderr.contains("warning") == (warning != nil), "\(outcome)")
    }

    /// Too large is said in the reference's words, in bytes after rounding
    /// (which it says first), then the limit in MB, the unit of --mem, as
    /// --help gives it. A negative size is a size_t there, too large.
    @Test(arguments: [
        ("4098", "guest memory size 4297064448 bytes exceeds the max size 4294967296 bytes (--mem=4096 at most)\n"),
        ("4099", "adjusting memory to 4297064448 bytes\n"
            + "solo5-hvt: guest memory size 4297064448 bytes exceeds the max size 4294967296 bytes (--mem=4096 at most)\n"),
        ("8192", "guest memory size 8589934592 bytes exceeds the max size 4294967296 bytes (--mem=4096 at most)\n"),
        ("-1", "adjusting memory to 18446744073707454464 bytes\n"
            + "solo5-hvt: guest memory size 18446744073707454464 bytes exceeds the max size 4294967296 bytes (--mem=4096 at most)\n"),
    ])
    func memoryTooLarge(_ value: String, _ message: String) throws {
        let outcome = try Harness.run(["--mem=\(value)", try Harness.guest("hello")])
        #expect(outcome.status == 1)
        #expect(outcome.stderr == "solo5-hvt: \(message)", "\(outcome)")
        let help = try Harness.run(["--help"])
        #expect(help.stderr.contains("  [ --mem=512 ] (guest memory in MB, at most 4096)\n"))
    }

    /// As in the reference the last --mem wins (each is read: a malformed
    /// one fails even if a good one follows); a warning says which.
    @Test func memoryGivenTwice() throws {
        try Harness.requireKVM()
        let outcome = try Harness.run(["--mem=32", "--mem=3", try Harness.guest("hello")])
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stderr == "solo5-hvt: warning: --mem given twice: using `--mem=3', not `--mem=32'\n"
                + "solo5-hvt: adjusting memory to 2097152 bytes\n", "\(outcome)")
        let malformed = try Harness.run(["--mem=x", "--mem=32", try Harness.guest("hello")])
        #expect(malformed.status == 1 && malformed.stderr.hasPrefix("solo5-hvt: Malformed argument to --mem"), "\(malformed)")
    }

    /// A device name the manifest does not declare: the reference's warning,
    /// then the names it does declare, not buried under the usage text.
    @Test func undeclaredDeviceNamesTheDeclaredOnes() throws {
        let block = try Harness.run(["--block:x=/dev/null", try Harness.guest("blockdecl")])
        #expect(block.status == 1)
        #expect(block.stderr == "solo5-hvt: Resource not declared in manifest: 'x'\n"
                + "solo5-hvt: Invalid option: `--block:x=/dev/null' (BLOCK_BASIC devices the manifest declares: 'storage')\n",
                "\(block)")
        let none = try Harness.run(["--net:x=tap0", try Harness.guest("hello")])
        #expect(none.status == 1)
        #expect(none.stderr == "solo5-hvt: Resource not declared in manifest: 'x'\n"
                + "solo5-hvt: Invalid option: `--net:x=tap0' (the manifest declares no NET_BASIC device)\n", "\(none)")
    }

    @Test func memoryIsRoundedDownToLargePages() throws {
        try Harness.requireKVM()
        let outcome = try Harness.run(["--mem=3", try Harness.guest("hello")])
        #expect(outcome.status == 0)
        #expect(outcome.stderr == "solo5-hvt: adjusting memory to 2097152 bytes\n")
    }

    @Test func missingKernelFile() throws {
        let outcome = try Harness.run(["/nonexistent/kernel.hvt"])
        #expect(outcome.status == 1)
        #expect(outcome.stderr == "solo5-hvt: /nonexistent/kernel.hvt: Could not open: No such file or directory\n")
    }

    @Test func guestArgumentsMayLookLikeOptions() throws {
        try Harness.requireKVM()
        let outcome = try Harness.run(["--mem=32", "--", try Harness.guest("cmdline"), "--mem=1", "-x", "--"])
        #expect(outcome.status == 0)
        #expect(outcome.stdout.contains("[--mem=1 -x --]"), "\(outcome)")
    }

    @Test func commandLineLimit() throws {
        try Harness.requireKVM()
        let guest = try Harness.guest("cmdline")
        // 8191 characters fit (plus the NUL); one more does not.
        let fits = try Harness.run(["--mem=32", guest, String(repeating: "a", count: 8191)])
        #expect(fits.status == 0, "\(fits)")
        let tooLong = try Harness.run(["--mem=32", guest, String(repeating: "a", count: 8190), "b"])
        #expect(tooLong.status == 1)
        #expect(tooLong.stderr == "solo5-hvt: Guest command line too long (max=8191 characters)\n")
    }

    @Test func unattachedDevicesAreNamed() throws {
        let outcome = try Harness.run(["--mem=32", try Harness.guest("blockdecl")])
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("solo5-hvt: Device 'storage' of type BLOCK_BASIC declared but not attached.\n"))
        #expect(outcome.stderr.hasSuffix("solo5-hvt: All declared devices must be attached. See --help for syntax.\n"))
    }

    @Test func sigtermEndsTheTender() throws {
        try Harness.requireKVM()
        for signal in [SIGTERM, SIGINT] {
            let running = try Harness.Running(["--mem=32", try Harness.guest("sleep"), "20000"], tender: "solo5-hvt")
            // Boot takes milliseconds; by then the guest sleeps in POLL.
            usleep(500_000)
            kill(running.pid, signal)
            let outcome = running.wait(timeout: 10)
            #expect(outcome.status == 1 && !outcome.signaled, "\(outcome)")
            #expect(outcome.stderr == "solo5-hvt: Exiting on signal \(signal)\n")
        }
    }
}
