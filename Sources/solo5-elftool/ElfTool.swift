import HvtABI
import Tender

/// solo5-elftool's commands: the ABI note and the manifest of an
/// executable, printed as the JSON Solo5's own solo5-elftool prints (same
/// keys, order, layout, type names, messages and exit codes), read through
/// the tender's own note readers.
enum ElfTool {
    /// What a run prints and its exit status.
    struct Result: Equatable {
        var status: Int32
        var standardOutput: String = ""
        var standardError: String = ""
    }

    /// Runs `solo5-elftool ARGUMENTS...` (`arguments` without argv[0]).
    /// --help and --version behave as the tender's: usage on stderr with
    /// status 1, the version on stderr with status 0.
    static func run(arguments: [String], program: String) -> Result {
        switch arguments.first {
        case "--help": return Result(status: 1, standardError: usage(program: program))
        case "--version": return Result(status: 0, standardError: "\(program) version \(TenderProgram.version)\n")
        default: break
        }
        let query: (ElfFile) throws(TenderError) -> String
        switch arguments.first {
        case "query-abi": query = abiJSON
        case "query-manifest": query = manifestJSON
        case let command?:
            return Result(status: 1, standardError: "\(program): Unknown command: `\(command)'\n" + usage(program: program))
        case nil: return Result(status: 1, standardError: usage(program: program))
        }
        guard arguments.count == 2 else { return Result(status: 1, standardError: usage(program: program)) }
        do throws(TenderError) {
            let elf = try ElfFile.open(path: arguments[1])
            defer { elf.close() }
            return Result(status: 0, standardOutput: try query(elf))
        } catch {
            return Result(status: 1, standardError: "\(program): \(error.message)\n")
        }
    }

    /// The usage text (stderr, exit status 1).
    static func usage(program: String) -> String {
        """
        usage: \(program) COMMAND BINARY
        \(program) version \(TenderProgram.version)

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
    static func abiJSON(_ elf: ElfFile) throws(TenderError) -> String {
        let info = try elf.abiInfo()
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
    static func manifestJSON(_ elf: ElfFile) throws(TenderError) -> String {
        let descriptor = try elf.manifestDescriptor()
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
