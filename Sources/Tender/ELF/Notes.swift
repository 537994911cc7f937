import CLibELF
import HvtABI

/// Reading Solo5-owned notes ("Solo5" name) out of an executable's PT_NOTE
/// segments. Each note sits alone in its own PT_NOTE, as Solo5's linker
/// scripts lay them out. The tender and solo5-elftool both read the ABI
/// and manifest notes through `abiInfo()` and `manifestDescriptor()`.
extension ElfFile {
    /// The descriptor of the Solo5 note of `type`, with the padding that
    /// aligns it to `alignment` removed; nil when the executable has none.
    public func solo5Note(type: UInt32, alignment: Int, maxSize: Int) throws(TenderError) -> [UInt8]? {
        let headerSize = UInt64(MemoryLayout<solo5_nhdr>.size)
        let minimumNoteSize = UInt64(MemoryLayout<Elf64_Nhdr>.size)
        func invalid(_ why: String) -> TenderError { TenderError("\(name): invalid executable: \(why)") }

        for (index, phdr) in programHeaders.enumerated() where phdr.p_type == UInt32(PT_NOTE) {
            if phdr.p_filesz < minimumNoteSize {
                throw invalid("phdr[\(index)].p_filesz note does not fall within valid size (\(phdr.p_filesz) < \(minimumNoteSize))")
            }
            if phdr.p_filesz < headerSize { continue }
            guard let nhdr = withBytes(at: phdr.p_offset, count: headerSize, { $0.loadUnaligned(as: solo5_nhdr.self) }) else {
                throw shortRead(index, at: phdr.p_offset, count: headerSize)
            }
            guard nhdr.n_namesz == UInt32(SOLO5_NOTE_NAME_SIZE), isSolo5Name(nhdr), nhdr.n_type == type else { continue }

            let descriptorSize = UInt64(nhdr.n_descsz)
            if descriptorSize < 1 || descriptorSize > UInt64(maxSize) {
                throw invalid("phdr[\(index)] note does not fall within valid size (\(descriptorSize) < 1 || \(descriptorSize) > \(maxSize))")
            }
            if phdr.p_filesz < headerSize + descriptorSize {
                throw invalid("phdr[\(index)] note does not fall within valid size (\(phdr.p_filesz) < \(headerSize + descriptorSize))")
            }
            let align = UInt64(alignment)
            let descriptorOffset = (headerSize + align - 1) & ~(align - 1)
            let padding = descriptorOffset - headerSize
            // Unsigned, as the reference computes it: a descriptor shorter
            // than the padding wraps around.
            let payloadSize = descriptorSize &- padding
            guard payloadSize > 0, payloadSize <= descriptorSize else {
                // The reference's words, "INV_EXE" and all (its macro, inside a string).
                throw TenderError("\(name): INV_EXE: phdr[\(index)] note does not fall within valid size "
                    + "(\(payloadSize) <= 0 || \(payloadSize) > \(descriptorSize))")
            }
            guard let payload = withBytes(at: phdr.p_offset + descriptorOffset, count: payloadSize, { Array($0) }) else {
                throw shortRead(index, at: phdr.p_offset + descriptorOffset, count: payloadSize)
            }
            return payload
        }
        return nil
    }

    /// A note the file ends inside of: the reference's words for the short
    /// read, then what they mean.
    private func shortRead(_ index: Int, at offset: UInt64, count: UInt64) -> TenderError {
        TenderError("\(name): phdr[\(index)] bytes read mismatches note size (\(availableBytes(at: offset, count: count)) != \(count)): "
            + "the file ends inside the note")
    }

    private func isSolo5Name(_ nhdr: solo5_nhdr) -> Bool {
        withUnsafeBytes(of: nhdr.n_name) { Array($0.prefix(Int(SOLO5_NOTE_NAME_SIZE))) } == Array("Solo5\0".utf8)
    }

    /// The ABI1 note's contents, any target and version; only its presence
    /// and size are checked.
    public func abiInfo() throws(TenderError) -> abi1_info {
        guard let note = try solo5Note(type: UInt32(ABI1_NOTE_TYPE), alignment: Int(ABI1_NOTE_ALIGN),
                                       maxSize: Int(ABI1_NOTE_MAX_SIZE)) else {
            throw TenderError("\(name): No Solo5 ABI information found in executable")
        }
        guard note.count >= MemoryLayout<abi1_info>.size else {
            throw TenderError("\(name): invalid executable: ABI note does not fall within valid size (\(note.count) < \(MemoryLayout<abi1_info>.size))")
        }
        return note.withUnsafeBytes { $0.loadUnaligned(as: abi1_info.self) }
    }

    /// Checks the ABI1 note (an hvt executable of an ABI version we serve,
    /// laid out as that version lays executables out) and returns the
    /// version; an executable with no notes at all laid out as Solo5
    /// 0.2-0.4 built them is `.v0`. Other versions get the reference's
    /// message.
    public func checkABI() throws(TenderError) -> ABIVersion {
        if !programHeaders.contains(where: { $0.p_type == UInt32(PT_NOTE) }), ABIVersion.isPre06Layout(self) {
            return .v0
        }
        let info = try abiInfo()
        guard info.abi_target == HVT_ABI_TARGET.rawValue else {
            throw TenderError("\(name): Executable is not for the solo5-hvt target")
        }
        guard let version = ABIVersion(note: info.abi_version) else {
            throw TenderError("\(name): Executable requests unsupported ABI version \(info.abi_version)")
        }
        try version.checkLayout(of: self)
        return version
    }

    /// The MFT1 note's descriptor (alignment padding removed), unvalidated.
    public func manifestDescriptor() throws(TenderError) -> [UInt8] {
        guard let descriptor = try solo5Note(type: UInt32(MFT1_NOTE_TYPE), alignment: Int(MFT1_NOTE_ALIGN),
                                             maxSize: Int(MFT1_NOTE_MAX_SIZE)) else {
            throw TenderError("\(name): No Solo5 manifest found in executable")
        }
        return descriptor
    }

    /// Reads and validates the MFT1 note.
    public func manifest() throws(TenderError) -> Manifest {
        let descriptor = try manifestDescriptor()
        do throws(ManifestError) {
            return try Manifest(descriptor: descriptor)
        } catch {
            throw TenderError("\(name): Solo5 manifest is invalid (\(error.reason))")
        }
    }
}
