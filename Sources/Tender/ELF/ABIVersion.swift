import CLibELF
import HvtABI

/// The hvt ABI versions this tender serves. Chosen once, from the ABI note
/// (or its absence), before the guest runs; everything that differs between
/// versions asks this value at setup, and nothing on the per-exit path does.
///
/// - `v0`: executables of Solo5 0.2 to 0.4 (ukvm, then hvt; IncludeOS's
///   port), which carry no Solo5 notes at all. Their boot info sits at
///   0x5000 with the command line at 0x6000, one page directory maps at
///   most 1 GiB, and hypercalls 1 to 10 serve one block and one net device
///   with structures of their own (`hvt_abi_v0.h`). Recognised by
///   `isPre06Layout`.
/// - `v1` (ABI note version 1, Solo5 0.6.0 to 0.7.5) and `v2` (0.8.0
///   onwards) differ in the executable's layout only: version 1 linker
///   scripts put `.tdata`, `.tbss` and `.bss` in the one read-write data
///   PT_LOAD with no PT_TLS, and the 0.7 tenders loaded every PT_LOAD;
///   version 2 gives `.tdata` a read-only PT_LOAD, `.tbss` a PT_TLS and
///   `.bss` a PT_LOAD with no file bytes, and its tenders skip PT_LOADs with
///   p_filesz == 0. Boot info, hypercalls, manifest (MFT1 version 1), halt
///   cookie and memory layout are the same.
public enum ABIVersion: CaseIterable, Sendable {
    case v0
    case v1
    case v2

    /// The version an ABI note names, if we serve it.
    init?(note version: UInt32) {
        switch version {
        case 1: self = .v1
        case 2: self = .v2
        default: return nil
        }
    }

    /// The version number an ABI note carries (none before 0.6).
    public var noteVersion: UInt32? {
        switch self {
        case .v0: nil
        case .v1: 1
        case .v2: 2
        }
    }

    /// How many hypercall numbers the ABI has (ports 0x500 + 0 ..< this).
    var hypercallCount: Int {
        Int(self == .v0 ? HVT_V0_HYPERCALL_MAX.rawValue : HVT_HYPERCALL_MAX.rawValue)
    }

    /// The number of HALT, which the run loop serves itself.
    var haltNumber: Int {
        Int(self == .v0 ? HVT_V0_HYPERCALL_HALT.rawValue : HVT_HYPERCALL_HALT.rawValue)
    }

    /// The number a version 1/2 hypercall has in this version, when it has
    /// the same structure there (before 0.6 only WALLTIME and PUTS do).
    func hypercallNumber(for call: hvt_hypercall) -> Int? {
        switch (self, call) {
        case (.v1, _), (.v2, _): Int(call.rawValue)
        case (.v0, HVT_HYPERCALL_WALLTIME): Int(HVT_V0_HYPERCALL_WALLTIME.rawValue)
        case (.v0, HVT_HYPERCALL_PUTS): Int(HVT_V0_HYPERCALL_PUTS.rawValue)
        case (.v0, _): nil
        }
    }

    /// The manifest of `elf`. Executables before 0.6 have none: they get
    /// `Manifest.v0Devices()`, and one line on stderr says how they are run.
    func manifest(of elf: ElfFile) throws(TenderError) -> Manifest {
        guard self == .v0 else { return try elf.manifest() }
        Diagnostics.warn("\(elf.name): no Solo5 notes: a pre-0.6 (ukvm/hvt 0.2-0.4) executable, run with that ABI (boot info at 0x5000, hypercalls 1-10, one block device --disk=, one net device --net=)")
        return Manifest.v0Devices()
    }

    /// Whether the manifest lists what the guest needs (so every device in
    /// it must be attached); before 0.6 devices are optional.
    var declaresDevices: Bool { self != .v0 }

    /// Whether a module may share a region with the guest (the net ring);
    /// not before 0.6.
    var hasSharedRegion: Bool { self != .v0 }

    /// `option` as the modules read it: before 0.6, the old device options
    /// and the modern ones name the single devices (`Options.v0Synonym`).
    func moduleOption(_ option: String) -> String {
        self == .v0 ? Options.v0Synonym(option) : option
    }

    /// Whether a PT_LOAD with no file bytes is loaded (validated, counted in
    /// kernel_end and protected) or skipped.
    var loadsEmptySegments: Bool { self != .v2 }

    /// Rejects an executable whose layout belongs to another version: a
    /// note that says version 1 over a PT_TLS (version 2's layout), or one
    /// that says version 2 over TLS sections outside any PT_TLS (version
    /// 1's). Executables without TLS look the same under both and pass.
    func checkLayout(of elf: ElfFile) throws(TenderError) {
        let tls = elf.programHeaders.firstIndex { $0.p_type == UInt32(PT_TLS) }
        switch self {
        case .v0:
            break
        case .v1:
            if let index = tls {
                throw TenderError("\(elf.name): invalid executable: ABI version 1 executable has a PT_TLS segment (phdr[\(index)]), which only ABI version 2 (Solo5 0.8 or later) lays out")
            }
        case .v2:
            if tls == nil, let section = elf.firstTLSSectionName() {
                throw TenderError("\(elf.name): invalid executable: ABI version 2 executable has TLS section \(section) but no PT_TLS segment, which is the ABI version 1 layout (Solo5 0.7 or earlier)")
            }
        }
    }

    /// Whether `elf`, which has no PT_NOTE at all, is laid out as Solo5
    /// 0.2-0.4 linked executables: nothing but PT_LOADs, GNU markers and a
    /// PT_TLS (which a unikernel's own linker script, IncludeOS's, may
    /// produce; the guest alone uses it) -- no PT_INTERP or PT_DYNAMIC,
    /// which 0.6.5+ executables or other programs have -- and the lowest
    /// PT_LOAD is executable code starting exactly at 0x100000 with the
    /// entry point in it. Every 0.6+ executable has PT_NOTEs (the ABI and
    /// manifest notes its toolchain always writes), so none is taken for an
    /// old one, broken or not.
    static func isPre06Layout(_ elf: ElfFile) -> Bool {
        let gnuMarkers: ClosedRange<UInt32> = 0x6474_e550...0x6474_e553  // EH_FRAME, STACK, RELRO, PROPERTY
        let allowed = [UInt32(PT_LOAD), UInt32(PT_NULL), UInt32(PT_TLS)]
        guard elf.programHeaders.allSatisfy({ allowed.contains($0.p_type) || gnuMarkers.contains($0.p_type) }),
              let first = elf.programHeaders.filter({ $0.p_type == UInt32(PT_LOAD) }).min(by: { $0.p_vaddr < $1.p_vaddr })
        else { return false }
        let entry = elf.header.e_entry
        return first.p_vaddr == UInt64(HVT_GUEST_MIN_BASE) && first.p_flags & UInt32(PF_X) != 0
            && entry >= first.p_vaddr && entry - first.p_vaddr < first.p_memsz
    }
}
