import HvtABI

/// Builds small x86_64 ELF executables byte by byte, so parser tests can
/// make exactly the malformed file they need.
struct ElfBuilder {
    struct Segment {
        var type: UInt32 = 1 // PT_LOAD
        var address: UInt64
        var flags: UInt32    // PF_X = 1, PF_W = 2, PF_R = 4
        var bytes: [UInt8]
        var memorySize: UInt64? = nil
        var align: UInt64 = 0x1000
        /// Overrides p_offset (to point past the file's end).
        var fileOffset: UInt64? = nil
    }

    struct Note {
        var type: UInt32
        var name: [UInt8] = Array("Solo5\0".utf8)
        var descriptor: [UInt8]
        /// Overrides n_descsz (to lie about the size).
        var declaredSize: UInt32? = nil
        /// Overrides the PT_NOTE's p_filesz.
        var segmentSize: UInt64? = nil
    }

    var ident: [UInt8] = [0x7f, 0x45, 0x4c, 0x46, 2 /* 64-bit */, 1 /* LE */, 1, 0] + [UInt8](repeating: 0, count: 8)
    var type: UInt16 = 2      // ET_EXEC
    var machine: UInt16 = 62  // EM_X86_64
    var entry: UInt64 = 0x100000
    var phentsize: UInt16 = 56
    var segments: [Segment] = [Segment(address: 0x100000, flags: 5, bytes: [0xf4, 0xeb, 0xfd])]
    var notes: [Note] = [ElfBuilder.abiNote(), ElfBuilder.manifestNote()]
    /// When set, a section header table with a section of this name marked
    /// SHF_TLS (and .shstrtab); otherwise no section headers.
    var tlsSection: String? = nil

    static func abiNote(target: UInt32 = 1, version: UInt32 = 2) -> Note {
        Note(type: UInt32(ABI1_NOTE_TYPE), descriptor: le(target) + le(version) + le(UInt32(0)) + le(UInt32(0)))
    }

    /// An MFT1 note: 4 bytes of alignment padding, the header, the entries.
    static func manifestNote(_ entries: [[UInt8]] = [manifestEntry(name: "", type: MFT_RESERVED_FIRST.rawValue)],
                             version: UInt32 = 1, count: UInt32? = nil) -> Note {
        Note(type: UInt32(MFT1_NOTE_TYPE),
             descriptor: [0, 0, 0, 0] + le(version) + le(count ?? UInt32(entries.count)) + entries.flatMap { $0 })
    }

    static func manifestEntry(name: String, type: UInt32, attached: Bool = false, nameBytes: [UInt8]? = nil) -> [UInt8] {
        var entry = [UInt8](repeating: 0, count: MemoryLayout<mft_entry>.size)
        for (i, byte) in (nameBytes ?? Array(name.utf8)).enumerated() { entry[i] = byte }
        entry.replaceSubrange(68..<72, with: le(type))
        entry[96] = attached ? 1 : 0
        return entry
    }

    func bytes() -> [UInt8] {
        let phnum = segments.count + notes.count
        var out = [UInt8](repeating: 0, count: 64 + 56 * phnum)
        var payloads: [[UInt8]] = []
        var headers: [(type: UInt32, flags: UInt32, vaddr: UInt64, filesz: UInt64, memsz: UInt64, align: UInt64,
                       offset: UInt64?)] = []
        for s in segments {
            payloads.append(s.bytes)
            headers.append((s.type, s.flags, s.address, UInt64(s.bytes.count), s.memorySize ?? UInt64(s.bytes.count), s.align,
                            s.fileOffset))
        }
        for n in notes {
            var note = le(UInt32(n.name.count)) + le(n.declaredSize ?? UInt32(n.descriptor.count)) + le(n.type)
            note += n.name + [UInt8](repeating: 0, count: (4 - n.name.count % 4) % 4)
            note += n.descriptor
            payloads.append(note)
            headers.append((4 /* PT_NOTE */, 4, 0, n.segmentSize ?? UInt64(note.count), 0, 4, nil))
        }
        // Header.
        out.replaceSubrange(0..<16, with: ident)
        put(&out, 16, le(type)); put(&out, 18, le(machine)); put(&out, 20, le(UInt32(1)))
        put(&out, 24, le(entry)); put(&out, 32, le(UInt64(64))); put(&out, 40, le(UInt64(0)))
        put(&out, 48, le(UInt32(0))); put(&out, 52, le(UInt16(64))); put(&out, 54, le(phentsize))
        put(&out, 56, le(UInt16(phnum))); put(&out, 58, le(UInt16(64))); put(&out, 60, le(UInt16(0)))
        put(&out, 62, le(UInt16(0)))
        // Payloads, each 8-aligned in the file, and their program headers.
        for (i, (payload, h)) in zip(payloads, headers).enumerated() {
            while out.count % 8 != 0 { out.append(0) }
            let offset = UInt64(out.count)
            out += payload
            let ph = 64 + 56 * i
            put(&out, ph, le(h.type)); put(&out, ph + 4, le(h.flags)); put(&out, ph + 8, le(h.offset ?? offset))
            put(&out, ph + 16, le(h.vaddr)); put(&out, ph + 24, le(h.vaddr)); put(&out, ph + 32, le(h.filesz))
            put(&out, ph + 40, le(h.memsz)); put(&out, ph + 48, le(h.align))
        }
        if let tlsSection {
            while out.count % 8 != 0 { out.append(0) }
            let strings = [0] + Array(".shstrtab\0".utf8) + Array(tlsSection.utf8) + [0]
            let stringsOffset = out.count
            out += strings
            while out.count % 8 != 0 { out.append(0) }
            let table = out.count
            out += [UInt8](repeating: 0, count: 64 * 3)
            // [1] .shstrtab (SHT_STRTAB), [2] the TLS section (SHT_PROGBITS, SHF_WRITE | SHF_ALLOC | SHF_TLS).
            put(&out, table + 64, le(UInt32(1))); put(&out, table + 64 + 4, le(UInt32(3)))
            put(&out, table + 64 + 24, le(UInt64(stringsOffset))); put(&out, table + 64 + 32, le(UInt64(strings.count)))
            put(&out, table + 128, le(UInt32(11))); put(&out, table + 128 + 4, le(UInt32(1)))
            put(&out, table + 128 + 8, le(UInt64(0x403)))
            put(&out, 40, le(UInt64(table))); put(&out, 58, le(UInt16(64)))
            put(&out, 60, le(UInt16(3))); put(&out, 62, le(UInt16(1)))
        }
        return out
    }

    private func put(_ out: inout [UInt8], _ at: Int, _ bytes: [UInt8]) {
        out.replaceSubrange(at..<(at + bytes.count), with: bytes)
    }
}

func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }
