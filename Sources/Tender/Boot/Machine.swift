#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// A KVM virtual machine with its guest memory and one vCPU set up the way
/// an hvt guest expects to start.
final class Machine {
    let kvm: KVMSystem
    let vm: VirtualMachine
    let vcpu: VCPU
    let memory: GuestMemory
    /// TSC frequency in Hz, for hvt_boot_info.cpu_cycle_freq.
    private(set) var cpuCycleFrequency: UInt64 = 0
    /// Whether the guest's MSR accesses are filtered (GuestCPU).
    let msrPolicy: GuestCPU.MSRPolicy

    /// `guestSize` bytes of guest memory, mapped with `mappedSize` (larger
    /// when a region shared with the host sits above the guest's memory).
    init(guestSize: UInt64, mappedSize: UInt64, accessMap: GuestAccessMap) throws(TenderError) {
        kvm = try KVMSystem.open()
        let version = try kvm.apiVersion().orFail("GET_API_VERSION")
        guard version == KVMSystem.requiredAPIVersion else {
            throw TenderError("KVM: API version is \(version), solo5-hvt requires version \(KVMSystem.requiredAPIVersion)")
        }
        guard try kvm.checkExtension(KVM_CAP_USER_MEMORY).orFail("KVM_CHECK_EXTENSION") == 1 else {
            throw TenderError("KVM: host does not support KVM_CAP_USER_MEMORY")
        }
        vm = try kvm.createVM().orFail("CREATE_VM")
        if try vm.checkExtension(KVM_CAP_X86_MSR_FILTER).orFail("KVM_CHECK_EXTENSION") > 0 {
            try vm.denyMSRs(except: GuestCPU.allowedMSRs).orFail("KVM_X86_SET_MSR_FILTER")
            msrPolicy = .filtered
        } else {
            msrPolicy = .unavailable
        }
        memory = try GuestMemory(size: guestSize, mappedSize: mappedSize, accessMap: accessMap)
        try vm.setUserMemoryRegion(slot: 0, guestPhysicalAddress: 0, size: mappedSize,
                                   userspaceAddress: memory.userspaceAddress).orFail("SET_USER_MEMORY_REGION")
        let vcpuFD = try vm.createVCPU().orFail("CREATE_VCPU")
        vcpu = try VCPU(fd: vcpuFD, mmapSize: Int(try kvm.vcpuMmapSize().orFail("GET_VCPU_MMAP_SIZE")))
    }

    /// Page tables, GDT, CPUID, control registers, FPU and general registers:
    /// 64-bit long mode at `entry`, %rdi pointing at the boot info.
    func setUpVCPU(entry: UInt64, abi: ABIVersion) throws(TenderError) {
        try X86Layout.writeTables(into: memory, abi: abi)

        let cpuid = try kvm.supportedCPUID().orFail("GET_SUPPORTED_CPUID")
        defer { cpuid.deallocate() }
        cpuid.filter(GuestCPU.filter)
        try vcpu.setCPUID(cpuid).orFail("SET_CPUID2")

        var sregs = try vcpu.getSpecialRegisters().orFail("GET_SREGS")
        sregs.cr0 = X86Layout.cr0
        sregs.cr3 = X86Layout.pml4Base
        sregs.cr4 = X86Layout.cr4
        sregs.efer = X86Layout.efer
        sregs.cs = X86Layout.codeSegment
        let data = X86Layout.dataSegment
        (sregs.ss, sregs.ds, sregs.es, sregs.fs, sregs.gs) = (data, data, data, data, data)
        sregs.gdt = kvm_dtable(base: X86Layout.gdtBase, limit: 3 * 8 - 1, padding: (0, 0, 0))
        sregs.tr = X86Layout.taskSegment
        sregs.ldt = X86Layout.unusableSegment
        try vcpu.setSpecialRegisters(sregs).orFail("SET_SREGS")

        var fpu = kvm_fpu()
        fpu.fcw = X86Layout.fpuControlWord
        fpu.mxcsr = X86Layout.mxcsr
        try vcpu.setFPU(fpu).orFail("SET_FPU")

        guard try kvm.checkExtension(KVM_CAP_GET_TSC_KHZ).orFail("KVM_CHECK_EXTENSION") == 1 else {
            throw TenderError("KVM: host does not support KVM_CAP_GET_TSC_KHZ")
        }
        switch vcpu.tscKHz() {
        case .success(let khz): cpuCycleFrequency = UInt64(khz) * 1000
        case .failure(let code) where code.rawValue == EIO:
            throw TenderError("KVM: host TSC is unstable, cannot continue")
        case .failure(let code): throw .system("KVM: ioctl (KVM_GET_TSC_KHZ) failed", errno: code)
        }

        // The stack starts at the top of the guest's memory, below any shared
        // region. The SysV x86_64 ABI wants ((%rsp + 8) % 16) == 0 at function entry.
        var regs = kvm_regs()
        regs.rip = entry
        regs.rflags = X86Layout.rflags
        regs.rsp = memory.size - 8
        regs.rdi = X86Layout.bootInfoBase(for: abi)
        try vcpu.setRegisters(regs).orFail("SET_REGS")
    }

    /// Whether KVM can signal an eventfd on a guest port write
    /// (KVM_CAP_IOEVENTFD).
    var hasIoeventfd: Bool {
        if case .success(let supported) = kvm.checkExtension(KVM_CAP_IOEVENTFD) { return supported > 0 }
        return false
    }
}
