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
    var softwareBreakpoints: [UInt64: UInt8] = [:]
    /// DR0-DR3 slots: address, and DR7 type (0 exec, 1 write, 3 access) and length bits.
    var hardwareSlots: [(address: UInt64, kind: UInt64, length: UInt64)?] = [nil, nil, nil, nil]
    var attached = true

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
            case .interrupt: continue  // already stopped
            case .malformed: connection.send("E01")
            case .packet(let packet):
                if let resume = try serve(packet, signal: signal) {
                    try arm(step: resume == .step)
                    return
                }
            }
        }
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

}
