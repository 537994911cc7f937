#if canImport(Glibc)
import Glibc
#endif
import CLinux
import Tender

/// The stopped guest as gdb sees it: registers, memory through the checked
/// accessors, breakpoints and watchpoints through KVM_SET_GUEST_DEBUG.
final class GdbStub {
    let connection: RemoteConnection
    let vcpu: VCPU
    let memory: GuestMemory
    /// Software breakpoints: address → the byte the int3 replaced.
    private var softwareBreakpoints: [UInt64: UInt8] = [:]
    /// DR0-DR3 slots: address, and DR7 type (0 exec, 1 write, 3 access) and length bits.
    private var hardwareSlots: [(address: UInt64, kind: UInt64, length: UInt64)?] = [nil, nil, nil, nil]
    private(set) var attached = true

    /// How the guest resumes after a stop.
    enum Resume { case `continue`, step }

    init(connection: RemoteConnection, vcpu: VCPU, memory: GuestMemory) {
        self.connection = connection
        self.vcpu = vcpu
        self.memory = memory
    }

    /// Reports a stop with `signal` (announce: false for the first stop,
    /// which gdb asks about with `?`) and serves gdb until it resumes the
    /// guest. Throws to end the run (`k`, or gdb gone).
    func stopped(signal: UInt8, announce: Bool, debugStatus: UInt64 = 0) throws(TenderError) {
        guard attached else { return }
        if announce { connection.send(stopReply(signal: signal, debugStatus: debugStatus)) }
        while true {
            switch connection.receive() {
            case .closed:
                throw TenderError("GDB: Exiting as we could not receive the next command from the debugger.")
            case .interrupt: connection.send("S" + hexByte(signal))
            case .malformed: connection.send("E01")
            case .packet(let packet):
                if let resume = try serve(packet, signal: signal) {
                    try arm(step: resume == .step)
                    return
                }
            }
        }
    }

    /// `S05`, or `T05watch:ADDR;` (awatch for an access watchpoint) when
    /// DR6 says a watchpoint in a debug register fired, so gdb can show the
    /// old and new values.
    private func stopReply(signal: UInt8, debugStatus: UInt64) -> String {
        for (slot, entry) in hardwareSlots.enumerated() where debugStatus & (1 << UInt64(slot)) != 0 {
            guard let entry, entry.kind != 0 else { continue }
            return "T" + hexByte(signal) + (entry.kind == 1 ? "watch" : "awatch") + ":" + String(entry.address, radix: 16) + ";"
        }
        return "S" + hexByte(signal)
    }

    /// Ends gdb's session: `W` with the guest's exit status, or `X` with a
    /// signal when the run ended on a fault.
    func exited(status: Int32?, signal: UInt8) {
        guard attached else { return }
        if let status {
            connection.send("W" + hexByte(UInt8(truncatingIfNeeded: status)), acknowledged: false)
        } else {
            connection.send("X" + hexByte(signal), acknowledged: false)
        }
        attached = false
    }

    /// One packet; a resume request ends the stop.
    private func serve(_ packet: [UInt8], signal: UInt8) throws(TenderError) -> Resume? {
        guard let command = packet.first else { connection.send(""); return nil }
        let body = packet.dropFirst()
        switch command {
        case UInt8(ascii: "?"): connection.send("S" + hexByte(signal))
        case UInt8(ascii: "g"): connection.send(readRegisters() ?? "E01")
        case UInt8(ascii: "G"): connection.send(writeRegisters(body) ? "OK" : "E01")
        case UInt8(ascii: "p"): connection.send(readRegister(body))
        case UInt8(ascii: "P"): connection.send(writeRegister(body))
        case UInt8(ascii: "m"): connection.send(readMemory(body))
        case UInt8(ascii: "M"): connection.send(writeMemory(body))
        case UInt8(ascii: "Z"): connection.send(breakpoint(body, insert: true))
        case UInt8(ascii: "z"): connection.send(breakpoint(body, insert: false))
        case UInt8(ascii: "c"), UInt8(ascii: "s"), UInt8(ascii: "C"), UInt8(ascii: "S"):
            // "C SIG[;ADDR]" and "S SIG[;ADDR]" resume without delivering
            // the signal (the guest has no signals); an address to resume at
            // ("c ADDR") moves rip first.
            var body = body
            if command == UInt8(ascii: "C") || command == UInt8(ascii: "S") {
                guard let separator = body.firstIndex(of: UInt8(ascii: ";")) else { return resume(command) }
                body = body[(separator + 1)...]
            }
            if !body.isEmpty {
                guard let address = hexNumber(body), case .success(var regs) = vcpu.getRegisters() else {
                    connection.send("E01")
                    return nil
                }
                regs.rip = address
                guard case .success = vcpu.setRegisters(regs) else { connection.send("E01"); return nil }
            }
            return resume(command)
        case UInt8(ascii: "k"):
            Diagnostics.warn("Debugger asked us to quit")
            attached = false
            throw TenderError("GDB: the debugger killed the guest")
        case UInt8(ascii: "D"):
            Diagnostics.warn("Debugger detached")
            connection.send("OK")
            detach()
            return .continue
        case UInt8(ascii: "H"), UInt8(ascii: "T"): connection.send("OK")
        default:
            connection.send(query(String(decoding: packet, as: UTF8.self)))
        }
        return nil
    }

    private func resume(_ command: UInt8) -> Resume {
        command == UInt8(ascii: "s") || command == UInt8(ascii: "S") ? .step : .continue
    }

    private func query(_ text: String) -> String {
        if text.hasPrefix("qSupported") { return "PacketSize=\(String(RemoteConnection.maxPacket, radix: 16))" }
        switch text {
        case "qAttached": return "1"
        case "qC": return "QC1"
        case "qfThreadInfo": return "m1"
        case "qsThreadInfo": return "l"
        default: return ""  // not supported
        }
    }

    // MARK: Registers: gdb's amd64 order (without a target description)

    /// rax rbx rcx rdx rsi rdi rbp rsp r8-r15 rip (8 bytes each), eflags
    /// cs ss ds es fs gs (4 bytes each).
    private static let registerCount = 24

    private func registerValues() -> [UInt64]? {
        guard case .success(let r) = vcpu.getRegisters(), case .success(let s) = vcpu.getSpecialRegisters() else { return nil }
        return [r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp, r.rsp, r.r8, r.r9, r.r10, r.r11, r.r12, r.r13,
                r.r14, r.r15, r.rip, r.rflags, UInt64(s.cs.selector), UInt64(s.ss.selector), UInt64(s.ds.selector),
                UInt64(s.es.selector), UInt64(s.fs.selector), UInt64(s.gs.selector)]
    }

    private static func width(_ index: Int) -> Int { index < 17 ? 8 : 4 }

    private static func encode(_ value: UInt64, width: Int) -> String {
        hexBytes(withUnsafeBytes(of: value.littleEndian) { Array($0.prefix(width)) })
    }

    private func readRegisters() -> String? {
        guard let values = registerValues() else { return nil }
        return values.enumerated().map { Self.encode($1, width: Self.width($0)) }.joined()
    }

    private func readRegister(_ body: ArraySlice<UInt8>) -> String {
        guard let index = hexNumber(body).map(Int.init) else { return "E01" }
        guard index < Self.registerCount else { return "" }  // not here: gdb marks it unavailable
        guard let values = registerValues() else { return "E01" }
        return Self.encode(values[index], width: Self.width(index))
    }

    /// Sets general registers, rip and rflags (segment selectors are fixed
    /// by the hvt machine: writes to them are ignored).
    private func set(_ updates: [(Int, UInt64)]) -> Bool {
        guard case .success(var r) = vcpu.getRegisters() else { return false }
        for (index, value) in updates {
            switch index {
            case 0: r.rax = value
            case 1: r.rbx = value
            case 2: r.rcx = value
            case 3: r.rdx = value
            case 4: r.rsi = value
            case 5: r.rdi = value
            case 6: r.rbp = value
            case 7: r.rsp = value
            case 8: r.r8 = value
            case 9: r.r9 = value
            case 10: r.r10 = value
            case 11: r.r11 = value
            case 12: r.r12 = value
            case 13: r.r13 = value
            case 14: r.r14 = value
            case 15: r.r15 = value
            case 16: r.rip = value
            case 17: r.rflags = value | 2  // bit 1 is always set
            default: break
            }
        }
        if case .success = vcpu.setRegisters(r) { return true }
        return false
    }

    private static func decode(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    private func writeRegisters(_ body: ArraySlice<UInt8>) -> Bool {
        guard let bytes = bytesFromHex(Array(body)) else { return false }
        var updates: [(Int, UInt64)] = []
        var offset = 0
        for index in 0..<Self.registerCount {
            let width = Self.width(index)
            guard offset + width <= bytes.count else { break }
            updates.append((index, Self.decode(bytes[offset..<offset + width])))
            offset += width
        }
        return set(updates)
    }

    private func writeRegister(_ body: ArraySlice<UInt8>) -> String {
        let parts = body.split(separator: UInt8(ascii: "="), maxSplits: 1)
        guard parts.count == 2, let index = hexNumber(parts[0]).map(Int.init),
              let bytes = bytesFromHex(Array(parts[1])) else { return "E01" }
        guard index < Self.registerCount else { return "" }
        guard bytes.count == Self.width(index) else { return "E01" }
        return set([(index, Self.decode(bytes[...]))]) ? "OK" : "E01"
    }

    // MARK: Memory: guest-physical = guest-virtual (identity mapped)

    private func addressAndLength(_ text: ArraySlice<UInt8>) -> (UInt64, UInt64)? {
        let parts = text.split(separator: UInt8(ascii: ","), maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let address = hexNumber(parts[0]), let length = hexNumber(parts[1]),
              length <= UInt64(RemoteConnection.maxPacket / 2) else { return nil }
        return (address, length)
    }

    private func readMemory(_ body: ArraySlice<UInt8>) -> String {
        guard let (address, length) = addressAndLength(body) else { return "E01" }
        guard var bytes = try? memory.withBytes(at: address, count: length, { Array($0) }) else { return "E14" }
        // gdb sees the guest's own bytes, not our int3s.
        for (at, original) in softwareBreakpoints where at >= address && at < address + length {
            bytes[Int(at - address)] = original
        }
        return hexBytes(bytes)
    }

    private func writeMemory(_ body: ArraySlice<UInt8>) -> String {
        let parts = body.split(separator: UInt8(ascii: ":"), maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let (address, length) = addressAndLength(parts[0]),
              let bytes = bytesFromHex(Array(parts[1])), bytes.count == length else { return "E01" }
        return memory.debuggerWrite(bytes, at: address) ? "OK" : "E14"
    }

    // MARK: Breakpoints and watchpoints

    /// `Z/z TYPE,ADDR,KIND`: 0 software (int3), 1 hardware, 2 write, 3 read
    /// (x86 has none: not supported), 4 access watchpoint.
    private func breakpoint(_ body: ArraySlice<UInt8>, insert: Bool) -> String {
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
    private func arm(step: Bool) throws(TenderError) {
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
    private func detach() {
        for (address, original) in softwareBreakpoints { _ = memory.debuggerWrite([original], at: address) }
        softwareBreakpoints = [:]
        hardwareSlots = [nil, nil, nil, nil]
        attached = false
    }
}
