#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// One virtual CPU and its shared `struct kvm_run` page.
public struct VCPU {
    public let fd: FileDescriptor
    /// The kvm_run area, mapped once; read after each KVM_RUN returns.
    let runState: UnsafeMutablePointer<kvm_run>

    init(fd: FileDescriptor, mmapSize: Int) throws(TenderError) {
        guard mmapSize >= MemoryLayout<kvm_run>.size else {
            throw TenderError("KVM: invalid VCPU_MMAP_SIZE: \(mmapSize)")
        }
        guard let area = mmap(nil, mmapSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd.rawValue, 0),
              area != MAP_FAILED else {
            throw .system("KVM: VCPU mmap failed")
        }
        self.fd = fd
        self.runState = area.assumingMemoryBound(to: kvm_run.self)
    }

    public func setCPUID(_ table: CPUIDTable) -> Result<Void, Errno> {
        kvmIoctl(fd, CKVM_SET_CPUID2, table.raw).map { _ in }
    }

    public func getSpecialRegisters() -> Result<kvm_sregs, Errno> {
        var sregs = kvm_sregs()
        return kvmIoctl(fd, CKVM_GET_SREGS, &sregs).map { _ in sregs }
    }

    public func setSpecialRegisters(_ sregs: kvm_sregs) -> Result<Void, Errno> {
        var sregs = sregs
        return kvmIoctl(fd, CKVM_SET_SREGS, &sregs).map { _ in }
    }

    public func getRegisters() -> Result<kvm_regs, Errno> {
        var regs = kvm_regs()
        return kvmIoctl(fd, CKVM_GET_REGS, &regs).map { _ in regs }
    }

    public func setRegisters(_ regs: kvm_regs) -> Result<Void, Errno> {
        var regs = regs
        return kvmIoctl(fd, CKVM_SET_REGS, &regs).map { _ in }
    }

    public func setFPU(_ fpu: kvm_fpu) -> Result<Void, Errno> {
        var fpu = fpu
        return kvmIoctl(fd, CKVM_SET_FPU, &fpu).map { _ in }
    }

    /// KVM_SET_GUEST_DEBUG: `control` is KVM_GUESTDBG_* bits; `debugRegisters`
    /// DR0-DR3, DR6 (unused) and DR7 for hardware breakpoints and watchpoints.
    public func setGuestDebug(control: UInt32, debugRegisters: [UInt64] = []) -> Result<Void, Errno> {
        var request = kvm_guest_debug()
        request.control = control
        withUnsafeMutableBytes(of: &request.arch.debugreg) { words in
            for (index, value) in debugRegisters.prefix(8).enumerated() {
                words.storeBytes(of: value, toByteOffset: index * 8, as: UInt64.self)
            }
        }
        return kvmIoctl(fd, CKVM_SET_GUEST_DEBUG, &request).map { _ in }
    }

    /// The vCPU's TSC frequency in kHz.
    public func tscKHz() -> Result<Int32, Errno> { kvmIoctl(fd, CKVM_GET_TSC_KHZ, nil) }

    /// Enters the guest until the next exit, and says why it exited. EINTR
    /// is returned as a value: the caller decides whether to retry.
    @inline(__always)
    public func run() -> Result<VcpuExit, Errno> {
        ckvm_ioctl(fd.rawValue, CKVM_RUN, nil) < 0 ? .failure(.current) : .success(VcpuExit(decoding: runState))
    }

    /// The guest's instruction pointer, for fault reports.
    public func instructionPointer() -> String {
        switch getRegisters() {
        case .success(let regs): return hex(regs.rip)
        case .failure: return "(unknown)"
        }
    }
}
