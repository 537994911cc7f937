#if canImport(Glibc)
import Glibc
#endif
import HvtABI
import Tender

/// Block storage: `--block:NAME=PATH` backs the manifest's BLOCK_BASIC entry
/// NAME with a file or block device; BLOCK_READ and BLOCK_WRITE move whole
/// blocks between it and guest memory with pread/pwrite.
public final class BlockModule: TenderModule {
    public static let name = "block"
    public static let usage: String? = """
        --block:NAME=PATH (attach block device/file at PATH as block storage NAME)
          [ --block-sector-size:NAME=SECTORSIZE ] (set sector size for block device NAME; \
        must be a power of two greater than or equal 512)
        """

    /// One attached device, as the hypercalls see it.
    struct Device {
        var descriptor: FileDescriptor
        var capacity: UInt64
        var blockSize: UInt64

        /// A request must cover whole blocks, start on a block boundary and
        /// stay inside the device.
        @inline(__always)
        func admits(offset: UInt64, length: UInt64) -> Bool {
            let mask = blockSize &- 1
            return length != 0 && length & mask == 0 && offset & mask == 0
                && offset < capacity && length <= capacity - offset
        }

        enum Transfer {
            case read, write
        }

        /// BLOCK_READ (`length` bytes from the device at `offset` into
        /// `data`) or BLOCK_WRITE (the `length` bytes at `data` to the
        /// device at `offset`); all or nothing.
        func transfer(_ transfer: Transfer, _ data: GuestAddress, length: UInt64, offset: UInt64,
                      in memory: GuestMemory) throws(TenderError) -> solo5_result_t {
            guard admits(offset: offset, length: length) else { return SOLO5_R_EINVAL }
            // SAFETY: the buffers are GuestMemory's checked loans, used only inside the call.
            let done = switch transfer {
            case .read:
                try memory.withMutableBytes(at: data, count: length) { buffer in
                    retryingInterrupts { pread(descriptor.rawValue, buffer.baseAddress, buffer.count, off_t(offset)) }
                }
            case .write:
                try memory.withBytes(at: data, count: length) { bytes in
                    retryingInterrupts { pwrite(descriptor.rawValue, bytes.baseAddress, bytes.count, off_t(offset)) }
                }
            }
            guard done >= 0 else {
                return try Self.storageFailure("Fatal error when \(transfer == .read ? "reading" : "writing")")
            }
            guard UInt64(done) == length else {
                // Short only when the storage is full (a write: ENOSPC, EFBIG,
                // quota) or past its end (a read: the file shrank under the guest).
                return Self.storageFailed(transfer == .read
                    ? "read only \(done) out of \(length) bytes (backing file truncated?)"
                    : "wrote only \(done) out of \(length) bytes")
            }
            return SOLO5_R_OK
        }

        /// Storage that fails as storage does (full, I/O error, too large,
        /// shrunk) fails the guest's request with SOLO5_R_EUNSPEC, as a disk
        /// would, where the reference ends the run; a wrong descriptor or
        /// memory is still fatal. The first such failure is reported.
        static func storageFailure(_ message: String) throws(TenderError) -> solo5_result_t {
            let code = Errno.current
            switch code.rawValue {
            case ENOSPC, EDQUOT, EIO, EFBIG: return storageFailed(code.description)
            default: throw .system(message, errno: code)
            }
        }

        nonisolated(unsafe) private static var reported = false

        static func storageFailed(_ why: String) -> solo5_result_t {
            if !reported {
                reported = true
                Diagnostics.warn("block: I/O error (\(why)): the guest is told SOLO5_R_EUNSPEC; further errors are not reported")
            }
            return SOLO5_R_EUNSPEC
        }
    }

    /// Options, by manifest index, until setup.
    private var backing: [Int: (descriptor: FileDescriptor, capacity: UInt64)] = [:]
    private var sectorSizes: [Int: UInt16] = [:]
    private var given = LastOneWins()
    /// Attached devices by manifest index (= guest handle), built by setup.
    private var devices = DeviceTable<Device>(entries: 0)

    public init() {}

    public func handleOption(_ option: String, manifest: Manifest) throws(TenderError) -> Bool {
        if let option = DeviceOption(option, prefix: "--block:") {
            let path = option.word(maxLength: Int(PATH_MAX))
            guard !path.isEmpty else { return false }
            let index = try manifest.declaredIndex(for: option, type: .blockBasic)
            given.record(option)
            // A storage given before for this device loses: closed before
            // the one that wins is opened.
            backing.removeValue(forKey: index)?.descriptor.close()
            backing[index] = try Self.open(String(path))
            return true
        }
        if let option = DeviceOption(option, prefix: "--block-sector-size:") {
            // `%hu`, as the reference reads it.
            guard let size = ScannedNumber(option.value)?.read(as: UInt16.self, in: option.text) else { return false }
            guard size >= 512, size & (size - 1) == 0 else {
                // The reference's words, exactly: Solo5's own tests match
                // them. It means a power of two (its help and its check
                // say so), and so does the line after.
                Diagnostics.warn("Block size must be a multiple of 2 greater than or equal 512")
                throw TenderError("Invalid option: `\(option.text)' (the sector size must be a power of two: 512, 1024, 2048, ...)")
            }
            let index = try manifest.declaredIndex(for: option, type: .blockBasic)
            given.record(option)
            sectorSizes[index] = size
            return true
        }
        return false
    }

    /// Opens the backing storage read-write and takes its size as capacity.
    private static func open(_ path: String) throws(TenderError) -> (descriptor: FileDescriptor, capacity: UInt64) {
        let descriptor: FileDescriptor
        do { descriptor = try FileDescriptor.open(path, O_RDWR, kind: .storage) } catch {
            // The reference opens a FIFO too and cannot find its size: its
            // words for that, then why.
            if case .kind(S_IFIFO) = error {
                throw TenderError("\(path): Could not determine capacity: \(Errno(ESPIPE)) "
                    + "(\(FileDescriptor.describe(fileType: S_IFIFO)))")
            }
            throw error.describe("Could not open block device: \(path)")
        }
        let end = lseek(descriptor.rawValue, 0, SEEK_END)
        guard end >= 0 else {
            let code = Errno.current
            throw .system("\(path): Could not determine capacity", errno: code)
        }
        return (descriptor, UInt64(end))
    }

    public func setup(_ setup: ModuleSetup) throws(TenderError) {
        guard !backing.isEmpty else { return }
        let manifest = setup.manifest
        devices = DeviceTable(entries: manifest.entries.count)
        for (index, attached) in backing.sorted(by: { $0.key < $1.key }) {
            let name = manifest.entries[index].name
            let blockSize = sectorSizes[index] ?? 512
            if attached.capacity & UInt64(blockSize - 1) != 0 {
                throw TenderError("\(name): Backing storage size must be block aligned (\(blockSize) bytes)")
            }
            if attached.capacity < UInt64(blockSize) {
                throw TenderError("\(name): Backing storage must be at least 1 block (\(blockSize) bytes) in size")
            }
            manifest.attach(index, properties: .block(capacity: attached.capacity, blockSize: blockSize))
            devices[index] = Device(descriptor: attached.descriptor, capacity: attached.capacity,
                                    blockSize: UInt64(blockSize))
        }

        // The handlers capture the table itself: it is complete now.
        try register(HVT_HYPERCALL_BLOCK_READ, hvt_hc_block_read.self, .read, table: devices, setup: setup)
        try register(HVT_HYPERCALL_BLOCK_WRITE, hvt_hc_block_write.self, .write, table: devices, setup: setup)
        if setup.abi == .v0, let index = manifest.index(of: Manifest.v0BlockName, type: .blockBasic),
           let device = devices[index] {
            try registerV0Hypercalls(setup, device: device)
        }
    }

    /// BLOCK_READ or BLOCK_WRITE: their argument structs have the same
    /// fields. (A read's `len` stays as the guest set it: all or nothing.)
    private func register<Request: BlockRequest & BitwiseCopyable>(
        _ number: hvt_hypercall, _: Request.Type, _ transfer: Device.Transfer,
        table: DeviceTable<Device>, setup: ModuleSetup
    ) throws(TenderError) {
        let memory = setup.memory
        let resultOffset = Request.resultOffset
        try setup.registerHypercall(number) { address throws(TenderError) in
            let call = try memory.load(Request.self, at: address)
            let result = try table.device(handle: call.handle)?
                .transfer(transfer, call.data, length: call.len, offset: call.offset, in: memory) ?? SOLO5_R_EINVAL
            try memory.store(Int32(result.rawValue), at: address &+ resultOffset)
        }
    }

    public func seccompRules() -> [SeccompRule] {
        devices.attached.flatMap { device in
            [.on(device.descriptor, "pread64", reason: "BLOCK_READ reads the backing storage"),
             .on(device.descriptor, "pwrite64", reason: "BLOCK_WRITE writes the backing storage")]
        }
    }
}

/// The fields BLOCK_READ's and BLOCK_WRITE's argument structs share.
protocol BlockRequest {
    var handle: UInt64 { get }
    var offset: UInt64 { get }
    var data: UInt64 { get }
    var len: UInt64 { get }
    /// Where `ret` is (a key path through the protocol has no offset).
    static var resultOffset: UInt64 { get }
}

extension hvt_hc_block_read: BlockRequest {
    static var resultOffset: UInt64 { GuestMemory.offset(of: \hvt_hc_block_read.ret) }
}

extension hvt_hc_block_write: BlockRequest {
    static var resultOffset: UInt64 { GuestMemory.offset(of: \hvt_hc_block_write.ret) }
}
