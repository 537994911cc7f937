import HvtABI
import Tender

/// The guest console: HVT_HYPERCALL_PUTS writes the guest's bytes to stdout.
public final class ConsoleModule: TenderModule {
    public static let name = "console"

    public init() {}

    public func setup(_ setup: ModuleSetup) throws(TenderError) {
        let memory = setup.memory
        try setup.registerHypercall(HVT_HYPERCALL_PUTS) { address throws(TenderError) in
            let call = try memory.load(hvt_hc_puts.self, at: address)
            let written = try memory.withBytes(at: call.data, count: call.len) { bytes in
                FileDescriptor.standardOutput.writeAll(bytes)
            }
            if case .failure(let code) = written {
                throw TenderError.system("Console: write to standard output failed", errno: code)
            }
        }
    }

    public func seccompRules() -> [SeccompRule] {
        [.on(.standardOutput, "write", reason: "PUTS writes the guest's console output")]
    }
}
