import CLibELF

/// Where and how each PT_LOAD segment goes into guest memory, validated
/// against the memory size before a byte is copied.
public struct LoadPlan: Equatable {
    public struct Segment: Equatable {
        /// Its program header's index.
        public var index: Int
        public var address: UInt64      // p_vaddr
        public var fileOffset: UInt64   // p_offset
        public var fileSize: UInt64
        /// Page-aligned range the protection applies to.
        public var protectStart: UInt64
        public var protectEnd: UInt64
        public var readable, writable, executable: Bool
    }

    public var entry: UInt64
    /// First address past the highest segment (hvt_boot_info.kernel_end).
    public var end: UInt64
    public var segments: [Segment]

    static let pageSize: UInt64 = 0x1000

    /// What the segments allow a guest to hand us: segments with no
    /// permission at all are no-access, the others without write are
    /// read-only (the host maps them so).
    public var accessMap: GuestAccessMap {
        let noAccess = segments.filter { !$0.readable && !$0.writable && !$0.executable }
        let readOnly = segments.filter { !$0.writable && ($0.readable || $0.executable) }
        return GuestAccessMap(noAccess: noAccess.map { $0.protectStart..<$0.protectEnd },
                              readOnly: readOnly.map { $0.protectStart..<$0.protectEnd })
    }

    /// Validates the program headers as the reference tender does: segments
    /// at or above `minimumBase`, sorted, not overlapping, inside
    /// `memorySize`, p_filesz <= p_memsz, page aligned, never W+X, and the
    /// entry point inside guest memory above `minimumBase`. PT_LOADs with
    /// no file content are skipped for ABI version 2, as its reference
    /// tenders do (fresh guest memory is already zero), and loaded like the
    /// others for version 1, as the 0.7 tenders did.
    public static func make(for elf: ElfFile, abi: ABIVersion, memorySize: UInt64,
                            minimumBase: UInt64) throws(TenderError) -> LoadPlan {
        try make(entry: elf.header.e_entry, programHeaders: elf.programHeaders, name: elf.name, abi: abi,
                 memorySize: memorySize, minimumBase: minimumBase)
    }

    public static func make(entry: UInt64, programHeaders: [Elf64_Phdr], name: String, abi: ABIVersion = .v2,
                            memorySize: UInt64, minimumBase: UInt64) throws(TenderError) -> LoadPlan {
        func invalid(_ why: String) -> TenderError { TenderError("\(name): invalid executable: \(why)") }

        guard entry >= minimumBase, entry < memorySize else {
            throw invalid("e_entry does not fall within the memory allocation range (\(entry) < \(minimumBase) || \(entry) >= \(memorySize))")
        }
        var end: UInt64 = 0
        var lastAddress: UInt64 = 0
        var segments: [Segment] = []
        var entryIsExecutable = false

        for (i, phdr) in programHeaders.enumerated() where phdr.p_type == UInt32(PT_LOAD) && (phdr.p_filesz != 0 || abi.loadsEmptySegments) {
            let address = phdr.p_vaddr, fileSize = phdr.p_filesz, memSize = phdr.p_memsz, align = phdr.p_align
            guard address >= minimumBase else {
                throw invalid("phdr[\(i)].p_vaddr outside of valid memory range (\(address) < \(minimumBase))")
            }
            guard address >= lastAddress else {
                throw invalid("phdr[\(i)].p_vaddr is not in ascending order (\(address) < \(lastAddress))")
            }
            lastAddress = address
            guard align > 0, align & (align - 1) == 0 else {
                throw invalid("phdr[\(i)].p_vaddr is outside of memory range (align_down with \(address) (p_vaddr) and \(align) (p_align) failed)")
            }
            let start = address & ~(align - 1)
            guard start >= minimumBase else {
                throw invalid("phdr[\(i)].p_vaddr_start is outside of memory range (\(start) < \(minimumBase) (p_min_loadaddr))")
            }
            guard start >= end else {
                throw invalid("phdr[\(i)].p_vaddr_start is outside of memory range (\(start) < \(end) (e_end))")
            }
            guard address < memorySize else {
                throw invalid("phdr[\(i)] program file segment falls outside of valid range (\(address) >= \(memorySize) (mem_size))")
            }
            let (fileEnd, fileOverflow) = address.addingReportingOverflow(fileSize)
            guard !fileOverflow else {
                throw invalid("phdr[\(i)] program file segment falls outside of valid range (\(address) (p_vaddr) + \(fileSize) (p_filesz) overflow)")
            }
            guard fileEnd <= memorySize else {
                throw invalid("phdr[\(i)] program file segment falls outside of valid range (\(fileEnd) (p_vaddr + p_filesz) > \(memorySize) (mem_size))")
            }
            guard memSize >= fileSize else {
                throw invalid("phdr[\(i)] program memory segment falls outside of valid range (\(memSize) (p_memsz) < \(fileSize) (p_filesz))")
            }
            let (memEnd, memOverflow) = address.addingReportingOverflow(memSize)
            let (alignedEndSum, alignOverflow) = memEnd.addingReportingOverflow(align - 1)
            guard !memOverflow, !alignOverflow else {
                throw invalid("phdr[\(i)] program memory segment falls outside of valid range (\(address) (p_vaddr) + \(memSize) (p_memsz) overflow)")
            }
            let alignedEnd = alignedEndSum & ~(align - 1)
            guard alignedEnd <= memorySize else {
                throw invalid("phdr[\(i)] program memory segment falls outside of valid range (\(alignedEnd) (p_vaddr + p_memsz) > \(memorySize) (mem_size))")
            }
            end = max(end, alignedEnd)
            guard start & (pageSize - 1) == 0 else {
                throw invalid("phdr[\(i)] p_vaddr_start not aligned with architectural page size (\(start) & (\(pageSize) - 1))")
            }
            guard alignedEnd & (pageSize - 1) == 0 else {
                throw invalid("phdr[\(i)] p_vaddr_end not aligned with architectural page size (\(alignedEnd) & (\(pageSize) - 1))")
            }
            let flags = phdr.p_flags
            let segment = Segment(index: i, address: address, fileOffset: phdr.p_offset, fileSize: fileSize,
                                  protectStart: start, protectEnd: alignedEnd,
                                  readable: flags & UInt32(PF_R) != 0, writable: flags & UInt32(PF_W) != 0,
                                  executable: flags & UInt32(PF_X) != 0)
            guard !(segment.writable && segment.executable) else {
                throw invalid("phdr[\(i)] requests WRITE and EXEC permissions")
            }
            if segment.executable, entry >= address, entry < memEnd { entryIsExecutable = true }
            segments.append(segment)
        }
        // Stricter than the reference: the entry point must be code we loaded.
        guard entryIsExecutable else {
            throw invalid("e_entry (\(hex(entry))) is not inside an executable segment")
        }
        return LoadPlan(entry: entry, end: end, segments: segments)
    }
}

extension LoadPlan {
    /// Copies each segment's file bytes from `elf` into `memory` and applies
    /// its protection. (Here, not in Memory/: guest memory knows nothing
    /// of ELF files.)
    public func load(from elf: ElfFile, into memory: GuestMemory) throws(TenderError) {
        for segment in segments {
            let copied: Result<Void, TenderError>? = elf.withBytes(at: segment.fileOffset, count: segment.fileSize) { bytes in
                Result { () throws(TenderError) in try memory.hostCopy(bytes, to: segment.address) }
            }
            switch copied {
            case nil where segment.fileSize != 0:
                // The reference's words (no "invalid executable" here), then what they mean.
                let read = elf.availableBytes(at: segment.fileOffset, count: segment.fileSize)
                throw TenderError("\(elf.name): phdr[\(segment.index)] host file segment mismatched "
                    + "(pread_in_full returned \(read) != \(segment.fileSize) (p_filesz)): the file ends inside the segment")
            case .failure(let error)?: throw error
            case nil, .success?: break
            }
            try memory.protect(segment.protectStart, count: segment.protectEnd - segment.protectStart,
                               readable: segment.readable, writable: segment.writable, executable: segment.executable)
        }
    }
}
