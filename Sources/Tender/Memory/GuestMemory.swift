#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// A guest-physical address.
public typealias GuestAddress = UInt64

/// The guest's physical memory, mapped at guest-physical 0 in the host.
///
/// Guests hand us addresses; every address and length goes through
/// `checkedOffset(_:count:)` before any byte is touched, and no host pointer
/// outlives the closure it is lent to.
///
/// The mapping may be larger than the guest's memory: a region at the top
/// (the net ring) is shared with the guest but outside its `mem_size`.
/// Addresses a guest hands over are checked against `size`, so they never
/// reach that region; the tender reaches it through the atomic accessors
/// at the end, with addresses of its own.
public final class GuestMemory {
    /// The guest's memory (boot info `mem_size`): what guest-supplied
    /// addresses are checked against.
    public let size: UInt64
    /// All of the mapping: `size` plus any shared region above it.
    public let mappedSize: UInt64
    // Internal (not private) only so the accessors below can be inlined
    // into modules' hypercall handlers; nothing outside this file uses it.
    @usableFromInline let base: UnsafeMutableRawPointer

    public convenience init(size: UInt64) throws(TenderError) {
        try self.init(size: size, mappedSize: size)
    }

    public init(size: UInt64, mappedSize: UInt64) throws(TenderError) {
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
    }

    /// The host virtual address KVM maps as guest-physical 0.
    var userspaceAddress: UInt64 { UInt64(UInt(bitPattern: base)) }

    /// The one check every guest access goes through: `[address, address +
    /// count)` must lie inside guest memory, without overflow.
    @inlinable @inline(__always)
    public func checkedOffset(_ address: GuestAddress, count: UInt64) throws(TenderError) -> Int {
        let (end, overflow) = address.addingReportingOverflow(count)
        guard !overflow, end <= size else {
            throw TenderError("Invalid guest access: gpa=\(hex(address)), sz=\(count)")
        }
        return Int(address)
    }

    /// Reads a value of trivial type `T` at `address`.
    @inlinable @inline(__always)
    public func load<T: BitwiseCopyable>(_ type: T.Type, at address: GuestAddress) throws(TenderError) -> T {
        let offset = try checkedOffset(address, count: UInt64(MemoryLayout<T>.size))
        return base.loadUnaligned(fromByteOffset: offset, as: T.self)
    }

    /// Writes a value of trivial type `T` at `address`.
    @inlinable @inline(__always)
    public func store<T: BitwiseCopyable>(_ value: T, at address: GuestAddress) throws(TenderError) {
        let offset = try checkedOffset(address, count: UInt64(MemoryLayout<T>.size))
        base.storeBytes(of: value, toByteOffset: offset, as: T.self)
    }

    /// Lends `count` bytes at `address` for reading (e.g. to write(2) them out).
    @inlinable @inline(__always)
    public func withBytes<R>(at address: GuestAddress, count: UInt64,
                             _ body: (UnsafeRawBufferPointer) -> R) throws(TenderError) -> R {
        let offset = try checkedOffset(address, count: count)
        return body(UnsafeRawBufferPointer(start: base + offset, count: Int(count)))
    }

    /// Lends `count` bytes at `address` for writing (e.g. to read(2) into them).
    @inlinable @inline(__always)
    public func withMutableBytes<R>(at address: GuestAddress, count: UInt64,
                                    _ body: (UnsafeMutableRawBufferPointer) -> R) throws(TenderError) -> R {
        let offset = try checkedOffset(address, count: count)
        return body(UnsafeMutableRawBufferPointer(start: base + offset, count: Int(count)))
    }

    /// Copies host bytes into guest memory.
    public func copy<Bytes: Collection<UInt8>>(_ bytes: Bytes, to address: GuestAddress) throws(TenderError) {
        try withMutableBytes(at: address, count: UInt64(bytes.count)) { $0.copyBytes(from: bytes) }
    }

    /// Sets the host-side protection of a page-aligned range; executable
    /// guest pages are readable, never executable, in the host.
    public func protect(_ address: GuestAddress, count: UInt64, readable: Bool, writable: Bool,
                        executable: Bool) throws(TenderError) {
        let offset = try checkedOffset(address, count: count)
        var prot: Int32 = PROT_NONE
        if readable || executable { prot |= PROT_READ }
        if writable { prot |= PROT_WRITE }
        if mprotect(base + offset, Int(count), prot) != 0 {
            throw .system("mprotect of guest memory failed")
        }
    }

    // MARK: Words shared with a running guest (the net ring)
    //
    // The tender's I/O thread and the guest use these words concurrently.
    // The addresses are the tender's own (a ring base plus a field offset),
    // checked against the whole mapping and for 4-byte alignment, so an
    // access is always one aligned atomic instruction inside the mapping.

    @usableFromInline @inline(__always)
    func sharedWord(_ address: GuestAddress, count: UInt64) throws(TenderError) -> UnsafeMutableRawPointer {
        let (end, overflow) = address.addingReportingOverflow(count)
        guard !overflow, end <= mappedSize, address % count == 0 else {
            throw TenderError("Invalid shared access: gpa=\(hex(address)), sz=\(count)")
        }
        return base + Int(address)
    }

    /// Loads a 32-bit word with acquire ordering: later loads see what the
    /// guest wrote before it stored this word (with release ordering).
    @inlinable @inline(__always)
    public func loadAcquire(_ address: GuestAddress) throws(TenderError) -> UInt32 {
        clinux_load_acquire32(try sharedWord(address, count: 4))
    }

    /// Loads a 32-bit word once (no ordering): a snapshot of a word the
    /// guest may be rewriting.
    @inlinable @inline(__always)
    public func loadRelaxed(_ address: GuestAddress) throws(TenderError) -> UInt32 {
        clinux_load_relaxed32(try sharedWord(address, count: 4))
    }

    /// Loads an aligned 64-bit word once (no ordering).
    @inlinable @inline(__always)
    public func loadRelaxed64(_ address: GuestAddress) throws(TenderError) -> UInt64 {
        clinux_load_relaxed64(try sharedWord(address, count: 8))
    }

    /// Stores a 32-bit word with release ordering: the guest, loading it
    /// with acquire ordering, sees every earlier store of ours.
    @inlinable @inline(__always)
    public func storeRelease(_ value: UInt32, at address: GuestAddress) throws(TenderError) {
        clinux_store_release32(try sharedWord(address, count: 4), value)
    }

    /// Stores a 32-bit word (no ordering).
    @inlinable @inline(__always)
    public func storeRelaxed(_ value: UInt32, at address: GuestAddress) throws(TenderError) {
        clinux_store_relaxed32(try sharedWord(address, count: 4), value)
    }

    /// A full barrier: our earlier stores are visible before our later loads.
    @inlinable @inline(__always)
    public func fullBarrier() { clinux_fence() }
}
