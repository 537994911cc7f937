import HvtABI

extension X86Layout {
    /// The layout before Solo5 0.6 (`hvt_abi_v0.h`): the same GDT, one
    /// page directory of 2 MiB pages mapping everything read-write from
    /// address 0 (so at most 1 GiB, and no NX), the boot info at 0x5000 and
    /// the command line at 0x6000. The guest owns all of its low memory,
    /// page tables included; that reaches nothing outside guest memory (KVM
    /// maps only the guest's memory slot), and the tender reads none of it
    /// back.
    enum V0 {
        static let pageDirectory: UInt64 = 0x4000
        static let bootInfoBase = UInt64(HVT_V0_BOOT_INFO_BASE)
        static let commandLineBase = UInt64(HVT_V0_CMDLINE_BASE)
        static let maxMemorySize = UInt64(HVT_V0_MAX_MEM_SIZE)

        static func writePageTables(into memory: GuestMemory) throws(TenderError) {
            let table = pagePresent | pageWritable
            try memory.hostStore(pdptBase | table, at: pml4Base)
            try memory.hostStore(pageDirectory | table, at: pdptBase)
            var entry = pageDirectory
            var address: UInt64 = 0
            while address < memory.mappedSize {
                try memory.hostStore(address | table | pageLarge, at: entry)
                entry += 8
                address += largePageSize
            }
        }
    }

    /// Where the guest finds its boot info (%rdi at entry).
    static func bootInfoBase(for abi: ABIVersion) -> UInt64 {
        abi == .v0 ? V0.bootInfoBase : bootInfoBase
    }
}
