#if canImport(Glibc)
import Glibc
#endif

/// A guest-physical address.
public typealias GuestAddress = UInt64

/// Which guest-physical ranges a guest may not hand us for reading or for
/// writing: the tender's own low memory, and segments the host maps with
/// less than read-write access (a store there from the tender would fault
/// in the host).
public struct GuestAccessMap: Equatable {
    /// Neither read nor written on the guest's behalf.
    public var noAccess: [Range<UInt64>]
    /// Read but not written on the guest's behalf.
    public var readOnly: [Range<UInt64>]

    public init(noAccess: [Range<UInt64>] = [], readOnly: [Range<UInt64>] = []) {
        self.noAccess = noAccess
        self.readOnly = readOnly
    }
}

/// How a guest-supplied range will be used.
public enum GuestAccess { case read, write }

/// The guest's physical memory, mapped at guest-physical 0 in the host.
///
/// Guests hand us addresses; every address and length goes through
/// `checkedOffset(_:count:for:)` before any byte is touched: inside the
/// guest's memory, without overflow, and allowed by the access map. No host
/// pointer outlives the closure it is lent to.
///
/// The mapping may be larger than the guest's memory: modules' regions at
/// the top (the net ring) are shared with the guest but outside its
/// `mem_size`. Addresses a guest hands over are checked against `size`, so
/// they never reach those regions; the tender reaches them through
/// `SharedRegion`'s atomic accessors, at offsets of its own.
public final class GuestMemory {
    /// The guest's memory (boot info `mem_size`): what guest-supplied
    /// addresses are checked against.
    public let size: UInt64
    /// All of the mapping: `size` plus any shared region above it.
    public let mappedSize: UInt64
    // Internal (not private) only so the accessors below can be inlined
    // into modules' hypercall handlers; nothing outside this file uses them.
    @usableFromInline let base: UnsafeMutableRawPointer
    @usableFromInline let accessMap: GuestAccessMap
    /// Ranges mapped PROT_NONE in the host: the tender itself must not
    /// read them either (a core dump skips them).
    private(set) var hostNoAccess: [Range<UInt64>] = []

    init(size: UInt64, mappedSize: UInt64, accessMap: GuestAccessMap) throws(TenderError) {
        precondition(size <= mappedSize)
        // Fresh anonymous memory is zero-filled, which the guest relies on
        // (boot info fields it doesn't know of, BSS, page tables, the ring).
        guard let area = mmap(nil, Int(mappedSize), PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
              area != MAP_FAILED else {
            throw .system("Error allocating guest memory")
        }
        self.size = size
        self.mappedSize = mappedSize
        self.base = area
        self.accessMap = accessMap
    }

    /// The host virtual address KVM maps as guest-physical 0.
    var userspaceAddress: UInt64 { UInt64(UInt(bitPattern: base)) }

    /// The one check every guest-supplied range goes through: `[address,
    /// address + count)` lies inside guest memory, without overflow, and the
    /// access map allows `access` there.
    @inlinable @inline(__always)
    public func checkedOffset(_ address: GuestAddress, count: UInt64, for access: GuestAccess) throws(TenderError) -> Int {
        let (end, overflow) = address.addingReportingOverflow(count)
        guard !overflow, end <= size, allowed(address..<end, for: access) else {
            throw TenderError("Invalid guest access: gpa=\(hex(address)), sz=\(count)")
        }
        return Int(address)
    }

    @inlinable @inline(__always)
    func allowed(_ range: Range<UInt64>, for access: GuestAccess) -> Bool {
        for denied in accessMap.noAccess where denied.overlaps(range) { return false }
        if access == .write {
            for denied in accessMap.readOnly where denied.overlaps(range) { return false }
        }
        return true
    }

    /// Reads a value of trivial type `T` at `address`.
    @inlinable @inline(__always)
    public func load<T: BitwiseCopyable>(_ type: T.Type, at address: GuestAddress) throws(TenderError) -> T {
        let offset = try checkedOffset(address, count: UInt64(MemoryLayout<T>.size), for: .read)
        // SAFETY: checkedOffset put the value's bytes inside the mapping.
        return base.loadUnaligned(fromByteOffset: offset, as: T.self)
    }

    /// Writes a value of trivial type `T` at `address`.
    @inlinable @inline(__always)
    public func store<T: BitwiseCopyable>(_ value: T, at address: GuestAddress) throws(TenderError) {
        let offset = try checkedOffset(address, count: UInt64(MemoryLayout<T>.size), for: .write)
        // SAFETY: checkedOffset put the value's bytes inside writable guest memory.
        base.storeBytes(of: value, toByteOffset: offset, as: T.self)
    }

    /// Lends `count` bytes at `address` for reading (e.g. to write(2) them out).
    @inlinable @inline(__always)
    public func withBytes<R>(at address: GuestAddress, count: UInt64,
                             _ body: (UnsafeRawBufferPointer) -> R) throws(TenderError) -> R {
        let offset = try checkedOffset(address, count: count, for: .read)
        // SAFETY: checked range; the buffer does not outlive `body`.
        return body(UnsafeRawBufferPointer(start: base + offset, count: Int(count)))
    }

    /// Lends `count` bytes at `address` for writing (e.g. to read(2) into them).
    @inlinable @inline(__always)
    public func withMutableBytes<R>(at address: GuestAddress, count: UInt64,
                                    _ body: (UnsafeMutableRawBufferPointer) -> R) throws(TenderError) -> R {
        let offset = try checkedOffset(address, count: count, for: .write)
        // SAFETY: checked range; the buffer does not outlive `body`.
        return body(UnsafeMutableRawBufferPointer(start: base + offset, count: Int(count)))
    }

    // MARK: The tender's own setup (tables, boot info, the executable)

    /// Writes a value the tender places itself (not on a guest's behalf):
    /// checked against the mapping only.
    func hostStore<T: BitwiseCopyable>(_ value: T, at address: GuestAddress) throws(TenderError) {
        // SAFETY: hostOffset put the value's bytes inside the mapping.
        base.storeBytes(of: value, toByteOffset: try hostOffset(address, count: UInt64(MemoryLayout<T>.size)), as: T.self)
    }

    /// Copies bytes the tender places itself.
    func hostCopy<Bytes: Collection<UInt8>>(_ bytes: Bytes, to address: GuestAddress) throws(TenderError) {
        let offset = try hostOffset(address, count: UInt64(bytes.count))
        // SAFETY: hostOffset put all of `bytes` inside the mapping.
        UnsafeMutableRawBufferPointer(start: base + offset, count: bytes.count).copyBytes(from: bytes)
    }

    private func hostOffset(_ address: GuestAddress, count: UInt64) throws(TenderError) -> Int {
        let (end, overflow) = address.addingReportingOverflow(count)
        guard !overflow, end <= mappedSize else {
            throw TenderError("Tender write outside guest memory: gpa=\(hex(address)), sz=\(count)")
        }
        return Int(address)
    }

    /// Sets the host-side protection of a page-aligned range; executable
    /// guest pages are readable, never executable, in the host.
    func protect(_ address: GuestAddress, count: UInt64, readable: Bool, writable: Bool,
                 executable: Bool) throws(TenderError) {
        let offset = try hostOffset(address, count: count)
        var prot: Int32 = PROT_NONE
        if readable || executable { prot |= PROT_READ }
        if writable { prot |= PROT_WRITE }
        if mprotect(base + offset, Int(count), prot) != 0 {
            throw .system("mprotect of guest memory failed")
        }
        if prot == PROT_NONE { hostNoAccess.append(address..<address + count) }
    }
}
