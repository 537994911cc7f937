#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// Issues one ioctl; each KVM method below is one of these, with a typed
/// argument and the error returned as a value.
@inline(__always)
func kvmIoctl(_ fd: FileDescriptor, _ request: UInt, _ argument: UnsafeMutableRawPointer?) -> Result<Int32, Errno> {
    let rc = ckvm_ioctl(fd.rawValue, request, argument)
    return rc < 0 ? .failure(.current) : .success(rc)
}

@inline(__always)
func kvmIoctl(_ fd: FileDescriptor, _ request: UInt, value: UInt) -> Result<Int32, Errno> {
    let rc = ckvm_ioctl_value(fd.rawValue, request, value)
    return rc < 0 ? .failure(.current) : .success(rc)
}

/// Turns a failed ioctl into the reference's "KVM: ioctl (NAME) failed: why".
extension Result where Failure == Errno {
    func orFail(_ what: String) throws(TenderError) -> Success {
        switch self {
        case .success(let value): return value
        case .failure(let code): throw .system("KVM: ioctl (\(what)) failed", errno: code)
        }
    }
}

/// The KVM subsystem: an open /dev/kvm.
public struct KVMSystem {
    public let fd: FileDescriptor

    public static let requiredAPIVersion: Int32 = 12

    public static func open(path: String = "/dev/kvm") throws(TenderError) -> KVMSystem {
        KVMSystem(fd: try FileDescriptor.open(path, O_RDWR, kind: .any, failure: "Could not open: \(path)"))
    }

    public func apiVersion() -> Result<Int32, Errno> { kvmIoctl(fd, CKVM_GET_API_VERSION, nil) }

    public func checkExtension(_ capability: Int32) -> Result<Int32, Errno> {
        kvmIoctl(fd, CKVM_CHECK_EXTENSION, value: UInt(capability))
    }

    public func vcpuMmapSize() -> Result<Int32, Errno> { kvmIoctl(fd, CKVM_GET_VCPU_MMAP_SIZE, nil) }

    public func createVM() -> Result<VirtualMachine, Errno> {
        kvmIoctl(fd, CKVM_CREATE_VM, value: 0).map { VirtualMachine(fd: FileDescriptor(rawValue: $0)) }
    }

    /// The CPUID leaves KVM can offer a guest, in a buffer ready for SET_CPUID2.
    public func supportedCPUID() -> Result<CPUIDTable, Errno> {
        var capacity = 128
        while true {
            let table = CPUIDTable(capacity: capacity)
            switch kvmIoctl(fd, CKVM_GET_SUPPORTED_CPUID, table.raw) {
            case .success: return .success(table)
            case .failure(let code) where code.rawValue == E2BIG && capacity < 4096:
                table.deallocate()
                capacity *= 2
            case .failure(let code):
                table.deallocate()
                return .failure(code)
            }
        }
    }
}

/// A `struct kvm_cpuid2` with room for `capacity` entries (a flexible array,
/// so it lives in raw memory).
public struct CPUIDTable {
    let raw: UnsafeMutableRawPointer

    init(capacity: Int) {
        let size = MemoryLayout<kvm_cpuid2>.size + capacity * MemoryLayout<kvm_cpuid_entry2>.stride
        raw = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        raw.assumingMemoryBound(to: kvm_cpuid2.self).pointee.nent = UInt32(capacity)
    }

    func deallocate() { raw.deallocate() }
}

/// A KVM virtual machine.
public struct VirtualMachine {
    public let fd: FileDescriptor

    public func setUserMemoryRegion(slot: UInt32, guestPhysicalAddress: UInt64, size: UInt64,
                                    userspaceAddress: UInt64) -> Result<Void, Errno> {
        var region = kvm_userspace_memory_region(slot: slot, flags: 0, guest_phys_addr: guestPhysicalAddress,
                                                 memory_size: size, userspace_addr: userspaceAddress)
        return kvmIoctl(fd, CKVM_SET_USER_MEMORY_REGION, &region).map { _ in }
    }

    /// KVM_IOEVENTFD: a 4-byte guest write to I/O port `port` signals
    /// `eventfd` inside KVM, without an exit to the tender.
    public func registerPortEventfd(port: UInt16, eventfd: FileDescriptor) -> Result<Void, Errno> {
        var request = kvm_ioeventfd()
        request.addr = UInt64(port)
        request.len = 4
        request.fd = eventfd.rawValue
        request.flags = CKVM_IOEVENTFD_FLAG_PIO
        return kvmIoctl(fd, CKVM_IOEVENTFD, &request).map { _ in }
    }

    public func createVCPU(id: UInt = 0) -> Result<FileDescriptor, Errno> {
        kvmIoctl(fd, CKVM_CREATE_VCPU, value: id).map { FileDescriptor(rawValue: $0) }
    }
}
