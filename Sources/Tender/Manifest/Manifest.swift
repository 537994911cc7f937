import HvtABI

/// The application manifest (MFT1 note): the devices a unikernel declares.
/// Modules attach entries; the tender copies the result into guest memory.
public final class Manifest {
    public enum DeviceType: Equatable, CustomStringConvertible {
        case blockBasic, netBasic, reserved(UInt32)

        init?(raw: UInt32) {
            switch raw {
            case MFT_DEV_BLOCK_BASIC.rawValue: self = .blockBasic
            case MFT_DEV_NET_BASIC.rawValue: self = .netBasic
            case MFT_RESERVED_FIRST.rawValue...: self = .reserved(raw)
            default: return nil
            }
        }

        var raw: UInt32 {
            switch self {
            case .blockBasic: MFT_DEV_BLOCK_BASIC.rawValue
            case .netBasic: MFT_DEV_NET_BASIC.rawValue
            case .reserved(let raw): raw
            }
        }

        public var description: String {
            switch self {
            case .blockBasic: "BLOCK_BASIC"
            case .netBasic: "NET_BASIC"
            case .reserved(let raw): raw == MFT_RESERVED_FIRST.rawValue ? "RESERVED_FIRST" : "<undefined type>"
            }
        }
    }

    public struct Entry {
        public var name: String
        public var type: DeviceType
        /// The device's properties as the guest will see them (capacity and
        /// block size, or MAC and MTU), in the C union's layout.
        public var properties: mft_entry.__Unnamed_union_u
        public var attached: Bool
    }

    public private(set) var entries: [Entry]

    static let entrySize = MemoryLayout<mft_entry>.size
    static let headerSize = MemoryLayout<mft>.size

    /// Parses and validates an MFT1 descriptor (untrusted bytes).
    public init(descriptor bytes: [UInt8]) throws(ManifestError) {
        guard bytes.count >= Manifest.headerSize else { throw ManifestError("shorter than its header") }
        let header = bytes.withUnsafeBytes { $0.loadUnaligned(as: mft.self) }
        guard header.version == UInt32(MFT_VERSION) else { throw ManifestError("version \(header.version), expected \(MFT_VERSION)") }
        guard header.entries <= UInt32(MFT_MAX_ENTRIES) else {
            throw ManifestError("\(header.entries) entries, at most \(MFT_MAX_ENTRIES) allowed")
        }
        let count = Int(header.entries)
        guard bytes.count == Manifest.headerSize + count * Manifest.entrySize else {
            throw ManifestError("size \(bytes.count) does not match \(count) entries")
        }
        guard count >= 1 else { throw ManifestError("no entries") }

        var entries: [Entry] = []
        entries.reserveCapacity(count)
        for index in 0..<count {
            let raw = bytes.withUnsafeBytes {
                $0.loadUnaligned(fromByteOffset: Manifest.headerSize + index * Manifest.entrySize, as: mft_entry.self)
            }
            let nameBytes = withUnsafeBytes(of: raw.name) { Array($0) }
            guard nameBytes[Int(MFT_NAME_MAX)] == 0 else { throw ManifestError("entry \(index): name is not NUL-terminated") }
            guard let type = DeviceType(raw: raw.type.rawValue) else {
                throw ManifestError("entry \(index): unknown device type \(raw.type.rawValue)")
            }
            guard !raw.attached else { throw ManifestError("entry \(index): marked as attached") }
            let name = String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self)
            if index == 0 {
                guard type == .reserved(MFT_RESERVED_FIRST.rawValue), name.isEmpty else {
                    throw ManifestError("entry 0 is not the reserved first entry")
                }
            }
            entries.append(Entry(name: name, type: type, properties: raw.u, attached: false))
        }
        self.entries = entries
    }

    /// The index of the entry called `name` of `type`, if declared.
    public func index(of name: String, type: DeviceType) -> Int? {
        entries.firstIndex { $0.type == type && $0.name == name }
    }

    /// Marks entry `index` attached with the properties the guest will see.
    public func attach(_ index: Int, properties: mft_entry.__Unnamed_union_u) {
        entries[index].properties = properties
        entries[index].attached = true
    }

    /// Declared devices nobody attached (reserved entries don't count).
    public var unattached: [Entry] {
        entries.filter { entry in
            if case .reserved = entry.type { return false }
            return !entry.attached
        }
    }

    /// The manifest in its C layout, as copied into guest memory. Host-private
    /// fields (the backing descriptor) are left zero: the guest has no use
    /// for our file descriptor numbers.
    public func encoded() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Manifest.headerSize + entries.count * Manifest.entrySize)
        bytes.withUnsafeMutableBytes { out in
            out.storeBytes(of: mft(version: UInt32(MFT_VERSION), entries: UInt32(entries.count)), as: mft.self)
            for (index, entry) in entries.enumerated() {
                var raw = mft_entry()
                withUnsafeMutableBytes(of: &raw.name) { name in
                    for (i, byte) in entry.name.utf8.prefix(Int(MFT_NAME_MAX)).enumerated() { name[i] = byte }
                }
                raw.type = mft_type_t(rawValue: entry.type.raw)
                raw.u = entry.properties
                raw.attached = entry.attached
                out.storeBytes(of: raw, toByteOffset: Manifest.headerSize + index * Manifest.entrySize, as: mft_entry.self)
            }
        }
        return bytes
    }
}

/// Why a manifest was rejected.
public struct ManifestError: Error, Equatable {
    public var reason: String
    init(_ reason: String) { self.reason = reason }
}

extension ElfFile {
    /// Reads and validates the MFT1 note.
    public func manifest() throws(TenderError) -> Manifest {
        guard let descriptor = try solo5Note(type: UInt32(MFT1_NOTE_TYPE), alignment: Int(MFT1_NOTE_ALIGN),
                                             maxSize: Int(MFT1_NOTE_MAX_SIZE)) else {
            throw TenderError("\(name): No Solo5 manifest found in executable")
        }
        do throws(ManifestError) {
            return try Manifest(descriptor: descriptor)
        } catch {
            throw TenderError("\(name): Solo5 manifest is invalid (\(error.reason))")
        }
    }
}
