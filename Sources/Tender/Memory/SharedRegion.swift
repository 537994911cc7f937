import CLinux

/// A module's region of memory shared with the running guest, above the
/// guest's `mem_size` (e.g. the net ring). Any module may ask for one
/// (`TenderModule.sharedRegionSize()`); the core stacks them at the top of
/// the mapping, each page-aligned, and hands each module its own.
///
/// The guest may write any word of it at any time, so the tender reaches it
/// only through the atomic accessors below, at offsets of its own (struct
/// field offsets, slot indices it masked), each checked to lie inside the
/// region and to be aligned: one aligned atomic instruction inside the
/// mapping. Guest-supplied addresses never reach a region: they are checked
/// against `GuestMemory.size`, below every region.
public struct SharedRegion {
    /// Where the region starts, guest-physical (what the guest is told).
    public let address: GuestAddress
    /// Its size in bytes, as the module asked.
    public let size: UInt64
    // The mapping outlives every region: the memory object is kept here.
    @usableFromInline let memory: GuestMemory
    @usableFromInline let base: UnsafeMutableRawPointer

    init(memory: GuestMemory, address: GuestAddress, size: UInt64) throws(TenderError) {
        let (end, overflow) = address.addingReportingOverflow(size)
        guard !overflow, address >= memory.size, end <= memory.mappedSize else {
            throw TenderError("Shared region outside the mapping: gpa=\(hex(address)), sz=\(size)")
        }
        self.memory = memory
        self.address = address
        self.size = size
        // SAFETY: checked just above to lie inside the mapping.
        base = memory.base + Int(address)
    }

    /// The word of `width` bytes at `offset`, checked.
    @inlinable @inline(__always)
    func word(_ offset: UInt64, width: UInt64) throws(TenderError) -> UnsafeMutableRawPointer {
        let (end, overflow) = offset.addingReportingOverflow(width)
        guard !overflow, end <= size, offset % width == 0 else { throw invalidAccess(offset, width: width) }
        // SAFETY: inside the region (checked above), aligned.
        return base + Int(offset)
    }

    @usableFromInline
    func invalidAccess(_ offset: UInt64, width: UInt64) -> TenderError {
        TenderError("Invalid shared access: gpa=\(hex(address &+ offset)), sz=\(width)")
    }

    /// Loads a 32-bit word with acquire ordering: later loads see what the
    /// guest wrote before it stored this word (with release ordering).
    @inlinable @inline(__always)
    public func loadAcquire(_ offset: UInt64) throws(TenderError) -> UInt32 {
        clinux_load_acquire32(try word(offset, width: 4))
    }

    /// Loads a 32-bit word once (no ordering): a snapshot of a word the
    /// guest may be rewriting.
    @inlinable @inline(__always)
    public func loadRelaxed(_ offset: UInt64) throws(TenderError) -> UInt32 {
        clinux_load_relaxed32(try word(offset, width: 4))
    }

    /// Loads an aligned 64-bit word once (no ordering).
    @inlinable @inline(__always)
    public func loadRelaxed64(_ offset: UInt64) throws(TenderError) -> UInt64 {
        clinux_load_relaxed64(try word(offset, width: 8))
    }

    /// Stores a 32-bit word with release ordering: the guest, loading it
    /// with acquire ordering, sees every earlier store of ours.
    @inlinable @inline(__always)
    public func storeRelease(_ value: UInt32, at offset: UInt64) throws(TenderError) {
        clinux_store_release32(try word(offset, width: 4), value)
    }

    /// Stores a 32-bit word (no ordering).
    @inlinable @inline(__always)
    public func storeRelaxed(_ value: UInt32, at offset: UInt64) throws(TenderError) {
        clinux_store_relaxed32(try word(offset, width: 4), value)
    }

    /// A full barrier: our earlier stores are visible before our later loads.
    @inlinable @inline(__always)
    public func fullBarrier() { clinux_fence() }

    /// The room a region of `size` bytes takes where regions are stacked
    /// (each starts on a page): whole pages.
    static func footprint(_ size: UInt64) -> UInt64 {
        (size + pageSize - 1) / pageSize * pageSize
    }

    static let pageSize: UInt64 = 4096
}
