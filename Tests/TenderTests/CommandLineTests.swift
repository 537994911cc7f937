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

    @Test(arguments: ["", "abc", "0", "00", "-1", "-5", "12x", "1.5", " 5"])
    func malformedMemory(_ value: String) throws {
        let outcome = try Harness.run(["--mem=\(value)", try Harness.guest("hello")])
        #expect(outcome.status == 1)
        // The reference's first words, then what is expected.
        #expect(outcome.stderr == "solo5-hvt: Malformed argument to --mem: `\(value)' "
                + "(expected guest memory in MB, a whole number from 1 to 4096)\n", "\(outcome)")
    }

    /// Too large is said in MB, the unit of --mem, with the limit --help gives.
    @Test(arguments: ["4098", "8192", "99999999999999999999"])
    func memoryTooLarge(_ value: String) throws {
        let outcome = try Harness.run(["--mem=\(value)", try Harness.guest("hello")])
        #expect(outcome.status == 1)
        #expect(outcome.stderr == "solo5-hvt: guest memory size \(value) MB exceeds the max size 4096 MB\n", "\(outcome)")
        let help = try Harness.run(["--help"])
        #expect(help.stderr.contains("  [ --mem=512 ] (guest memory in MB, at most 4096)\n"))
    }

    @Test func memoryGivenTwice() throws {
        let outcome = try Harness.run(["--mem=32", "--mem=64", try Harness.guest("hello")])
        #expect(outcome.status == 1)
        #expect(outcome.stderr == "solo5-hvt: Option given twice: `--mem=32' and `--mem=64'\n", "\(outcome)")
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
