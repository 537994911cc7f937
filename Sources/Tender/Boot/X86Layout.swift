import CLinux

/// The x86_64 guest layout of an hvt guest: a fixed low-memory map, 64-bit
/// mode from the first instruction, identity-mapped with 2 MiB pages.
enum X86Layout {
    // Low memory map. Everything below bootInfoBase is invisible to the
    // guest; bootInfoBase up to HVT_GUEST_MIN_BASE is read-only to it.
    static let gdtBase: UInt64 = 0x1000
    static let pml4Base: UInt64 = 0x2000
    static let pdptBase: UInt64 = 0x3000
    static let pdBase: UInt64 = 0x4000       // four page directories
    static let pt0Base: UInt64 = 0x8000      // 4 KiB pages of the first 2 MiB
    static let bootInfoBase: UInt64 = 0x10000
    static let guestMinBase: UInt64 = 0x100000

    static let largePageSize: UInt64 = 0x200000
    /// Four page directories of 512 large pages: 4 GiB.
    static let maxMemorySize: UInt64 = 2048 * largePageSize

    static let pagePresent: UInt64 = 1 << 0
    static let pageWritable: UInt64 = 1 << 1
    static let pageLarge: UInt64 = 1 << 7

    static let cr0: UInt64 = 1 << 0 | 1 << 5 | 1 << 16 | 1 << 31  // PE, NE, WP, PG
    static let cr4: UInt64 = 1 << 5 | 1 << 9 | 1 << 10            // PAE, OSFXSR, OSXMMEXCPT
    static let efer: UInt64 = 1 << 8 | 1 << 10                     // LME, LMA
    static let rflags: UInt64 = 0x2                                 // bit 1 is reserved, set

    // Power-on FPU state (Intel SDM Vol. 1, 8.1.5 and 10.2.3).
    static let fpuControlWord: UInt16 = 0x37f
    static let mxcsr: UInt32 = 0x1f80

    /// GDT slots.
    static let codeSelector: UInt16 = 1
    static let dataSelector: UInt16 = 2

    static var codeSegment: kvm_segment {
        kvm_segment(base: 0, limit: 0xffff_ffff, selector: codeSelector * 8, type: 9 /* execute-only, accessed */,
                    present: 1, dpl: 0, db: 0, s: 1, l: 1, g: 1, avl: 0, unusable: 0, padding: 0)
    }

    static var dataSegment: kvm_segment {
        kvm_segment(base: 0, limit: 0xffff_ffff, selector: dataSelector * 8, type: 3 /* read-write, accessed */,
                    present: 1, dpl: 0, db: 1, s: 1, l: 0, g: 1, avl: 0, unusable: 0, padding: 0)
    }

    static var taskSegment: kvm_segment {
        kvm_segment(base: 0, limit: 0, selector: 0, type: 11 /* 64-bit TSS, busy */,
                    present: 1, dpl: 0, db: 0, s: 0, l: 0, g: 0, avl: 0, unusable: 0, padding: 0)
    }

    static var unusableSegment: kvm_segment {
        var segment = kvm_segment()
        segment.unusable = 1
        return segment
    }

    /// The GDT descriptor for a segment the vCPU also holds in its shadow
    /// registers (so the guest may reload it).
    static func descriptor(_ s: kvm_segment) -> UInt64 {
        let limit = s.g != 0 ? UInt64(s.limit >> 12) : UInt64(s.limit)
        var d: UInt64 = limit & 0xffff
        d |= (s.base & 0xff_ffff) << 16
        d |= UInt64(s.type & 0xf) << 40
        d |= UInt64(s.s) << 44 | UInt64(s.dpl & 3) << 45 | UInt64(s.present) << 47
        d |= ((limit >> 16) & 0xf) << 48
        d |= UInt64(s.avl) << 52 | UInt64(s.l) << 53 | UInt64(s.db) << 54 | UInt64(s.g) << 55
        d |= ((s.base >> 24) & 0xff) << 56
        return d
    }

    /// Rounds a requested size down to whole large pages (at least one), as
    /// the reference does; returns the size and whether it changed.
    static func guestMemorySize(requested: UInt64) -> (size: UInt64, adjusted: Bool) {
        var size = requested / largePageSize * largePageSize
        if size == 0 { size = largePageSize }
        return (size, size != requested)
    }

    /// Refuses a guest memory size (already rounded) above what `abi`'s
    /// page tables map: the reference's words, then the limit in MB, the
    /// unit of --mem.
    static func checkMemorySize(_ size: UInt64, abi: ABIVersion = .v2) throws(TenderError) {
        let maxSize = abi == .v0 ? V0.maxMemorySize : maxMemorySize
        guard size <= maxSize else {
            throw TenderError("guest memory size \(size) bytes exceeds the max size \(maxSize) bytes (--mem=\(maxSize >> 20) at most)")
        }
    }

    /// Where a region the host shares with the guest (the net ring) goes,
    /// sized as the reference does: the guest's size (already whole large
    /// pages) grows by the region rounded up to large pages, is rounded up
    /// again and capped at the maximum; the region takes the top of that
    /// and the guest keeps the rest (at least as much as the region, as the
    /// reference requires; with the ring's 2 MiB that always holds).
    static func reserving(_ regionSize: UInt64, above guestSize: UInt64)
        throws(TenderError) -> (mapped: UInt64, guest: UInt64, region: GuestAddress?) {
        guard regionSize > 0 else { return (guestSize, guestSize, nil) }
        func roundUp(_ size: UInt64) -> UInt64 {
            min((size + largePageSize - 1) / largePageSize * largePageSize, maxMemorySize)
        }
        let reserve = roundUp(regionSize)
        let mapped = roundUp(guestSize + reserve)
        guard mapped >= 2 * reserve else {
            throw TenderError("Not enough guest memory for a shared region of \(regionSize) bytes")
        }
        return (mapped, mapped - reserve, mapped - reserve)
    }

    /// What a guest may hand us to read or write: never the tender's tables
    /// below the boot info, only reads of the boot info area (read-only to
    /// the guest), and what the executable's segments allow.
    static func accessMap(for plan: LoadPlan, abi: ABIVersion = .v2) -> GuestAccessMap {
        var map = plan.accessMap
        guard abi != .v0 else { return map }  // all of low memory is a v0 guest's
        map.noAccess.append(0..<bootInfoBase)
        map.readOnly.append(bootInfoBase..<guestMinBase)
        return map
    }

    /// Writes the GDT and identity-mapping page tables into guest memory.
    static func writeTables(into memory: GuestMemory, abi: ABIVersion = .v2) throws(TenderError) {
        try memory.hostStore(UInt64(0), at: gdtBase)
        try memory.hostStore(descriptor(codeSegment), at: gdtBase + 8 * UInt64(codeSelector))
        try memory.hostStore(descriptor(dataSegment), at: gdtBase + 8 * UInt64(dataSelector))
        if abi == .v0 { return try V0.writePageTables(into: memory) }

        let table = pagePresent | pageWritable
        try memory.hostStore(pdptBase | table, at: pml4Base)
        for i: UInt64 in 0..<4 {
            try memory.hostStore((pdBase + i * 0x1000) | table, at: pdptBase + i * 8)
        }
        // The first 2 MiB in 4 KiB pages: nothing below the boot info, the
        // boot info area read-only, the rest writable.
        try memory.hostStore(pt0Base | table, at: pdBase)
        var address = bootInfoBase
        while address < largePageSize {
            let flags = address < guestMinBase ? pagePresent : table
            try memory.hostStore(address | flags, at: pt0Base + address / 0x1000 * 8)
            address += 0x1000
        }
        // Everything else in large pages, up to the end of guest memory.
        var entry = pdBase + 8
        address = largePageSize
        while address < memory.mappedSize {
            try memory.hostStore(address | table | pageLarge, at: entry)
            entry += 8
            address += largePageSize
        }
    }
}
