#if canImport(Glibc)
import Glibc
#endif

/// A guest-physical address.
public typealias GuestAddress = UInt64

/// The guest's physical memory, mapped at guest-physical 0 in the host.
///
/// Guests hand us addresses; every address and length goes through
/// `checkedOffset(_:count:)` before any byte is touched, and no host pointer
/// outlives the closure it is lent to.
public final class GuestMemory {
    public let size: UInt64
    // Internal (not private) only so the accessors below can be inlined
    // into modules' hypercall handlers; nothing outside this file uses it.
    @usableFromInline let base: UnsafeMutableRawPointer

    public init(size: UInt64) throws(TenderError) {
        // Fresh anonymous memory is zero-filled, which the guest relies on
        // (boot info fields it doesn't know of, BSS, page tables).
        guard let area = mmap(nil, Int(size), PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
              area != MAP_FAILED else {
            throw .system("Error allocating guest memory")
        }
        self.size = size
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
}
