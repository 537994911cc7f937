import Foundation
import HvtABI
import Testing
@testable import Tender

/// Executables from before Solo5 0.6 (no notes): how they are recognised,
/// and the layout, options and boot info they are served.
@Suite("Pre-0.6 executables (ABI v0)")
struct PreNoteTests {
    /// An executable as Solo5 0.4's toolchain links one: text at 0x100000
    /// with the entry, rodata, data+bss, a PT_GNU_STACK, no notes.
    static func old() -> ElfBuilder {
        var b = ElfBuilder()
        b.notes = []
        b.segments = [
            ElfBuilder.Segment(address: 0x100000, flags: 5, bytes: [0xf4, 0xeb, 0xfd]),
            ElfBuilder.Segment(address: 0x101000, flags: 4, bytes: [1, 2, 3]),
            ElfBuilder.Segment(address: 0x102000, flags: 6, bytes: [4], memorySize: 0x3000),
            ElfBuilder.Segment(type: 0x6474_e551, address: 0, flags: 7, bytes: [], align: 16),
        ]
        return b
    }

    func abi(_ b: ElfBuilder) -> Result<ABIVersion, TenderError> {
        Result { () throws(TenderError) in try ElfFile.parse(bytes: b.bytes(), name: "k").checkABI() }
    }

    @Test func recognised() throws {
        #expect(try abi(Self.old()).get() == .v0)
        var entryInside = Self.old()
        entryInside.entry = 0x100002
        #expect(try abi(entryInside).get() == .v0)
        // A PT_TLS, as a unikernel's own linker script with TLS sections gives.
        var tls = Self.old()
        tls.segments.append(ElfBuilder.Segment(type: 7, address: 0x103000, flags: 4, bytes: [], memorySize: 8, align: 8))
        #expect(try abi(tls).get() == .v0)
    }

    /// Anything else without notes is what it was before: no ABI information.
    @Test(arguments: [
        ("a PT_INTERP", { @Sendable (b: inout ElfBuilder) in
            b.segments.append(ElfBuilder.Segment(type: 3, address: 0x100000, flags: 4, bytes: Array("/x\0".utf8), align: 1)) }),
        ("a PT_DYNAMIC", { (b: inout ElfBuilder) in b.segments.append(ElfBuilder.Segment(type: 2, address: 0x102000, flags: 6, bytes: [0], align: 8)) }),
        ("text at 0x200000", { (b: inout ElfBuilder) in b.segments[0].address = 0x200000; b.entry = 0x200000 }),
        ("text not executable", { (b: inout ElfBuilder) in b.segments[0].flags = 4 }),
        ("entry outside the text", { (b: inout ElfBuilder) in b.entry = 0x101000 }),
        ("only a manifest note", { (b: inout ElfBuilder) in b.notes = [ElfBuilder.manifestNote()] }),
        ("no PT_LOAD", { (b: inout ElfBuilder) in b.segments = [b.segments[3]] }),
    ] as [(String, @Sendable (inout ElfBuilder) -> Void)])
    func notRecognised(_ what: String, _ mutate: @Sendable (inout ElfBuilder) -> Void) {
        var b = Self.old()
        mutate(&b)
        guard case .failure(let error) = abi(b) else { Issue.record("\(what): taken for pre-0.6"); return }
        #expect(error.message == "k: No Solo5 ABI information found in executable", "\(what): \(error.message)")
    }

    @Test func loadPlanKeepsEmptySegments() throws {
        let elf = try ElfFile.parse(bytes: Self.old().bytes(), name: "k")
        let plan = try LoadPlan.make(for: elf, abi: .v0, memorySize: 32 << 20, minimumBase: 0x100000)
        #expect(plan.segments.count == 3 && plan.end == 0x105000)
    }

    @Test func optionSynonyms() {
        #expect(Options.v0Synonym("--disk=/tmp/d.img") == "--block:disk=/tmp/d.img")
        #expect(Options.v0Synonym("--block:storage=/tmp/d.img") == "--block:disk=/tmp/d.img")
        #expect(Options.v0Synonym("--net=tap0") == "--net:net=tap0")
        #expect(Options.v0Synonym("--net=@7") == "--net:net=@7")
        #expect(Options.v0Synonym("--net:service0=tap0") == "--net:net=tap0")
        #expect(Options.v0Synonym("--net-mac=02:00:00:00:00:01") == "--net-mac:net=02:00:00:00:00:01")
        #expect(Options.v0Synonym("--net-mac:service0=02:00:00:00:00:01") == "--net-mac:net=02:00:00:00:00:01")
        #expect(Options.v0Synonym("--block-sector-size:storage=4096") == "--block-sector-size:storage=4096")
        #expect(Options.v0Synonym("--diskx=a") == "--diskx=a")
    }

    @Test func memoryLimit() throws {
        try X86Layout.checkMemorySize(1024 << 20, abi: .v0)
        #expect(rejection { try X86Layout.checkMemorySize(1026 << 20, abi: .v0) }
                == "guest memory size 1075838976 bytes exceeds the max size 1073741824 bytes (--mem=1024 at most)")
        try X86Layout.checkMemorySize(1026 << 20, abi: .v2)
    }

    /// One page directory of read-write 2 MiB pages from address 0, and the
    /// boot info and command line where the old guests read them.
    @Test func pageTablesAndBootInfo() throws {
        let memory = try GuestMemory(size: 8 << 20, mappedSize: 8 << 20, accessMap: GuestAccessMap())
        try X86Layout.writeTables(into: memory, abi: .v0)
        #expect(try memory.load(UInt64.self, at: 0x2000) == 0x3003)
        #expect(try memory.load(UInt64.self, at: 0x3000) == 0x4003)
        #expect(try memory.load(UInt64.self, at: 0x3008) == 0)
        for i: UInt64 in 0..<4 {
            #expect(try memory.load(UInt64.self, at: 0x4000 + 8 * i) == i * 0x200000 | 0x83)
        }
        #expect(try memory.load(UInt64.self, at: 0x4020) == 0)
        try BootInfo.writeV0(into: memory, kernelEnd: 0x105000, cpuCycleFrequency: 123, commandLine: Array("a b\0".utf8))
        let info = try memory.load(hvt_v0_boot_info.self, at: 0x5000)
        #expect(info.mem_size == 8 << 20 && info.kernel_end == 0x105000 && info.cmdline == 0x6000 && info.tsc_freq == 123)
        #expect(try memory.load(UInt32.self, at: 0x6000) == UInt32(littleEndian: 0x0062_2061))
        #expect(X86Layout.bootInfoBase(for: .v0) == 0x5000 && X86Layout.bootInfoBase(for: .v1) == 0x10000)
    }

    /// The same numbers mean other calls before 0.6: only WALLTIME and PUTS
    /// keep theirs; HALT moves to 10 and the table grows to 11.
    @Test func hypercallNumbers() {
        #expect(ABIVersion.v0.hypercallNumber(for: HVT_HYPERCALL_PUTS) == 2)
        #expect(ABIVersion.v0.hypercallNumber(for: HVT_HYPERCALL_WALLTIME) == 1)
        #expect(ABIVersion.v0.hypercallNumber(for: HVT_HYPERCALL_POLL) == nil)
        #expect(ABIVersion.v0.hypercallNumber(for: HVT_HYPERCALL_BLOCK_WRITE) == nil)
        #expect(ABIVersion.v2.hypercallNumber(for: HVT_HYPERCALL_NET_READ) == 7)
        #expect(ABIVersion.v0.haltNumber == 10 && ABIVersion.v0.hypercallCount == 11)
        #expect(ABIVersion.v1.haltNumber == 8 && ABIVersion.v2.hypercallCount == 9)
    }

    /// The tender says how it runs such an executable, on one line.
    @Test func announced() throws {
        let outcome = try Harness.run(["--mem=32", try Harness.guest("v0_hello")])
        #expect(outcome.status == 0, "\(outcome)")
        let lines = outcome.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasSuffix("no Solo5 notes: a pre-0.6 (ukvm/hvt 0.2-0.4) executable, run with that ABI (boot info at 0x5000, hypercalls 1-10, one block device --disk=, one net device --net=)"), "\(outcome)")
    }
}
