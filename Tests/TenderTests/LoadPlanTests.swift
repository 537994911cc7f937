import Foundation
import HvtABI
import Testing
@testable import Tender

@Suite("Load plan (unit)")
struct LoadPlanTests {
    func phdr(_ vaddr: UInt64, filesz: UInt64 = 0x100, memsz: UInt64? = nil, flags: UInt32 = 5, align: UInt64 = 0x1000) -> Elf64_Phdr {
        Elf64_Phdr(p_type: 1, p_flags: flags, p_offset: 0x1000, p_vaddr: vaddr, p_paddr: vaddr,
                   p_filesz: filesz, p_memsz: memsz ?? filesz, p_align: align)
    }

    func plan(_ phdrs: [Elf64_Phdr], entry: UInt64 = 0x100000, memory: UInt64 = 32 << 20,
              abi: ABIVersion = .v2) -> Result<LoadPlan, TenderError> {
        Result { () throws(TenderError) in
            try LoadPlan.make(entry: entry, programHeaders: phdrs, name: "k", abi: abi, memorySize: memory, minimumBase: 0x100000)
        }
    }

    func rejection(_ result: Result<LoadPlan, TenderError>) -> String {
        if case .failure(let error) = result { return error.message }
        return "accepted"
    }

    @Test func typicalLayout() throws {
        let result = try plan([phdr(0x100000, flags: 5), phdr(0x102000, flags: 4), phdr(0x103000, memsz: 0x2000, flags: 6),
                               phdr(0x200000, filesz: 0, memsz: 0x1000, flags: 6)]).get()
        #expect(result.segments.count == 3, "PT_LOADs without file bytes are not loaded")
        #expect(result.end == 0x105000)
        #expect(result.segments[0].executable && !result.segments[0].writable)
        #expect(result.segments[2].protectStart == 0x103000 && result.segments[2].protectEnd == 0x105000)
        #expect(result.accessMap == GuestAccessMap(noAccess: [], readOnly: [0x100000..<0x101000, 0x102000..<0x103000]))
    }

    /// ABI version 1: the 0.7 tenders loaded every PT_LOAD, so one with no
    /// file bytes is checked, protected and counted in kernel_end.
    @Test func version1LoadsEmptySegments() throws {
        let phdrs = [phdr(0x100000, flags: 5), phdr(0x103000, filesz: 0, memsz: 0x1800, flags: 6)]
        let v1 = try plan(phdrs, abi: .v1).get()
        #expect(v1.segments.count == 2 && v1.end == 0x105000)
        #expect(v1.segments[1].fileSize == 0 && v1.segments[1].writable)
        let v2 = try plan(phdrs, abi: .v2).get()
        #expect(v2.segments.count == 1 && v2.end == 0x101000)
        // An empty segment at address 0 is skipped by version 2 and refused by version 1.
        let stray = [phdr(0x100000, flags: 5), phdr(0, filesz: 0, memsz: 0, flags: 4)]
        #expect(rejection(plan(stray, abi: .v1)).contains("phdr[1].p_vaddr outside of valid memory range (0 < 1048576)"))
        #expect(try plan(stray, abi: .v2).get().segments.count == 1)
    }

    @Test(arguments: [
        ([Elf64_Phdr](), UInt64(0x100000), "not inside an executable segment"),
    ] as [([Elf64_Phdr], UInt64, String)])
    func emptyImage(_ phdrs: [Elf64_Phdr], _ entry: UInt64, _ expected: String) {
        #expect(rejection(plan(phdrs, entry: entry)).contains(expected))
    }

    @Test func rejections() {
        let cases: [([Elf64_Phdr], UInt64, String)] = [
            ([phdr(0xff000)], 0x100000, "p_vaddr outside of valid memory range"),
            ([phdr(0x102000), phdr(0x100000)], 0x102000, "is not in ascending order"),
            ([phdr(0x100000, filesz: 0x1800), phdr(0x101000, flags: 4)], 0x100000, "p_vaddr_start is outside of memory range"),
            ([phdr(0x100000, align: 0x3000)], 0x100000, "align_down"),
            ([phdr(0x100000, align: 0)], 0x100000, "align_down"),
            ([phdr(0x2000000)], 0x100000, "program file segment falls outside of valid range"),
            ([phdr(0x1ffff00, filesz: 0x200)], 0x1ffff00, "program file segment falls outside of valid range"),
            ([phdr(0x100000, filesz: UInt64.max - 0x10)], 0x100000, "overflow"),
            ([phdr(0x100000, filesz: 0x200, memsz: 0x100)], 0x100000, "(p_memsz) < 512 (p_filesz)"),
            ([phdr(0x100000, memsz: UInt64.max - 0x100000)], 0x100000, "overflow"),
            ([phdr(0x100000, memsz: 0x2000000)], 0x100000, "program memory segment falls outside of valid range"),
            ([phdr(0x100000, flags: 7)], 0x100000, "requests WRITE and EXEC permissions"),
            ([phdr(0x100000, align: 8)], 0x100000, "p_vaddr_end not aligned"),
            ([phdr(0x100000)], 0x0, "e_entry does not fall within the memory allocation range"),
            ([phdr(0x100000)], 0x2000000, "e_entry does not fall within the memory allocation range"),
            ([phdr(0x100000, flags: 5), phdr(0x101000, flags: 6)], 0x101000, "not inside an executable segment"),
        ]
        for (phdrs, entry, expected) in cases {
            let message = rejection(plan(phdrs, entry: entry))
            #expect(message.hasPrefix("k: invalid executable: ") && message.contains(expected), "\(expected) → \(message)")
        }
    }

    @Test func segmentPermissionsMakeTheAccessMap() throws {
        let result = try plan([phdr(0x100000), phdr(0x101000, flags: 0), phdr(0x102000, flags: 1)]).get()
        #expect(result.accessMap == GuestAccessMap(noAccess: [0x101000..<0x102000],
                                                   readOnly: [0x100000..<0x101000, 0x102000..<0x103000]))
        let map = X86Layout.accessMap(for: result)
        #expect(map.noAccess.contains(0..<0x10000) && map.readOnly.contains(0x10000..<0x100000))
    }
}
