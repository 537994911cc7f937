#if canImport(Glibc)
import Glibc
#endif
import CLinux
import HvtABI

/// Runs the vCPU and serves its exits until the guest halts. Nothing here
/// allocates per exit: the table, the decoded exit and the handlers all
/// exist before the first KVM_RUN.
struct RunLoop {
    let vcpu: VCPU
    let memory: GuestMemory
    let hypercalls: [Hypercall?]
    /// HALT's number in the guest's ABI.
    let haltNumber: Int
    let hooks: RunHooks
    /// Guest ranges the host maps with no access (segments without
    /// permissions), to diagnose emulation failures there.
    let noAccess: [Range<UInt64>]

    func run() throws(TenderError) -> Int32 {
        do {
            for hook in hooks.start { try hook() }
            while true {
                if let status = try serveNextExit() { return status }
            }
        } catch {
            // The run ends on an error the guest caused (or KVM reported):
            // modules may record the guest's state first (a core dump).
            for hook in hooks.fault { hook(error.message) }
            throw error
        }
    }

    /// Runs the guest to its next exit and serves it; the guest's exit
    /// status once it halts, else nil.
    @inline(__always)
    private func serveNextExit() throws(TenderError) -> Int32? {
        let exit: VcpuExit
        switch vcpu.run() {
        case .success(let decoded): exit = decoded
        case .failure(let code) where code == .interrupted: return nil
        case .failure(let code) where code == .badAddress:
            // The guest touched memory KVM could not map from the host,
            // e.g. a write to a segment loaded read-only.
            throw TenderError("KVM: host/guest translation fault: rip=\(vcpu.instructionPointer())")
        case .failure(let code): throw .system("KVM: ioctl (RUN) failed", errno: code)
        }

        switch exit {
        case .ioOut(let port, 4, let data?)
            where port >= Self.portBase && port < Self.portBase + UInt16(hypercalls.count):
            let number = Int(port - Self.portBase)
            let argument = GuestAddress(data)
            if number == haltNumber {
                return try Self.halt(argument, memory: memory, hooks: hooks)
            }
            guard let handler = hypercalls[number] else {
                throw TenderError("Invalid guest hypercall: num=\(number)")
            }
            try handler(argument)
            return nil

        case .ioOut(let port, _, _), .ioIn(let port, _):
            throw TenderError("Invalid guest port access: port=\(hex(port))")

        case .mmio(let address, _):
            // We emulate no devices, so an MMIO exit is an access to guest
            // memory that is unmapped or that KVM could not use as asked
            // (kvm_pvm reports writes to read-only memory this way). The
            // reference calls it an unhandled exit; so do we, then say what.
            throw unhandled(KVM_EXIT_MMIO, "host/guest translation fault: gpa=\(hex(address))")

        case .shutdown:
            throw unhandled(KVM_EXIT_SHUTDOWN, "guest triple fault")

        case .failEntry(let reason):
            throw TenderError("KVM: entry failure: hw_entry_failure_reason=\(hex(reason))")

        case .internalError(let suberror):
            // Where KVM emulates the guest (kvm_pvm), fetching code from
            // memory the host maps with no access fails as an emulation
            // error; real VMX/SVM reports the same fetch as EFAULT.
            // The reference's words, then what the error was.
            let internalError = "KVM: internal error exit: suberror=\(hex(suberror))"
            if suberror == UInt32(KVM_INTERNAL_ERROR_EMULATION), case .success(let regs) = vcpu.getRegisters(),
               regs.rip >= memory.size || noAccess.contains(where: { $0.contains(regs.rip) }) {
                throw TenderError("\(internalError) (host/guest translation fault: rip=\(hex(regs.rip)))")
            }
            throw TenderError(internalError)

        case .debug(let event) where hooks.debug != nil:
            try hooks.debug?(event)
            return nil

        case .debug:
            throw unhandled(KVM_EXIT_DEBUG)
        case .halt:
            throw unhandled(KVM_EXIT_HLT)
        case .unknown(let reason):
            throw unhandled(reason)
        }
    }

    /// An exit the reference does not serve, in its words; `what` it is
    /// after them, when we know.
    private func unhandled(_ reason: some BinaryInteger, _ what: String? = nil) -> TenderError {
        TenderError("KVM: unhandled exit: exit_reason=\(hex(reason)), rip=\(vcpu.instructionPointer())"
            + (what.map { " (\($0))" } ?? ""))
    }

    private static let portBase = UInt16(HVT_HYPERCALL_PIO_BASE)

    /// HVT_HYPERCALL_HALT: runs the halt hooks and yields the exit status.
    /// (Static, for the hypercall fuzz target.)
    static func halt(_ address: GuestAddress, memory: GuestMemory, hooks: RunHooks) throws(TenderError) -> Int32 {
        let call = try memory.load(hvt_hc_halt.self, at: address)
        var cookie: GuestAddress? = nil
        if call.cookie != 0 {
            _ = try memory.checkedOffset(call.cookie, count: UInt64(HVT_HALT_COOKIE_MAX), for: .read)
            cookie = call.cookie
        }
        for hook in hooks.halt { hook(call.exit_status, cookie) }
        return call.exit_status
    }
}
