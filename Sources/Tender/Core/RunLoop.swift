#if canImport(Glibc)
import Glibc
#endif
import CLinux
import HvtABI

/// Runs the vCPU and serves its exits until the guest halts. Nothing here
/// allocates per exit: the table, the kvm_run page and the handlers all
/// exist before the first KVM_RUN.
struct RunLoop {
    let vcpu: VCPU
    let memory: GuestMemory
    let hypercalls: [Hypercall?]
    let haltHooks: [HaltHook]
    /// Guest ranges the host maps with no access (segments without
    /// permissions), to diagnose emulation failures there.
    let noAccess: [Range<UInt64>]

    func run() throws(TenderError) -> Int32 {
        let run = vcpu.runState
        let portBase = UInt16(HVT_HYPERCALL_PIO_BASE)
        let haltNumber = Int(HVT_HYPERCALL_HALT.rawValue)
        while true {
            switch vcpu.run() {
            case .success: break
            case .failure(let code) where code == .interrupted: continue
            case .failure(let code) where code == .badAddress:
                // The guest touched memory KVM could not map from the host,
                // e.g. a write to a segment loaded read-only.
                throw TenderError("KVM: host/guest translation fault: rip=\(vcpu.instructionPointer())")
            case .failure(let code): throw .system("KVM: ioctl (RUN) failed", errno: code)
            }

            switch run.pointee.exit_reason {
            case UInt32(KVM_EXIT_IO):
                let io = run.pointee.io
                guard io.direction == UInt8(KVM_EXIT_IO_OUT), io.size == 4,
                      io.port >= portBase, io.port < portBase + UInt16(hypercalls.count) else {
                    throw TenderError("Invalid guest port access: port=\(hex(io.port))")
                }
                let number = Int(io.port - portBase)
                let argument = GuestAddress(UnsafeRawPointer(run).load(fromByteOffset: Int(io.data_offset), as: UInt32.self))
                if number == haltNumber {
                    return try halt(argument)
                }
                guard let handler = hypercalls[number] else {
                    throw TenderError("Invalid guest hypercall: num=\(number)")
                }
                try handler(argument)

            case UInt32(KVM_EXIT_MMIO):
                // We emulate no devices, so an MMIO exit is an access to guest
                // memory that is unmapped or that KVM could not use as asked
                // (kvm_pvm reports writes to read-only memory this way).
                let address = run.pointee.mmio.phys_addr
                throw TenderError("KVM: host/guest translation fault: rip=\(vcpu.instructionPointer()), gpa=\(hex(address))")

            case UInt32(KVM_EXIT_SHUTDOWN):
                throw TenderError("KVM: guest triple fault (shutdown): rip=\(vcpu.instructionPointer())")

            case UInt32(KVM_EXIT_FAIL_ENTRY):
                throw TenderError("KVM: entry failure: hw_entry_failure_reason=\(hex(run.pointee.fail_entry.hardware_entry_failure_reason))")

            case UInt32(KVM_EXIT_INTERNAL_ERROR):
                let suberror = run.pointee.internal.suberror
                // Where KVM emulates the guest (kvm_pvm), fetching code from
                // memory the host maps with no access fails as an emulation
                // error; real VMX/SVM reports the same fetch as EFAULT.
                if suberror == UInt32(KVM_INTERNAL_ERROR_EMULATION), case .success(let regs) = vcpu.getRegisters(),
                   regs.rip >= memory.size || noAccess.contains(where: { $0.contains(regs.rip) }) {
                    throw TenderError("KVM: host/guest translation fault: rip=\(hex(regs.rip))")
                }
                throw TenderError("KVM: internal error exit: suberror=\(hex(suberror))")

            case let reason:
                throw TenderError("KVM: unhandled exit: exit_reason=\(hex(reason)), rip=\(vcpu.instructionPointer())")
            }
        }
    }

    /// HVT_HYPERCALL_HALT: runs the halt hooks and yields the exit status.
    private func halt(_ address: GuestAddress) throws(TenderError) -> Int32 {
        let call = try memory.load(hvt_hc_halt.self, at: address)
        var cookie: GuestAddress? = nil
        if call.cookie != 0 {
            _ = try memory.checkedOffset(call.cookie, count: UInt64(HVT_HALT_COOKIE_MAX), for: .read)
            cookie = call.cookie
        }
        for hook in haltHooks { hook(call.exit_status, cookie) }
        return call.exit_status
    }
}
