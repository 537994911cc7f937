import Testing
@testable import Tender

/// The one checked accessor every guest address goes through.
@Suite("Guest memory (unit)")
struct GuestMemoryTests {
    static let size: UInt64 = 2 << 20

    /// 2 MiB of guest memory and 2 MiB shared above it; a no-access page at
    /// 0x1000 and a read-only page at 0x3000.
    func memory() throws -> GuestMemory {
        try GuestMemory(size: Self.size, mappedSize: 2 * Self.size,
                        accessMap: GuestAccessMap(noAccess: [0x1000..<0x2000], readOnly: [0x3000..<0x4000]))
    }

    @Test func storeThenLoad() throws {
        let memory = try memory()
        try memory.store(UInt64(0x1122_3344_5566_7788), at: 0x5000)
        #expect(try memory.load(UInt64.self, at: 0x5000) == 0x1122_3344_5566_7788)
        #expect(try memory.load(UInt32.self, at: 0x5004) == 0x1122_3344, "little-endian, unaligned loads allowed")
        #expect(try memory.load(UInt32.self, at: 0x5001) == 0x4455_6677)
    }

    @Test func lastBytesAreInsideFirstPastAreNot() throws {
        let memory = try memory()
        try memory.store(UInt32(7), at: Self.size - 4)
        #expect(try memory.load(UInt32.self, at: Self.size - 4) == 7)
        #expect(rejection { try memory.store(UInt32(7), at: Self.size - 3) }
                == "Invalid guest access: gpa=0x1ffffd, sz=4")
        #expect(rejection { _ = try memory.load(UInt8.self, at: Self.size) } == "Invalid guest access: gpa=0x200000, sz=1")
        // An empty range at the very end is inside.
        #expect(try memory.withBytes(at: Self.size, count: 0) { $0.count } == 0)
    }

    @Test func overflowingRangesAreRejected() throws {
        let memory = try memory()
        #expect(rejection { _ = try memory.load(UInt32.self, at: .max - 1) } != nil)
        #expect(rejection { try memory.withBytes(at: 0x5000, count: .max) { _ in } } != nil)
        #expect(rejection { try memory.withMutableBytes(at: .max, count: 2) { _ in } } != nil)
    }

    /// The shared region above the guest's memory is the tender's: a guest
    /// address there is refused, though the tender may write it.
    @Test func sharedRegionIsNotGuestMemory() throws {
        let memory = try memory()
        #expect(rejection { _ = try memory.load(UInt32.self, at: Self.size + 0x1000) } != nil)
        try memory.hostStore(UInt32(9), at: Self.size + 0x1000)
        #expect(rejection { try memory.hostStore(UInt32(9), at: 2 * Self.size - 2) }
                == "Tender write outside guest memory: gpa=0x3ffffe, sz=4")
    }

    @Test func noAccessRangesAreNeitherReadNorWritten() throws {
        let memory = try memory()
        #expect(rejection { _ = try memory.load(UInt8.self, at: 0x1000) } == "Invalid guest access: gpa=0x1000, sz=1")
        #expect(rejection { try memory.store(UInt8(1), at: 0x1fff) } != nil)
        // A range that only overlaps the edge is refused too.
        #expect(rejection { try memory.withBytes(at: 0xff0, count: 0x20) { _ in } } != nil)
        #expect(try memory.load(UInt8.self, at: 0x2000) == 0)
        #expect(try memory.load(UInt8.self, at: 0xfff) == 0)
    }

    @Test func readOnlyRangesAreReadNotWritten() throws {
        let memory = try memory()
        try memory.hostStore(UInt32(0xabcd), at: 0x3000)
        #expect(try memory.load(UInt32.self, at: 0x3000) == 0xabcd)
        #expect(try memory.withBytes(at: 0x3000, count: 0x1000) { $0.count } == 0x1000)
        #expect(rejection { try memory.store(UInt32(1), at: 0x3000) } != nil)
        #expect(rejection { try memory.withMutableBytes(at: 0x2ff0, count: 0x20) { _ in } } != nil)
    }

    @Test func lentBytesAreTheGuestsBytes() throws {
        let memory = try memory()
        try memory.withMutableBytes(at: 0x6000, count: 4) { buffer in buffer.copyBytes(from: [1, 2, 3, 4]) }
        #expect(try memory.load(UInt32.self, at: 0x6000) == 0x0403_0201)
        #expect(try memory.withBytes(at: 0x6001, count: 2) { Array($0) } == [2, 3])
    }

    @Test func fieldOffsetsAreByteCounts() {
        struct Pair { var a: UInt32; var b: UInt64 }
        #expect(GuestMemory.offset(of: \Pair.b) == 8)
    }
}
