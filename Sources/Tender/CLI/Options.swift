import HvtABI

/// The command line, read in the reference's two passes: first find KERNEL
/// (stopping early for --help and --version), then, once the manifest is
/// known, hand every option before it to the core or a module.
struct Options {
    enum FirstPass: Equatable {
        case help
        case version
        case missingKernel
        case run(kernelIndex: Int)
    }

    /// Pass one over `arguments` (without argv[0]).
    static func firstPass(_ arguments: [String]) -> FirstPass {
        var i = 0
        while i < arguments.count, arguments[i].hasPrefix("-") {
            switch arguments[i] {
            case "--":
                i += 1
                return i < arguments.count ? .run(kernelIndex: i) : .missingKernel
            case "--help": return .help
            case "--version": return .version
            default: i += 1
            }
        }
        return i < arguments.count ? .run(kernelIndex: i) : .missingKernel
    }

    /// The options pass two looks at: everything before KERNEL except a
    /// closing "--".
    static func options(_ arguments: [String], kernelIndex: Int) -> ArraySlice<String> {
        let before = arguments[..<kernelIndex]
        return before.last == "--" ? before.dropLast() : before
    }

    static let defaultMemoryMiB: UInt64 = 512

    /// Prints the sealed seccomp policy (after module setup) instead of
    /// running the guest.
    static let seccompDump = "--x-seccomp-dump"

    /// The most `--mem` may ask for, in MiB.
    static let maxMemoryMiB = X86Layout.maxMemorySize >> 20

    /// `--mem=N`, N in MB, as the reference reads it (`sscanf("--mem=%zd")`,
    /// then shifted into bytes as a size_t): every number it takes runs here
    /// too (a negative one wraps into a size too large, as there); only a
    /// value that is no number, or comes to zero bytes, is malformed.
    static func memory(_ option: String) throws(TenderError) -> UInt64 {
        let value = option.dropFirst("--mem=".count)
        guard let number = ScannedNumber(value),
              case let bytes = UInt64(bitPattern: number.read(as: Int64.self, in: option)) << 20, bytes != 0 else {
            // The reference's words, then what it expects.
            throw TenderError("Malformed argument to --mem: `\(value)' "
                + "(expected guest memory in MB, a whole number from 1 to \(maxMemoryMiB))")
        }
        return bytes
    }

    static func usage(program: String, modules: [any TenderModule.Type]) -> String {
        var text = """
        usage: \(program) [ CORE OPTIONS ] [ MODULE OPTIONS ] [ -- ] KERNEL [ ARGS ]
        KERNEL is the filename of the unikernel to run.
        ARGS are optional arguments passed to the unikernel.
        Core options:
          [ --mem=\(defaultMemoryMiB) ] (guest memory in MB, at most \(maxMemoryMiB))
            --help (display this help)
            --version (display version information)
            \(seccompDump) (print the seccomp policy for KERNEL and exit)
        Compiled-in modules: 
        """
        for module in modules { text += "\(module.name) " }
        text += "\nCompiled-in module options:\n"
        let lines = modules.compactMap { $0.usage }
        text += lines.isEmpty ? "    (none)\n" : lines.map { "    \($0)\n" }.joined()
        return text
    }

    /// One line `ABI version N` for every version served: Albatross looks
    /// for the line with its unikernel's version.
    static func version(program: String) -> String {
        var text = "\(program) tender, version \(TenderProgram.version)\n"
        for case let version? in ABIVersion.allCases.map(\.noteVersion) { text += "ABI version \(version)\n" }
        return text
    }
}
