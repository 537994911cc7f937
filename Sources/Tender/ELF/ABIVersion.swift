import CLibELF

/// The hvt ABI versions this tender serves. Chosen once, from the ABI
/// note, before the guest runs; everything that differs between versions
/// asks this value, and nothing on the per-exit path does.
///
/// What differs between version 1 (Solo5 0.6.0 to 0.7.5) and version 2
/// (Solo5 0.8.0 onwards) is the executable's layout only: boot info,
/// hypercall numbers and argument structures, the manifest (MFT1 version
/// 1), the halt cookie and the memory layout are the same.
/// - Version 1 linker scripts put `.tdata`, `.tbss` and `.bss` in the one
///   read-write data PT_LOAD, with no PT_TLS; the 0.7 tenders loaded every
///   PT_LOAD, empty or not.
/// - Version 2 linker scripts give `.tdata` a read-only PT_LOAD of its own,
///   `.tbss` a PT_TLS and `.bss` a PT_LOAD with no file bytes; from 0.8 the
///   tenders skip PT_LOADs with p_filesz == 0.
public enum ABIVersion: UInt32, CaseIterable, Sendable {
    case v1 = 1
    case v2 = 2

    /// Whether a PT_LOAD with no file bytes is loaded (validated, counted in
    /// kernel_end and protected) or skipped.
    var loadsEmptySegments: Bool { self == .v1 }

    /// Rejects an executable whose layout belongs to the other version: a
    /// note that says version 1 over a PT_TLS (version 2's layout), or one
    /// that says version 2 over TLS sections outside any PT_TLS (version
    /// 1's). Executables without TLS look the same under both and pass.
    func checkLayout(of elf: ElfFile) throws(TenderError) {
        let tls = elf.programHeaders.firstIndex { $0.p_type == UInt32(PT_TLS) }
        switch self {
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
}
