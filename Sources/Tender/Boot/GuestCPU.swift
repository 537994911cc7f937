import CLinux

/// What the guest may learn of the host CPU (CPUID) and touch of it (MSRs),
/// beyond the reference, which passes KVM's whole supported CPUID table
/// and every MSR KVM emulates (Solo5 issues #610 and #611).
///
/// A unikernel runs in 64-bit mode on one vCPU with no devices but the
/// hypercalls: it needs the instruction-set features (SSE/AVX/XSAVE for
/// MirageOS/OCaml and our vector guests, TSC, NX, long mode) and its TLS
/// base, nothing to manage a hypervisor, enclaves, a PMU or tracing.
public enum GuestCPU {
    /// CPUID leaves the guest does not see at all.
    public static func isHidden(leaf function: UInt32) -> Bool {
        switch function {
        case 0x0000_000a: return true             // architectural PMU
        case 0x0000_0012: return true             // SGX
        case 0x0000_0014: return true             // Intel Processor Trace
        case 0x4000_0000...0x4fff_ffff: return true  // KVM's hypervisor leaves (signature, PV features)
        case 0x8000_000a: return true             // SVM
        case 0x8000_001f: return true             // SEV
        default: return false
        }
    }

    /// Feature bits cleared in the leaves the guest does see.
    /// Edits one entry of KVM's supported table; false drops it.
    public static func filter(_ entry: inout kvm_cpuid_entry2) -> Bool {
        switch (entry.function, entry.index) {
        case (let function, _) where isHidden(leaf: function):
            return false
        case (0x1, _):
            entry.ecx &= ~(1 << 5 | 1 << 6 | 1 << 15)  // VMX, SMX, PDCM (perf capabilities MSR)
        case (0x7, 0):
            entry.ebx &= ~(1 << 2 | 1 << 25)           // SGX, Intel PT
            entry.ecx &= ~(1 << 30)                    // SGX launch control
        case (0x8000_0001, _):
            entry.ecx &= ~(1 << 2)                     // SVM
        default:
            break
        }
        return true
    }

    /// The only MSRs the guest may read or write: its TLS and GS bases
    /// (Solo5 sets FS_BASE with WRMSR). Everything else raises #GP in the
    /// guest: SYSENTER/STAR, APIC base, PAT, EFER, TSC writes, VMX and SVM
    /// control, KVM's paravirtual clock and steal-time MSRs...
    public static let allowedMSRs = [
        MSRFilterRange(first: 0xc000_0100, count: 3, read: true, write: true),  // FS_BASE, GS_BASE, KERNEL_GS_BASE
    ]

    /// Whether the MSR filter is in force, and if not, why: a line for
    /// `--x-seccomp-dump`.
    public enum MSRPolicy: Sendable {
        case filtered
        case unavailable

        public var summary: String {
            switch self {
            case .filtered:
                return "guest MSRs: all denied (#GP) but FS_BASE, GS_BASE, KERNEL_GS_BASE (KVM_X86_SET_MSR_FILTER)\n"
            case .unavailable:
                return "guest MSRs: NOT filtered: this KVM lacks KVM_CAP_X86_MSR_FILTER\n"
            }
        }
    }
}
