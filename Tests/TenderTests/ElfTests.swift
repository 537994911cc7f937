import Foundation
import HvtABI
import Testing
@testable import Tender

/// The ELF reader, notes and manifest, on crafted images (unit) and through
/// the real tender (integration, where the messages and exit code show).
@Suite("ELF and notes")
struct ElfTests {
    func parse(_ builder: ElfBuilder) throws(TenderError) -> ElfFile {
        try ElfFile.parse(bytes: builder.bytes(), name: "k")
    }

    func message(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch { return (error as? TenderError)?.message ?? "\(error)" }
    }

    @Test func validImage() throws {
        let elf = try parse(ElfBuilder())
        #expect(try elf.checkABI() == .v2)
        let manifest = try elf.manifest()
        #expect(manifest.entries.count == 1)
        let plan = try LoadPlan.make(for: elf, abi: .v2, memorySize: 32 << 20, minimumBase: 0x100000)
        #expect(plan.entry == 0x100000 && plan.end == 0x101000 && plan.segments.count == 1)
    }

    /// Each version with its own layout passes, and so does a version 1
    /// note over an image without TLS (the layouts agree there), and TLS
    /// sections inside a PT_TLS.
    @Test func layoutsOfBothVersions() throws {
        var v1 = ElfBuilder()
        v1.notes[0] = ElfBuilder.abiNote(version: 1)
        #expect(try parse(v1).checkABI() == .v1)
        v1.tlsSection = ".tdata"
        #expect(try parse(v1).checkABI() == .v1)
        var v2 = ElfBuilder()
        v2.tlsSection = ".tbss"
        v2.segments.append(ElfBuilder.Segment(type: 7, address: 0x101000, flags: 0, bytes: [], memorySize: 8, align: 8))
        #expect(try parse(v2).checkABI() == .v2)
    }

    @Test func realGuestParses() throws {
        let elf = try ElfFile.open(path: try Harness.guest("blockdecl"))
        #expect(try elf.checkABI() == .v2)
        let manifest = try elf.manifest()
        #expect(manifest.entries.map(\.name) == ["", "storage"])
        #expect(manifest.entries[1].type == .blockBasic)
        let plan = try LoadPlan.make(for: elf, abi: .v2, memorySize: 32 << 20, minimumBase: 0x100000)
        #expect(plan.segments.contains { $0.executable && !$0.writable })
    }

    @Test(arguments: [
        ("bad magic", { @Sendable (b: inout ElfBuilder) in b.ident[1] = 0x45 + 1 },
         "k: invalid executable: invalid or unsupported executable (elf header invalid while loading note): bad magic"),
        ("32-bit", { (b: inout ElfBuilder) in b.ident[4] = 1 }, "not ELFCLASS64"),
        ("big-endian", { (b: inout ElfBuilder) in b.ident[5] = 2 }, "not little-endian"),
        ("shared object", { (b: inout ElfBuilder) in b.type = 3 }, "not an executable"),
        ("i386", { (b: inout ElfBuilder) in b.machine = 3 }, "not for x86_64"),
        ("no ABI note", { (b: inout ElfBuilder) in b.notes.removeFirst() }, "k: No Solo5 ABI information found in executable"),
        ("foreign note name", { (b: inout ElfBuilder) in b.notes[0].name = Array("Solo6\0".utf8) }, "No Solo5 ABI information"),
        ("spt target", { (b: inout ElfBuilder) in b.notes[0] = ElfBuilder.abiNote(target: 2) }, "k: Executable is not for the solo5-hvt target"),
        ("ABI 0", { (b: inout ElfBuilder) in b.notes[0] = ElfBuilder.abiNote(version: 0) }, "k: Executable requests unsupported ABI version 0"),
        ("ABI 3", { (b: inout ElfBuilder) in b.notes[0] = ElfBuilder.abiNote(version: 3) }, "k: Executable requests unsupported ABI version 3"),
        ("spt ABI 1", { (b: inout ElfBuilder) in b.notes[0] = ElfBuilder.abiNote(target: 2, version: 1) }, "k: Executable is not for the solo5-hvt target"),
        ("huge v1 note", { (b: inout ElfBuilder) in b.notes[0] = ElfBuilder.abiNote(version: 1); b.notes[0].declaredSize = 33 },
         "phdr[1] note does not fall within valid size (33 < 1 || 33 > 32)"),
        ("short v1 note", { (b: inout ElfBuilder) in b.notes[0] = ElfBuilder.abiNote(version: 1); b.notes[0].descriptor.removeLast(4) },
         "k: invalid executable: ABI note does not fall within valid size (12 < 16)"),
        ("empty v1 note", { (b: inout ElfBuilder) in b.notes[0] = ElfBuilder.abiNote(version: 1); b.notes[0].descriptor = [] },
         "note does not fall within valid size (0 < 1 || 0 > 32)"),
        ("v1 note past segment", { (b: inout ElfBuilder) in b.notes[0] = ElfBuilder.abiNote(version: 1); b.notes[0].segmentSize = 30 },
         "phdr[1] note does not fall within valid size (30 < 36)"),
        ("v1 note, v2 layout", { (b: inout ElfBuilder) in
            b.notes[0] = ElfBuilder.abiNote(version: 1)
            b.segments.append(ElfBuilder.Segment(type: 7, address: 0x101000, flags: 0, bytes: [], memorySize: 8, align: 8))
        }, "k: invalid executable: ABI version 1 executable has a PT_TLS segment (phdr[1]), which only ABI version 2 (Solo5 0.8 or later) lays out"),
        ("v2 note, v1 layout", { (b: inout ElfBuilder) in b.tlsSection = ".tdata" },
         "k: invalid executable: ABI version 2 executable has TLS section .tdata but no PT_TLS segment, which is the ABI version 1 layout (Solo5 0.7 or earlier)"),
        ("huge ABI note", { (b: inout ElfBuilder) in b.notes[0].declaredSize = 0x10000 }, "note does not fall within valid size"),
        ("short ABI note", { (b: inout ElfBuilder) in b.notes[0].descriptor = [1, 0, 0, 0] }, "ABI note does not fall within valid size"),
        ("note past segment", { (b: inout ElfBuilder) in b.notes[0].segmentSize = 24 }, "note does not fall within valid size"),
        ("tiny note segment", { (b: inout ElfBuilder) in b.notes[0].segmentSize = 8 }, "p_filesz note does not fall within valid size"),
        ("no manifest", { (b: inout ElfBuilder) in b.notes.removeLast() }, "k: No Solo5 manifest found in executable"),
    ] as [(String, @Sendable (inout ElfBuilder) -> Void, String)])
    func rejectedImages(_ name: String, _ mutate: @Sendable (inout ElfBuilder) -> Void, _ expected: String) {
        var builder = ElfBuilder()
        mutate(&builder)
        let failure = message {
            let elf = try parse(builder)
            _ = try elf.checkABI()
            _ = try elf.manifest()
        }
        #expect(failure?.contains(expected) == true, "\(name): \(failure ?? "accepted")")
    }

    @Test(arguments: [
        ("version 2", ElfBuilder.manifestNote(version: 2), "version 2"),
        ("count mismatch", ElfBuilder.manifestNote(count: 2), "does not match"),
        ("65 entries", ElfBuilder.manifestNote(count: 65), "at most 64"),
        ("no reserved first", ElfBuilder.manifestNote([ElfBuilder.manifestEntry(name: "x", type: 1)]), "entry 0"),
        ("unterminated name", ElfBuilder.manifestNote([ElfBuilder.manifestEntry(name: "", type: MFT_RESERVED_FIRST.rawValue),
            ElfBuilder.manifestEntry(name: "", type: 1, nameBytes: [UInt8](repeating: 0x41, count: 68))]), "not NUL-terminated"),
        ("unknown type", ElfBuilder.manifestNote([ElfBuilder.manifestEntry(name: "", type: MFT_RESERVED_FIRST.rawValue),
            ElfBuilder.manifestEntry(name: "x", type: 7)]), "unknown device type 7"),
        ("attached", ElfBuilder.manifestNote([ElfBuilder.manifestEntry(name: "", type: MFT_RESERVED_FIRST.rawValue),
            ElfBuilder.manifestEntry(name: "x", type: 2, attached: true)]), "marked as attached"),
    ] as [(String, ElfBuilder.Note, String)])
    func rejectedManifests(_ name: String, _ note: ElfBuilder.Note, _ reason: String) {
        var builder = ElfBuilder()
        builder.notes[1] = note
        let failure = message { _ = try parse(builder).manifest() }
        #expect(failure?.hasPrefix("k: Solo5 manifest is invalid") == true && failure?.contains(reason) == true,
                "\(name): \(failure ?? "accepted")")
    }

    @Test func manifestTooLargeForItsNote() {
        var builder = ElfBuilder()
        builder.notes[1] = ElfBuilder.manifestNote([ElfBuilder.manifestEntry(name: "", type: MFT_RESERVED_FIRST.rawValue)]
            + (1..<65).map { ElfBuilder.manifestEntry(name: "b\($0)", type: 1) })
        let failure = message { _ = try parse(builder).manifest() }
        #expect(failure?.contains("note does not fall within valid size") == true, "\(failure ?? "accepted")")
    }

    @Test func manifestRoundTrip() throws {
        let entries = [ElfBuilder.manifestEntry(name: "", type: MFT_RESERVED_FIRST.rawValue),
                       ElfBuilder.manifestEntry(name: "disk", type: 1), ElfBuilder.manifestEntry(name: "eth", type: 2)]
        let descriptor = Array(ElfBuilder.manifestNote(entries).descriptor.dropFirst(4))
        let manifest = try Manifest(descriptor: descriptor)
        #expect(manifest.index(of: "eth", type: .netBasic) == 2)
        #expect(manifest.index(of: "eth", type: .blockBasic) == nil)
        #expect(manifest.unattached.map(\.name) == ["disk", "eth"])
        manifest.attach(1, properties: .block(capacity: 4096, blockSize: 512))
        #expect(manifest.unattached.map(\.name) == ["eth"])
        let encoded = manifest.encoded()
        #expect(encoded.count == descriptor.count)
        // The guest's copy says attached, with the properties, and nothing else changed.
        var expected = descriptor
        expected[8 + 104 + 96] = 1
        expected.replaceSubrange((8 + 104 + 72)..<(8 + 104 + 82), with: le(UInt64(4096)) + le(UInt16(512)))
        #expect(encoded == expected)
    }

    /// The same checks reach the user as one line and exit status 1.
    @Test(arguments: [
        ({ @Sendable (b: inout ElfBuilder) in b.notes[0] = ElfBuilder.abiNote(version: 3) }, "Executable requests unsupported ABI version 3"),
        ({ @Sendable (b: inout ElfBuilder) in
            b.notes[0] = ElfBuilder.abiNote(version: 1)
            b.segments.append(ElfBuilder.Segment(type: 7, address: 0x101000, flags: 0, bytes: [], memorySize: 8, align: 8))
        }, "ABI version 1 executable has a PT_TLS segment"),
        ({ @Sendable (b: inout ElfBuilder) in b.tlsSection = ".tbss" }, "ABI version 2 executable has TLS section .tbss but no PT_TLS segment"),
        ({ (b: inout ElfBuilder) in b.notes[0].declaredSize = 0x10000 }, "note does not fall within valid size"),
        ({ (b: inout ElfBuilder) in b.notes[1] = ElfBuilder.manifestNote(count: 3) }, "Solo5 manifest is invalid"),
        ({ (b: inout ElfBuilder) in b.segments[0].flags = 7 }, "phdr[0] requests WRITE and EXEC permissions"),
        ({ (b: inout ElfBuilder) in b.segments[0].address = 0x1000; b.entry = 0x1000 }, "e_entry does not fall within the memory allocation range"),
        ({ (b: inout ElfBuilder) in b.segments[0].memorySize = 1 << 40 }, "program memory segment falls outside of valid range"),
    ] as [(@Sendable (inout ElfBuilder) -> Void, String)])
    func tenderRejects(_ mutate: @Sendable (inout ElfBuilder) -> Void, _ expected: String) throws {
        try Harness.requireKVM()
        var builder = ElfBuilder()
        mutate(&builder)
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("bad.hvt")
        try Data(builder.bytes()).write(to: file)
        let outcome = try Harness.run(["--mem=32", file.path])
        #expect(outcome.status == 1 && !outcome.signaled)
        #expect(outcome.stderr.hasPrefix("solo5-hvt: \(file.path): "), "\(outcome)")
        #expect(outcome.stderr.contains(expected), "\(outcome)")
        #expect(outcome.stderr.split(separator: "\n").count == 1)
    }

    @Test func truncatedFilesAreRejected() throws {
        let full = try Array(Data(contentsOf: URL(fileURLWithPath: try Harness.guest("hello"))))
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // The guests carry debug information after their loadable
        // segments: cut inside the last PT_LOAD's bytes, not just anywhere.
        func word<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> Int {
            Int(full[offset..<offset + MemoryLayout<T>.size].reversed().reduce(T(0)) { $0 << 8 | T($1) })
        }
        let (phoff, phentsize, phnum) = (word(32, UInt64.self), word(54, UInt16.self), word(56, UInt16.self))
        let loadEnd = (0..<phnum).map { phoff + $0 * phentsize }.filter { word($0, UInt32.self) == 1 }
            .map { word($0 + 8, UInt64.self) + word($0 + 32, UInt64.self) }.max() ?? full.count
        for length in [0, 10, 63, 64, 200, loadEnd / 2, loadEnd - 1] {
            let file = dir.appendingPathComponent("cut-\(length).hvt")
            try Data(full.prefix(length)).write(to: file)
            let outcome = try Harness.run(["--mem=32", file.path])
            #expect(outcome.status == 1 && !outcome.signaled, "\(length): \(outcome)")
            // The reference's words for each cut: the header, the notes
            // or a segment read short.
            #expect(["invalid executable", "No Solo5", "bytes read mismatches note size", "host file segment mismatched"]
                .contains { outcome.stderr.contains($0) }, "\(length): \(outcome)")
        }
    }
}
