import CLinux

/// Why KVM_RUN returned, decoded from the vCPU's `kvm_run` page. A plain
/// enum with trivial payloads: decoding an exit allocates nothing.
public enum VcpuExit {
    /// A guest `out` to `port` of `size` bytes; `data` holds them (zero
    /// extended) for a single access, nil for a string one (`rep outs`).
    case ioOut(port: UInt16, size: UInt8, data: UInt32?)
    /// A guest `in` from `port` of `size` bytes.
    case ioIn(port: UInt16, size: UInt8)
    /// An access to guest-physical `address` that no memory slot backs, or
    /// that KVM could not complete as asked.
    case mmio(address: UInt64, isWrite: Bool)
    /// The guest triple-faulted.
    case shutdown
    /// VM entry failed with a hardware reason.
    case failEntry(reason: UInt64)
    /// KVM itself could not go on (e.g. an instruction it cannot emulate).
    case internalError(suberror: UInt32)
    /// A debug exception the tender asked for (KVM_SET_GUEST_DEBUG): a
    /// single step, a breakpoint or a watchpoint; `exception` is the vector
    /// (1 for #DB, 3 for #BP).
    case debug(DebugEvent)
    /// `hlt` with no interrupt to wait for.
    case halt
    /// Any other exit reason.
    case unknown(reason: UInt32)

    /// Decodes the exit KVM wrote into `run`.
    @inline(__always)
    init(decoding run: UnsafeMutablePointer<kvm_run>) {
        switch run.pointee.exit_reason {
        case UInt32(KVM_EXIT_IO):
            let io = run.pointee.io
            guard io.direction == UInt8(KVM_EXIT_IO_OUT) else {
                self = .ioIn(port: io.port, size: io.size)
                return
            }
            // SAFETY: KVM places the data inside the kvm_run mapping, at
            // data_offset from its start; one access of `size` bytes.
            let bytes = UnsafeRawPointer(run) + Int(io.data_offset)
            let data: UInt32?
            switch (io.size, io.count) {
            case (1, 1): data = UInt32(bytes.load(as: UInt8.self))
            case (2, 1): data = UInt32(bytes.loadUnaligned(as: UInt16.self))
            case (4, 1): data = bytes.loadUnaligned(as: UInt32.self)
            default: data = nil
            }
            self = .ioOut(port: io.port, size: io.size, data: data)
        case UInt32(KVM_EXIT_MMIO):
            self = .mmio(address: run.pointee.mmio.phys_addr, isWrite: run.pointee.mmio.is_write != 0)
        case UInt32(KVM_EXIT_SHUTDOWN):
            self = .shutdown
        case UInt32(KVM_EXIT_FAIL_ENTRY):
            self = .failEntry(reason: run.pointee.fail_entry.hardware_entry_failure_reason)
        case UInt32(KVM_EXIT_INTERNAL_ERROR):
            self = .internalError(suberror: run.pointee.internal.suberror)
        case UInt32(KVM_EXIT_DEBUG):
            let arch = run.pointee.debug.arch
            self = .debug(DebugEvent(exception: arch.exception, pc: arch.pc, dr6: arch.dr6, dr7: arch.dr7))
        case UInt32(KVM_EXIT_HLT):
            self = .halt
        case let reason:
            self = .unknown(reason: reason)
        }
    }
}

/// A debug exit (KVM_EXIT_DEBUG): which exception, where, and the debug
/// status (DR6: which breakpoint hit, or single step) and control (DR7).
public struct DebugEvent: Equatable, Sendable {
    public var exception: UInt32
    public var pc: UInt64
    public var dr6: UInt64
    public var dr7: UInt64
}
