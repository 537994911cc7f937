import Foundation
import Testing

/// The module API, through a tender with a test-only module.
@Suite("Module API (test-only module)")
struct ModuleAPITests {
    @Test func haltHookSeesStatus() throws {
        try Harness.requireKVM()
        let outcome = try Harness.run(["--mem=32", "--test:halt-message=bye", try Harness.guest("exitcode"), "7"],
                                      tender: "solo5-hvt-testmodule")
        #expect(outcome.status == 7)
        #expect(outcome.stderr.contains("test: halt status=7 cookie=none bye\n"), "\(outcome)")
    }

    @Test func hypercallClaimedTwiceIsAStartupError() throws {
        try Harness.requireKVM()
        let outcome = try Harness.run(["--mem=32", "--test:claim-puts", try Harness.guest("hello")],
                                      tender: "solo5-hvt-testmodule")
        #expect(outcome.status == 1)
        #expect(outcome.stderr == "solo5-hvt-testmodule: Hypercall 2 claimed by both `console' and `test'\n")
        #expect(outcome.stdout.isEmpty, "the guest never ran")
    }

    @Test func pollReportsModuleDescriptors() throws {
        try Harness.requireKVM()
        let outcome = try Harness.run(["--mem=32", "--test:ready", try Harness.guest("time")], tender: "solo5-hvt-testmodule")
        #expect(outcome.status == 1)
        #expect(outcome.stdout.contains("FAILURE: poll returned ready handles (1)"), "\(outcome)")
        #expect(outcome.stdout.contains("FAILURE: poll ready_set not empty (1)"))
    }

    @Test func moduleHypercallsGoThroughCheckedMemory() throws {
        try Harness.requireKVM()
        let outcome = try Harness.run(["--mem=32", try Harness.guest("hostile"), "net-write-oob"], tender: "solo5-hvt-testmodule")
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("Invalid guest access"), "\(outcome)")
    }

    @Test func unknownModuleOptionIsInvalid() throws {
        let outcome = try Harness.run(["--test:nope", try Harness.guest("hello")], tender: "solo5-hvt-testmodule")
        #expect(outcome.status == 1)
        #expect(outcome.stderr.hasPrefix("solo5-hvt-testmodule: Invalid option: `--test:nope'\n"))
    }
}
