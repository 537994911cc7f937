import Testing
@testable import Tender

@Suite("Options (unit)")
struct OptionsTests {
    @Test func firstPassFindsKernel() {
        #expect(Options.firstPass(["k"]) == .run(kernelIndex: 0))
        #expect(Options.firstPass(["--mem=2", "--block:x=y", "k", "--help"]) == .run(kernelIndex: 2))
        #expect(Options.firstPass(["--mem=2", "--", "-k"]) == .run(kernelIndex: 2))
        #expect(Options.firstPass(["--mem=2"]) == .missingKernel)
        #expect(Options.firstPass(["--"]) == .missingKernel)
        #expect(Options.firstPass([]) == .missingKernel)
        #expect(Options.firstPass(["--version", "k"]) == .version)
        #expect(Options.firstPass(["-x", "--help"]) == .help)
        #expect(Options.firstPass(["--", "--help"]) == .run(kernelIndex: 1))
    }

    @Test func optionsStopBeforeKernel() {
        #expect(Array(Options.options(["--mem=2", "--", "k", "a"], kernelIndex: 2)) == ["--mem=2"])
        #expect(Array(Options.options(["--mem=2", "k"], kernelIndex: 1)) == ["--mem=2"])
    }

    @Test func memory() throws {
        #expect(try Options.memory("--mem=1") == 1 << 20)
        #expect(try Options.memory("--mem=4096") == 4096 << 20)
        #expect(try Options.memory("--mem=4097") == 4097 << 20, "rounded down to 4096 later, as the reference does")
        for bad in ["--mem=", "--mem=0", "--mem=-5", "--mem=1.5", "--mem= 5", "--mem=١٢", "--mem=4098",
                    "--mem=18446744073709551616"] {
            #expect(throws: TenderError.self, "\(bad)") { try Options.memory(bad) }
        }
    }

    @Test func usageListsEveryModule() {
        let usage = Options.usage(program: "p", modules: [CoreModule.self])
        #expect(usage.hasPrefix("usage: p [ CORE OPTIONS ]"))
        #expect(usage.hasSuffix("Compiled-in modules: core \nCompiled-in module options:\n    (none)\n"))
    }
}
