#if canImport(Glibc)
import Glibc
#endif
import CLinux
import Tender

/// Registers in gdb's amd64 order (no target description is sent).
extension GdbStub {
    /// rax rbx rcx rdx rsi rdi rbp rsp r8-r15 rip (8 bytes each), eflags
    /// cs ss ds es fs gs (4 bytes each).
    static let registerCount = 24

    func registerValues() -> [UInt64]? {
        guard case .success(let r) = vcpu.getRegisters(), case .success(let s) = vcpu.getSpecialRegisters() else { return nil }
        return [r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp, r.rsp, r.r8, r.r9, r.r10, r.r11, r.r12, r.r13,
                r.r14, r.r15, r.rip, r.rflags, UInt64(s.cs.selector), UInt64(s.ss.selector), UInt64(s.ds.selector),
                UInt64(s.es.selector), UInt64(s.fs.selector), UInt64(s.gs.selector)]
    }

    static func width(_ index: Int) -> Int { index < 17 ? 8 : 4 }

    static func encode(_ value: UInt64, width: Int) -> String {
        hexBytes(withUnsafeBytes(of: value.littleEndian) { Array($0.prefix(width)) })
    }

    func readRegisters() -> String? {
        guard let values = registerValues() else { return nil }
        return values.enumerated().map { Self.encode($1, width: Self.width($0)) }.joined()
    }

    func readRegister(_ body: ArraySlice<UInt8>) -> String {
        guard let index = hexNumber(body).map(Int.init) else { return "E01" }
        guard index < Self.registerCount else { return "" }  // not here: gdb marks it unavailable
        guard let values = registerValues() else { return "E01" }
        return Self.encode(values[index], width: Self.width(index))
    }

    /// Sets general registers, rip and rflags (segment selectors are fixed
    /// by the hvt machine: writes to them are ignored).
    func set(_ updates: [(Int, UInt64)]) -> Bool {
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

    static func decode(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    func writeRegisters(_ body: ArraySlice<UInt8>) -> Bool {
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

    func writeRegister(_ body: ArraySlice<UInt8>) -> String {
        let parts = body.split(separator: UInt8(ascii: "="), maxSplits: 1)
        guard parts.count == 2, let index = hexNumber(parts[0]).map(Int.init),
              let bytes = bytesFromHex(Array(parts[1])) else { return "E01" }
        guard index < Self.registerCount else { return "" }
        guard bytes.count == Self.width(index) else { return "E01" }
        return set([(index, Self.decode(bytes[...]))]) ? "OK" : "E01"
    }
}
