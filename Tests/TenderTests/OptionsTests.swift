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

    /// --mem as the reference's `sscanf("--mem=%zd")` reads it, shifted
    /// into bytes as a size_t: what it takes is taken (too large is
    /// refused later, after rounding), what it refuses is malformed.
    @Test func memory() throws {
        #expect(try Options.memory("--mem=1") == 1 << 20)
        #expect(try Options.memory("--mem=4096") == 4096 << 20)
        #expect(try Options.memory("--mem=4097") == 4097 << 20, "rounded down to 4096 later, as the reference does")
        #expect(try Options.memory("--mem=4098") == 4098 << 20, "refused later, after rounding, as the reference does")
        #expect(try Options.memory("--mem=12x") == 12 << 20)
        #expect(try Options.memory("--mem=1.5") == 1 << 20)
        #expect(try Options.memory("--mem= 5") == 5 << 20)
        #expect(try Options.memory("--mem=\t+7") == 7 << 20)
        #expect(try Options.memory("--mem=-1") == UInt64.max << 20, "a size_t: too large")
        #expect(try Options.memory("--mem=99999999999999999999") == UInt64(Int64.max) << 20, "strtol saturates")
        for bad in ["--mem=", "--mem=0", "--mem=-0", "--mem=x", "--mem=-", "--mem=+ 5", "--mem=0x10", "--mem=١٢",
                    "--mem=17592186044416" /* 2^44 MB: zero bytes */] {
            #expect(rejection { _ = try Options.memory(bad) }?.hasPrefix("Malformed argument to --mem") == true, "\(bad)")
        }
    }

    /// Numbers as sscanf stores them: strtol's or strtoul's value, truncated
    /// to the C integer (`%d`, `%hu`).
    @Test func scannedNumbers() throws {
        func read<T: FixedWidthInteger>(_ text: String, as type: T.Type) -> T? {
            ScannedNumber(Substring(text))?.read(as: type, in: text)
        }
        #expect(read("512", as: UInt16.self) == 512)
        #expect(read("66048", as: UInt16.self) == 512)
        #expect(read("-1", as: UInt16.self) == 65535)
        #expect(read("-65024", as: UInt16.self) == 512)
        #expect(read("99999999999999999999", as: UInt16.self) == 65535)
        #expect(read(" 12x", as: Int32.self) == 12)
        #expect(read("4294968296", as: Int32.self) == 1000)
        #expect(read("99999999999999999999", as: Int32.self) == -1)
        #expect(read("-99999999999999999999", as: Int32.self) == 0)
        #expect(read("-9223372036854775808", as: Int64.self) == .min)
        for none in ["", " ", "+", "-", "x1", "+-1", "\u{A0}1"] {
            #expect(read(none, as: Int64.self) == nil, "\(none)")
        }
    }

    @Test func usageListsEveryModule() {
        let usage = Options.usage(program: "p", modules: [CoreModule.self])
        #expect(usage.hasPrefix("usage: p [ CORE OPTIONS ]"))
        #expect(usage.hasSuffix("Compiled-in modules: core \nCompiled-in module options:\n    (none)\n"))
    }
}
