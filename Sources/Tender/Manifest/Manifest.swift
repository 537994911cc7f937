import HvtABI

/// The application manifest (MFT1 note): the devices a unikernel declares.
/// Modules attach entries; the tender copies the result into guest memory.
public final class Manifest {
    public enum DeviceType: Equatable, CustomStringConvertible {
        case blockBasic, netBasic, reserved(UInt32)
        /// A type below the reserved range that Solo5 does not define; only
        /// kept when parsing with `allowingUndefinedTypes` (solo5-elftool
        /// prints such entries, as the reference does).
        case undefined(UInt32)

        init?(rawValue: UInt32) {
            switch rawValue {
            case MFT_DEV_BLOCK_BASIC.rawValue: self = .blockBasic
            case MFT_DEV_NET_BASIC.rawValue: self = .netBasic
            case MFT_RESERVED_FIRST.rawValue...: self = .reserved(rawValue)
            default: return nil
            }
        }

        /// The `mft_type_t` value.
        public var rawValue: UInt32 {
            switch self {
            case .blockBasic: MFT_DEV_BLOCK_BASIC.rawValue
            case .netBasic: MFT_DEV_NET_BASIC.rawValue
            case .reserved(let value), .undefined(let value): value
            }
        }

        public var description: String {
            switch self {
            case .blockBasic: "BLOCK_BASIC"
            case .netBasic: "NET_BASIC"
            case .reserved(let value): value == MFT_RESERVED_FIRST.rawValue ? "RESERVED_FIRST" : "<undefined type>"
            case .undefined: "<undefined type>"
            }
        }
    }

    /// What the guest learns about an attached device.
    public enum Properties: Equatable {
        case none
        case block(capacity: UInt64, blockSize: UInt16)
        case net(mac: [UInt8], mtu: UInt16)
    }

    public struct Entry {
        public var name: String
        public var type: DeviceType
        public var properties: Properties
        public var attached: Bool
    }

    public private(set) var entries: [Entry]

    static let entrySize = MemoryLayout<mft_entry>.size
    static let headerSize = MemoryLayout<mft>.size

    /// Parses and validates an MFT1 descriptor (untrusted bytes). Unknown
    /// device types are rejected unless `allowingUndefinedTypes`, which
    /// validates only what Solo5's `mft_validate` does.
    public init(descriptor bytes: [UInt8], allowingUndefinedTypes: Bool = false) throws(ManifestError) {
        guard bytes.count >= Manifest.headerSize else { throw ManifestError("shorter than its header") }
        // SAFETY: at least headerSize bytes (checked above); mft is a trivial C struct.
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
            // SAFETY: the size check above puts every entry inside `bytes`.
            let stored = bytes.withUnsafeBytes {
                $0.loadUnaligned(fromByteOffset: Manifest.headerSize + index * Manifest.entrySize, as: mft_entry.self)
            }
            // SAFETY: copies the fixed-size name array, no more.
            let nameBytes = withUnsafeBytes(of: stored.name) { Array($0) }
            guard nameBytes[Int(MFT_NAME_MAX)] == 0 else { throw ManifestError("entry \(index): name is not NUL-terminated") }
            guard let type = DeviceType(rawValue: stored.type.rawValue)
                    ?? (allowingUndefinedTypes ? .undefined(stored.type.rawValue) : nil) else {
                throw ManifestError("entry \(index): unknown device type \(stored.type.rawValue)")
            }
            guard !stored.attached else { throw ManifestError("entry \(index): marked as attached") }
            let name = String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self)
            if index == 0 {
                guard type == .reserved(MFT_RESERVED_FIRST.rawValue), name.isEmpty else {
                    throw ManifestError("entry 0 is not the reserved first entry")
                }
            }
            entries.append(Entry(name: name, type: type, properties: .none, attached: false))
        }
        self.entries = entries
    }

    /// The index of the entry called `name` of `type`, if declared.
    public func index(of name: String, type: DeviceType) -> Int? {
        entries.firstIndex { $0.type == type && $0.name == name }
    }

    /// Marks entry `index` attached with the properties the guest will see.
    public func attach(_ index: Int, properties: Properties) {
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

    /// The manifest in its C layout, as copied into guest memory.
    public func encoded() -> [UInt8] {
        // Field by field into a zeroed buffer: copying C structs and unions
        // whole could carry their padding, and with it stale host bytes,
        // into the guest. Host-private fields (the backing descriptor) stay
        // zero: the guest has no use for our descriptor numbers.
        let header = Manifest.headerSize, size = Manifest.entrySize
        let nameOffset = MemoryLayout<mft_entry>.offset(of: \.name)!
        let typeOffset = MemoryLayout<mft_entry>.offset(of: \.type)!
        let unionOffset = MemoryLayout<mft_entry>.offset(of: \.u)!
        let attachedOffset = MemoryLayout<mft_entry>.offset(of: \.attached)!
        let capacityOffset = unionOffset + MemoryLayout<mft_block_basic>.offset(of: \.capacity)!
        let blockSizeOffset = unionOffset + MemoryLayout<mft_block_basic>.offset(of: \.block_size)!
        let macOffset = unionOffset + MemoryLayout<mft_net_basic>.offset(of: \.mac)!
        let mtuOffset = unionOffset + MemoryLayout<mft_net_basic>.offset(of: \.mtu)!

        var bytes = [UInt8](repeating: 0, count: header + entries.count * size)
        // SAFETY: every offset below is inside entry `index` of a buffer
        // sized for all entries; names and MACs are cut to their fields.
        bytes.withUnsafeMutableBytes { out in
            out.storeBytes(of: UInt32(MFT_VERSION), toByteOffset: 0, as: UInt32.self)
            out.storeBytes(of: UInt32(entries.count), toByteOffset: 4, as: UInt32.self)
            for (index, entry) in entries.enumerated() {
                let base = header + index * size
                for (i, byte) in entry.name.utf8.prefix(Int(MFT_NAME_MAX)).enumerated() { out[base + nameOffset + i] = byte }
                out.storeBytes(of: entry.type.rawValue, toByteOffset: base + typeOffset, as: UInt32.self)
                switch entry.properties {
                case .block(let capacity, let blockSize):
                    out.storeBytes(of: capacity, toByteOffset: base + capacityOffset, as: UInt64.self)
                    out.storeBytes(of: blockSize, toByteOffset: base + blockSizeOffset, as: UInt16.self)
                case .net(let mac, let mtu):
                    for (i, byte) in mac.prefix(6).enumerated() { out[base + macOffset + i] = byte }
                    out.storeBytes(of: mtu, toByteOffset: base + mtuOffset, as: UInt16.self)
                case .none:
                    break
                }
                out[base + attachedOffset] = entry.attached ? 1 : 0
            }
        }
        return bytes
    }
}

extension Manifest {
    /// Executables before Solo5 0.6 declare no devices: their tender had
    /// one block and one net device, each there only when given. They are
    /// these entries (never copied to such a guest).
    public static let v0BlockName = "disk"
    public static let v0NetName = "net"

    static func v0Devices() -> Manifest {
        var bytes = [UInt8](repeating: 0, count: headerSize + 3 * entrySize)
        bytes.withUnsafeMutableBytes { out in
            out.storeBytes(of: UInt32(MFT_VERSION), toByteOffset: 0, as: UInt32.self)
            out.storeBytes(of: UInt32(3), toByteOffset: 4, as: UInt32.self)
            let typeOffset = MemoryLayout<mft_entry>.offset(of: \.type)!
            for (index, (name, type)) in [("", MFT_RESERVED_FIRST), (v0BlockName, MFT_DEV_BLOCK_BASIC),
                                          (v0NetName, MFT_DEV_NET_BASIC)].enumerated() {
                let base = headerSize + index * entrySize
                for (i, byte) in name.utf8.enumerated() { out[base + i] = byte }
                out.storeBytes(of: type.rawValue, toByteOffset: base + typeOffset, as: UInt32.self)
            }
        }
        // Well-formed by construction.
        return try! Manifest(descriptor: bytes)
    }
}

/// Why a manifest was rejected.
public struct ManifestError: Error, Equatable {
    public var reason: String
    init(_ reason: String) { self.reason = reason }
}
