import HvtABI

/// solo5-elftool's query commands: the ABI note and the manifest of an
/// executable, printed as the JSON Solo5's own solo5-elftool prints (same
/// keys, order, layout, type names, messages and exit codes). Kept here,
/// free of I/O beyond opening the file, so that tests can run it in process.
public enum ElfTool {
    /// What a run prints and its exit status.
    public struct Result: Equatable {
        public var status: Int32
        public var standardOutput: String
        public var standardError: String
    }

    /// Runs `solo5-elftool ARGUMENTS...` (`arguments` without argv[0]).
    public static func run(arguments: [String], program: String = "solo5-elftool") -> Result {
        func fail(_ error: TenderError) -> Result { Result(status: 1, standardOutput: "", standardError: "\(program): \(error.message)\n") }
        guard arguments.count == 2 else { return Result(status: 1, standardOutput: "", standardError: usage(program: program)) }
        let query: (ElfFile) throws(TenderError) -> String
        switch arguments[0] {
        case "query-abi": query = abiJSON
        case "query-manifest": query = manifestJSON
        default: return Result(status: 1, standardOutput: "", standardError: usage(program: program))
        }
        do throws(TenderError) {
            let elf = try ElfFile.open(path: arguments[1])
            defer { elf.close() }
            return Result(status: 0, standardOutput: try query(elf), standardError: "")
        } catch {
            return fail(error)
        }
    }

    /// The usage text (stderr, exit status 1), also for --help.
    public static func usage(program: String) -> String {
        """
        usage: \(program) COMMAND BINARY
        \(program) version \(Tender.version)

        COMMAND is:
            query-abi BINARY:
                Print the ABI target and version of BINARY as JSON.
            query-manifest BINARY:
                Print the application manifest of BINARY as JSON.

        """
    }

    /// The ABI1 note as `{ "type": "solo5.abi", "target": ..., "version": ... }`.
    /// Any target is printed (by name, or "unknown"); nothing is checked
    /// beyond the note's presence and size.
    public static func abiJSON(_ elf: ElfFile) throws(TenderError) -> String {
        guard let note = try elf.solo5Note(type: UInt32(ABI1_NOTE_TYPE), alignment: Int(ABI1_NOTE_ALIGN),
                                           maxSize: Int(ABI1_NOTE_MAX_SIZE)) else {
            throw TenderError("\(elf.name): No Solo5 ABI information found in executable")
        }
        guard note.count >= MemoryLayout<abi1_info>.size else {
            throw TenderError("\(elf.name): invalid executable: ABI note does not fall within valid size (\(note.count) < \(MemoryLayout<abi1_info>.size))")
        }
        let info = note.withUnsafeBytes { $0.loadUnaligned(as: abi1_info.self) }
        return """
        {
          "type": "solo5.abi",
          "target": "\(targetName(info.abi_target))",
          "version": \(info.abi_version)
        }

        """
    }

    static func targetName(_ target: UInt32) -> String {
        switch target {
        case HVT_ABI_TARGET.rawValue: "hvt"
        case SPT_ABI_TARGET.rawValue: "spt"
        case VIRTIO_ABI_TARGET.rawValue: "virtio"
        case MUEN_ABI_TARGET.rawValue: "muen"
        case GENODE_ABI_TARGET.rawValue: "genode"
        case XEN_ABI_TARGET.rawValue: "xen"
        default: "unknown"
        }
    }

    /// The MFT1 note as `{ "type": "solo5.manifest", "version": 1, "devices": [...] }`,
    /// one device per line, reserved entries left out. Validation is Solo5's
    /// (`mft_validate`): undefined device types are printed as "<undefined type>".
    public static func manifestJSON(_ elf: ElfFile) throws(TenderError) -> String {
        guard let descriptor = try elf.solo5Note(type: UInt32(MFT1_NOTE_TYPE), alignment: Int(MFT1_NOTE_ALIGN),
                                                 maxSize: Int(MFT1_NOTE_MAX_SIZE)) else {
            throw TenderError("\(elf.name): No Solo5 manifest found in executable")
        }
        let manifest: Manifest
        do throws(ManifestError) {
            manifest = try Manifest(descriptor: descriptor, allowingUndefinedTypes: true)
        } catch {
            throw TenderError("\(elf.name): Manifest validation failed")
        }
        var text = "{\n  \"type\": \"solo5.manifest\",\n  \"version\": \(MFT_VERSION),\n  \"devices\": [\n"
        let last = manifest.entries.count - 1
        for (index, entry) in manifest.entries.enumerated() where entry.type.rawValue < MFT_RESERVED_FIRST.rawValue {
            // As the reference: the comma depends on the position in the
            // manifest, not among the printed entries.
            text += "    { \"name\": \"\(jsonEscaped(entry.name))\", \"type\": \"\(entry.type)\" }\(index == last ? "" : ",")\n"
        }
        return text + "  ]\n}\n"
    }

    /// `text` as the inside of a JSON string. Solo5 prints names unescaped;
    /// names its toolchain generates are alphanumeric, where both agree.
    static func jsonEscaped(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
