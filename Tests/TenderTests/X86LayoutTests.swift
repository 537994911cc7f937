import Testing
@testable import Tender

@Suite("X86 layout (unit)")
struct X86LayoutTests {
    @Test func memorySizeRounding() throws {
        #expect(X86Layout.guestMemorySize(requested: 512 << 20) == (512 << 20, false))
        #expect(X86Layout.guestMemorySize(requested: 3 << 20) == (2 << 20, true))
        #expect(X86Layout.guestMemorySize(requested: 1 << 20) == (2 << 20, true))
        #expect(X86Layout.guestMemorySize(requested: 4096 << 20) == (4096 << 20, false))
        #expect(X86Layout.guestMemorySize(requested: 4097 << 20) == (4096 << 20, true))
        #expect(X86Layout.guestMemorySize(requested: 4099 << 20) == (4098 << 20, true))
        try X86Layout.checkMemorySize(4096 << 20)
        #expect(throws: TenderError.self) { try X86Layout.checkMemorySize(4098 << 20) }
    }

    /// Too large is said in the reference's words (bytes), then the limit in
    /// MB, the unit of --mem.
    @Test func tooLargeMessage() {
        #expect(rejection { try X86Layout.checkMemorySize(8192 << 20) }
                == "guest memory size 8589934592 bytes exceeds the max size 4294967296 bytes (--mem=4096 at most)")
    }

    @Test func sharedRegionTakesTheTop() throws {
        #expect(try X86Layout.reserving(0, above: 32 << 20) == (32 << 20, 32 << 20, nil))
        let withRing = try X86Layout.reserving(2 << 20, above: 32 << 20)
        #expect(withRing == (34 << 20, 32 << 20, 32 << 20))
        // At the maximum the guest gives up the region's room.
        let capped = try X86Layout.reserving(2 << 20, above: X86Layout.maxMemorySize)
        #expect(capped == (X86Layout.maxMemorySize, X86Layout.maxMemorySize - (2 << 20), X86Layout.maxMemorySize - (2 << 20)))
        #expect(throws: TenderError.self) { try X86Layout.reserving(4 << 20, above: 2 << 20) }
    }

    @Test func gdtDescriptors() {
        // The flat 64-bit code and data descriptors every x86_64 kernel uses.
        #expect(X86Layout.descriptor(X86Layout.codeSegment) == 0x00af_9900_0000_ffff)
        #expect(X86Layout.descriptor(X86Layout.dataSegment) == 0x00cf_9300_0000_ffff)
    }
}
