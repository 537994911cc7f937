import CLinux
import Testing
@testable import Tender

/// Decoding a `struct kvm_run` into a VcpuExit, on pages filled in as KVM
/// fills them.
@Suite("VcpuExit (unit)")
struct VcpuExitTests {
    /// A zeroed kvm_run page (KVM's data for I/O exits lives in the same
    /// mapping, after the struct), set up by `fill`, decoded.
    private func decode(_ fill: (UnsafeMutablePointer<kvm_run>, UnsafeMutableRawPointer) -> Void) -> VcpuExit {
        let page = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
        defer { page.deallocate() }
        page.initializeMemory(as: UInt8.self, repeating: 0, count: 4096)
        let run = page.bindMemory(to: kvm_run.self, capacity: 1)
        fill(run, page)
        return VcpuExit(decoding: run)
    }

    private func io(direction: Int32, size: UInt8, count: UInt32, bytes: [UInt8]) -> VcpuExit {
        decode { run, page in
            run.pointee.exit_reason = UInt32(KVM_EXIT_IO)
            run.pointee.io.direction = UInt8(direction)
            run.pointee.io.size = size
            run.pointee.io.port = 0x501
            run.pointee.io.count = count
            run.pointee.io.data_offset = 1024
            for (i, byte) in bytes.enumerated() { page.storeBytes(of: byte, toByteOffset: 1024 + i, as: UInt8.self) }
        }
    }

    @Test func portWrites() {
        guard case .ioOut(0x501, 4, 0x1234_5678?) = io(direction: KVM_EXIT_IO_OUT, size: 4, count: 1,
                                                       bytes: [0x78, 0x56, 0x34, 0x12]) else {
            Issue.record("a 4-byte outl")
            return
        }
        guard case .ioOut(0x501, 1, 0xab?) = io(direction: KVM_EXIT_IO_OUT, size: 1, count: 1, bytes: [0xab]) else {
            Issue.record("a 1-byte outb")
            return
        }
        guard case .ioOut(0x501, 2, 0xbeef?) = io(direction: KVM_EXIT_IO_OUT, size: 2, count: 1, bytes: [0xef, 0xbe]) else {
            Issue.record("a 2-byte outw")
            return
        }
        // rep outsl: no single value.
        guard case .ioOut(0x501, 4, nil) = io(direction: KVM_EXIT_IO_OUT, size: 4, count: 2, bytes: []) else {
            Issue.record("a string out")
            return
        }
        guard case .ioIn(0x501, 4) = io(direction: KVM_EXIT_IO_IN, size: 4, count: 1, bytes: []) else {
            Issue.record("an inl")
            return
        }
    }

    @Test func faultsAndDebugExits() {
        guard case .mmio(0xdead_b000, true) = decode({ run, _ in
            run.pointee.exit_reason = UInt32(KVM_EXIT_MMIO)
            run.pointee.mmio.phys_addr = 0xdead_b000
            run.pointee.mmio.is_write = 1
        }) else { Issue.record("mmio"); return }
        guard case .shutdown = decode({ run, _ in run.pointee.exit_reason = UInt32(KVM_EXIT_SHUTDOWN) }) else {
            Issue.record("shutdown"); return
        }
        guard case .internalError(1) = decode({ run, _ in
            run.pointee.exit_reason = UInt32(KVM_EXIT_INTERNAL_ERROR)
            run.pointee.internal.suberror = 1
        }) else { Issue.record("internal error"); return }
        guard case .failEntry(0x80000021) = decode({ run, _ in
            run.pointee.exit_reason = UInt32(KVM_EXIT_FAIL_ENTRY)
            run.pointee.fail_entry.hardware_entry_failure_reason = 0x80000021
        }) else { Issue.record("entry failure"); return }
        let debug = decode { run, _ in
            run.pointee.exit_reason = UInt32(KVM_EXIT_DEBUG)
            run.pointee.debug.arch.exception = 1
            run.pointee.debug.arch.pc = 0x100000
            run.pointee.debug.arch.dr6 = 0x4001
            run.pointee.debug.arch.dr7 = 0x401
        }
        guard case .debug(let event) = debug else { Issue.record("debug"); return }
        #expect(event == DebugEvent(exception: 1, pc: 0x100000, dr6: 0x4001, dr7: 0x401))
        guard case .halt = decode({ run, _ in run.pointee.exit_reason = UInt32(KVM_EXIT_HLT) }) else {
            Issue.record("hlt"); return
        }
        guard case .unknown(99) = decode({ run, _ in run.pointee.exit_reason = 99 }) else {
            Issue.record("unknown"); return
        }
    }
}
