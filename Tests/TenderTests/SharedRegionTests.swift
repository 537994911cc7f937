import Testing
import HvtABI
@testable import Tender

/// Modules' shared regions and boot-info offers: any module may own a
/// region and offer a feature, with no core change and no module named.
@Suite("Shared regions and boot-info offers")
struct SharedRegionTests {
    /// Regions are stacked page-aligned: each takes whole pages.
    @Test func regionsTakeWholePages() {
        #expect(SharedRegion.footprint(0) == 0)
        #expect(SharedRegion.footprint(1) == 4096)
        #expect(SharedRegion.footprint(4096) == 4096)
        #expect(SharedRegion.footprint(49280) == 53248)
    }

    /// A region must lie above the guest's memory and inside the mapping;
    /// its accessors refuse offsets past its end and unaligned words.
    @Test func regionAccessIsChecked() throws {
        let mib: UInt64 = 1 << 20
        let memory = try GuestMemory(size: 2 * mib, mappedSize: 4 * mib, accessMap: GuestAccessMap())
        #expect(throws: TenderError.self) { try SharedRegion(memory: memory, address: 2 * mib - 4096, size: 4096) }
        #expect(throws: TenderError.self) { try SharedRegion(memory: memory, address: 4 * mib - 4096, size: 4097) }
        #expect(throws: TenderError.self) { try SharedRegion(memory: memory, address: .max, size: 2) }
        let region = try SharedRegion(memory: memory, address: 2 * mib, size: 4096)
        try region.storeRelease(7, at: 4092)
        #expect(try region.loadAcquire(4092) == 7)
        // A guest-supplied address never reaches it.
        #expect(throws: TenderError.self) { try memory.load(UInt32.self, at: 2 * mib + 4092) }
        #expect(throws: TenderError.self) { try region.loadAcquire(4096) }
        #expect(throws: TenderError.self) { try region.loadRelaxed(2) }
        #expect(throws: TenderError.self) { try region.loadRelaxed64(4092) }
        #expect(throws: TenderError.self) { try region.storeRelaxed(1, at: .max - 1) }
    }

    /// Feature bits and boot-info fields have one owner each; the core's
    /// fields have none.
    @Test func offersHaveOneOwner() throws {
        let ring = MemoryLayout<hvt_boot_info>.offset(of: \.net_ring)!
        var offers = BootInfo.Offers()
        try offers.offer(UInt32(HVT_FEATURE_RING_IO), by: "net")
        try offers.set(field: ring, to: 0x2000000, by: "net")
        #expect(offers.features == UInt32(HVT_FEATURE_RING_IO) && offers.fields.net_ring == 0x2000000)
        #expect(throws: TenderError.self) { try offers.offer(UInt32(HVT_FEATURE_RING_IO), by: "other") }
        #expect(throws: TenderError.self) { try offers.set(field: ring, to: 1, by: "other") }
        for core in [\hvt_boot_info.mem_size, \.kernel_end, \.cpu_cycle_freq, \.cmdline, \.mft] {
            let offset = MemoryLayout<hvt_boot_info>.offset(of: core)!
            #expect(throws: TenderError.self) { try offers.set(field: offset, to: 1, by: "other") }
        }
        let features = MemoryLayout<hvt_boot_info>.offset(of: \.host_features)!
        #expect(throws: TenderError.self) { try offers.set(field: features, to: 1, by: "other") }
        #expect(throws: TenderError.self) { try offers.set(field: ring + 4, to: 1, by: "other") }
        #expect(throws: TenderError.self) { try offers.set(field: MemoryLayout<hvt_boot_info>.size, to: 1, by: "other") }
        #expect(throws: TenderError.self) { try offers.offer(0, by: "other") }
        #expect(throws: TenderError.self) { try offers.offer(3, by: "other") }
        try offers.offer(2, by: "other")
        #expect(offers.features == 3 && offers.fields.net_ring == 0x2000000)
    }

    /// The offers reach the guest's boot info.
    @Test func offersAreWritten() throws {
        let mib: UInt64 = 1 << 20
        let memory = try GuestMemory(size: 2 * mib, mappedSize: 4 * mib, accessMap: GuestAccessMap())
        var offers = BootInfo.Offers()
        try offers.offer(UInt32(HVT_FEATURE_RING_IO), by: "net")
        try offers.set(field: MemoryLayout<hvt_boot_info>.offset(of: \.net_ring)!, to: 2 * mib, by: "net")
        try BootInfo.write(into: memory, kernelEnd: 0x200000, cpuCycleFrequency: 1, manifest: [0], commandLine: [0],
                           offers: offers)
        let info = try memory.load(hvt_boot_info.self, at: X86Layout.bootInfoBase)
        #expect(info.host_features == UInt32(HVT_FEATURE_RING_IO) && info.guest_features == 0)
        #expect(info.net_ring == 2 * mib && info.mem_size == 2 * mib)
    }

    /// A module other than net owns a region through the same API: the
    /// test module's sits where the net ring would, above --mem, and the
    /// guest still runs.
    @Test func aModuleOwnsARegion() throws {
        try Harness.requireKVM()
        let outcome = try Harness.run(["--mem=32", "--test:region=8192", try Harness.guest("hello"), "Hello_Solo5"],
                                      tender: "solo5-hvt-testmodule")
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stderr.contains("test: region at 0x2000000, 8192 bytes, word 32343\n"), "\(outcome)")
        #expect(outcome.stdout.contains("Hello_Solo5"), "\(outcome)")
    }
}
