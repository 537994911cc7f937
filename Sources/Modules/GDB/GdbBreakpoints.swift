#if canImport(Glibc)
import Glibc
#endif
import CLinux
import Tender

/// Breakpoints, watchpoints and stop replies.
extension GdbStub {
    /// `S05`, or `T05watch:ADDR;` (awatch for an access watchpoint) when
    /// DR6 says a watchpoint in a debug register fired, so gdb can show the
    /// old and new values.
    func stopReply(signal: UInt8, debugStatus: UInt64) -> String {
        for (slot, entry) in hardwareSlots.enumerated() where debugStatus & (1 << UInt64(slot)) != 0 {
            guard let entry, entry.kind != 0 else { continue }
            return "T" + hexByte(signal) + (entry.kind == 1 ? "watch" : "awatch") + ":" + String(entry.address, radix: 16) + ";"
        }
        return "S" + hexByte(signal)
    }

    /// `Z/z TYPE,ADDR,KIND`: 0 software (int3), 1 hardware, 2 write, 3 read
    /// (x86 has none: not supported), 4 access watchpoint.
    func breakpoint(_ body: ArraySlice<UInt8>, insert: Bool) -> String {
        let parts = body.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
        guard parts.count >= 3, let type = hexNumber(parts[0]), let address = hexNumber(parts[1]),
              let kind = hexNumber(parts[2].prefix { $0 != UInt8(ascii: ";") }) else { return "E01" }
        switch type {
        case 0:
            // A debug register when one is free: the guest's text stays
            // untouched and read-only, and kvm_pvm (which cannot run an
            // int3 under KVM_GUESTDBG_USE_SW_BP: internal error 1) can
            // stop there too. Beyond four, an int3 (real KVM only).
            if insert {
                if hardwareSlots.contains(where: { $0?.address == address && $0?.kind == 0 })
                    || softwareBreakpoints[address] != nil { return "OK" }
                if let free = hardwareSlots.firstIndex(where: { $0 == nil }) {
                    hardwareSlots[free] = (address, 0, 0)
                    return "OK"
                }
                guard let original = try? memory.load(UInt8.self, at: address),
                      memory.debuggerWrite([0xcc], at: address) else { return "E14" }
                softwareBreakpoints[address] = original
            } else if let original = softwareBreakpoints.removeValue(forKey: address) {
                _ = memory.debuggerWrite([original], at: address)
            } else if let slot = hardwareSlots.firstIndex(where: { $0?.address == address && $0?.kind == 0 }) {
                hardwareSlots[slot] = nil
            }
            return "OK"
        case 1, 2, 4:
            let rw: UInt64 = type == 1 ? 0 : type == 2 ? 1 : 3
            let lengthBits: UInt64
            switch (type, kind) {
            case (1, _): lengthBits = 0
            case (_, 1): lengthBits = 0
            case (_, 2): lengthBits = 1
            case (_, 4): lengthBits = 3
            case (_, 8): lengthBits = 2
            default: return "E01"
            }
            if insert {
                guard let free = hardwareSlots.firstIndex(where: { $0 == nil }) else { return "E28" }  // ENOSPC
                hardwareSlots[free] = (address, rw, lengthBits)
            } else if let slot = hardwareSlots.firstIndex(where: { $0?.address == address && $0?.kind == rw }) {
                hardwareSlots[slot] = nil
            }
            return "OK"
        default:
            return ""
        }
    }

    /// Arms KVM's guest debugging for the next run: single step, int3
    /// exits while software breakpoints are set, and the debug registers.
    func arm(step: Bool) throws(TenderError) {
        var control: UInt32 = 0
        if step { control |= UInt32(KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP) }
        if !softwareBreakpoints.isEmpty { control |= UInt32(KVM_GUESTDBG_ENABLE) | UInt32(KVM_GUESTDBG_USE_SW_BP) }
        var registers = [UInt64](repeating: 0, count: 8)
        for (slot, entry) in hardwareSlots.enumerated() {
            guard let entry else { continue }
            registers[slot] = entry.address
            registers[7] |= 1 << UInt64(slot * 2) | entry.kind << UInt64(16 + slot * 4) | entry.length << UInt64(18 + slot * 4)
        }
        if registers[7] != 0 { control |= UInt32(KVM_GUESTDBG_ENABLE) | UInt32(KVM_GUESTDBG_USE_HW_BP) }
        if case .failure(let code) = vcpu.setGuestDebug(control: control, debugRegisters: registers) {
            throw .system("GDB: KVM: ioctl (KVM_SET_GUEST_DEBUG) failed", errno: code)
        }
    }

    /// Removes every breakpoint and stops debugging: the guest runs on alone.
    func detach() {
        for (address, original) in softwareBreakpoints { _ = memory.debuggerWrite([original], at: address) }
        softwareBreakpoints = [:]
        hardwareSlots = [nil, nil, nil, nil]
        attached = false
    }
}
