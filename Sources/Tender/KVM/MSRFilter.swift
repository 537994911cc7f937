#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// One range of a KVM MSR filter: `count` MSRs from `first`, each allowed
/// for the accesses given.
public struct MSRFilterRange: Sendable {
    public var first: UInt32
    public var count: UInt32
    public var read: Bool
    public var write: Bool

    public init(first: UInt32, count: UInt32, read: Bool, write: Bool) {
        (self.first, self.count, self.read, self.write) = (first, count, read, write)
    }
}

extension VirtualMachine {
    /// KVM_CHECK_EXTENSION on the VM (what this VM offers may differ from
    /// /dev/kvm's answer).
    public func checkExtension(_ capability: Int32) -> Result<Int32, Errno> {
        kvmIoctl(fd, CKVM_CHECK_EXTENSION, value: UInt(capability))
    }

    /// KVM_X86_SET_MSR_FILTER with KVM_MSR_FILTER_DEFAULT_DENY: the guest's
    /// RDMSR and WRMSR of any MSR outside `allowed` raise #GP in the guest.
    /// Needs KVM_CAP_X86_MSR_FILTER; at most 16 ranges.
    public func denyMSRs(except allowed: [MSRFilterRange]) -> Result<Void, Errno> {
        guard !allowed.isEmpty, allowed.count <= 16 else { return .failure(Errno(EINVAL)) }
        // Every MSR of a range is allowed: bitmaps of all ones, which KVM
        // copies during the ioctl.
        let bitmapSize = (Int(allowed.map(\.count).max() ?? 0) + 7) / 8
        let bitmap = UnsafeMutablePointer<UInt8>.allocate(capacity: max(bitmapSize, 1))
        defer { bitmap.deallocate() }
        bitmap.initialize(repeating: 0xff, count: max(bitmapSize, 1))

        var filter = kvm_msr_filter()
        filter.flags = CKVM_MSR_FILTER_DEFAULT_DENY
        // SAFETY: `ranges` is a homogeneous tuple of 16 kvm_msr_filter_range
        // inside `filter`; the pointer does not outlive this closure.
        withUnsafeMutableBytes(of: &filter.ranges) { raw in
            let ranges = raw.bindMemory(to: kvm_msr_filter_range.self)
            for (slot, range) in allowed.enumerated() {
                ranges[slot].flags = (range.read ? CKVM_MSR_FILTER_READ : 0) | (range.write ? CKVM_MSR_FILTER_WRITE : 0)
                ranges[slot].base = range.first
                ranges[slot].nmsrs = range.count
                ranges[slot].bitmap = bitmap
            }
        }
        return kvmIoctl(fd, CKVM_X86_SET_MSR_FILTER, &filter).map { _ in }
    }
}

extension CPUIDTable {
    /// Keeps the entries `keep` returns true for (after it has edited them
    /// in place) and drops the others.
    public func filter(_ keep: (inout kvm_cpuid_entry2) -> Bool) {
        let header = raw.assumingMemoryBound(to: kvm_cpuid2.self)
        // SAFETY: the table was allocated with room for `nent` entries right
        // after the header (init(capacity:)); KVM only lowers `nent`.
        let entries = UnsafeMutableRawPointer(header + 1).assumingMemoryBound(to: kvm_cpuid_entry2.self)
        var kept = 0
        for index in 0..<Int(header.pointee.nent) {
            var entry = entries[index]
            if keep(&entry) {
                entries[kept] = entry
                kept += 1
            }
        }
        header.pointee.nent = UInt32(kept)
    }
}
