import CLinux
import Testing
@testable import Tender

/// The CPUID table and MSR allowlist a guest gets (GuestCPU); the guests
/// that probe them through the real tender are cpu-* in cases.txt.
@Suite("Hostile guest CPU policy (unit)")
struct HostileCPUTests {
    private func entry(_ function: UInt32, _ index: UInt32 = 0, all bits: UInt32 = 0xffff_ffff) -> kvm_cpuid_entry2 {
        var entry = kvm_cpuid_entry2()
        (entry.function, entry.index) = (function, index)
        (entry.eax, entry.ebx, entry.ecx, entry.edx) = (bits, bits, bits, bits)
        return entry
    }

    @Test func hypervisorSGXPMUTraceAndSVMLeavesAreDropped() {
        for function: UInt32 in [0xa, 0x12, 0x14, 0x4000_0000, 0x4000_0001, 0x4000_0100, 0x8000_000a, 0x8000_001f] {
            var probe = entry(function)
            #expect(!GuestCPU.filter(&probe), "leaf \(hex(function))")
        }
    }

    @Test func virtualizationEnclaveAndTraceBitsAreCleared() {
        var leaf1 = entry(1)
        #expect(GuestCPU.filter(&leaf1))
        #expect(leaf1.ecx & (1 << 5) == 0 && leaf1.ecx & (1 << 6) == 0 && leaf1.ecx & (1 << 15) == 0)
        // SSE3, SSSE3, SSE4.1/4.2, XSAVE, OSXSAVE, AVX, RDRAND, hypervisor stay.
        for bit in [0, 9, 19, 20, 26, 27, 28, 30, 31] { #expect(leaf1.ecx & (1 << bit) != 0, "bit \(bit)") }
        #expect(leaf1.edx == 0xffff_ffff && leaf1.eax == 0xffff_ffff && leaf1.ebx == 0xffff_ffff)

        var leaf7 = entry(7)
        #expect(GuestCPU.filter(&leaf7))
        #expect(leaf7.ebx & (1 << 2) == 0 && leaf7.ebx & (1 << 25) == 0 && leaf7.ecx & (1 << 30) == 0)
        // AVX2, BMI1/2, ERMS, AVX-512F stay.
        for bit in [3, 5, 8, 9, 16] { #expect(leaf7.ebx & (1 << bit) != 0, "bit \(bit)") }
        var leaf7sub1 = entry(7, 1)
        #expect(GuestCPU.filter(&leaf7sub1) && leaf7sub1.ebx == 0xffff_ffff)

        var extended = entry(0x8000_0001)
        #expect(GuestCPU.filter(&extended))
        #expect(extended.ecx == 0xffff_fffb && extended.edx == 0xffff_ffff)
    }

    @Test func everyOtherLeafIsUntouched() {
        for function: UInt32 in [0, 2, 4, 0xb, 0xd, 0x1f, 0x8000_0000, 0x8000_0008] {
            var probe = entry(function, all: 0x1234_5678)
            #expect(GuestCPU.filter(&probe))
            #expect(probe.eax == 0x1234_5678 && probe.ebx == 0x1234_5678 && probe.ecx == 0x1234_5678
                    && probe.edx == 0x1234_5678)
        }
    }

    @Test func msrAllowlistIsTheTLSBasesOnly() {
        #expect(GuestCPU.allowedMSRs.count == 1)
        let range = GuestCPU.allowedMSRs[0]
        #expect(range.first == 0xc000_0100 && range.count == 3 && range.read && range.write)
    }

    /// The filter on a real VM: KVM accepts it (on a KVM that offers it),
    /// and rejects a deny-all filter with nothing allowed, which our
    /// method refuses before asking.
    @Test func kvmAcceptsTheFilter() throws {
        try Harness.requireKVM()
        let kvm = try KVMSystem.open()
        let vm = try kvm.createVM().get()
        defer { vm.fd.close(); kvm.fd.close() }
        guard try vm.checkExtension(KVM_CAP_X86_MSR_FILTER).get() > 0 else {
            Issue.record("this KVM lacks KVM_CAP_X86_MSR_FILTER: the MSR cases cannot hold here")
            return
        }
        #expect(throws: Never.self) { try vm.denyMSRs(except: GuestCPU.allowedMSRs).get() }
        #expect(throws: Errno.self) { try vm.denyMSRs(except: []).get() }
    }
}
