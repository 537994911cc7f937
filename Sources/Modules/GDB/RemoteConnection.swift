#if canImport(Glibc)
import Glibc
#endif
import Tender

/// One gdb connection speaking the remote serial protocol's framing:
/// `$payload#checksum`, acknowledged with `+` (or `-` to ask again).
final class RemoteConnection {
    let socket: FileDescriptor
    /// The largest payload accepted (advertised as PacketSize).
    static let maxPacket = 4096
    private var input = [UInt8](repeating: 0, count: 4096)
    private var start = 0, end = 0

    enum Received {
        case packet([UInt8])
        /// Too long, or not a packet: answered with an error reply.
        case malformed
        /// gdb's interrupt byte (0x03).
        case interrupt
        case closed
    }

    init(socket: FileDescriptor) { self.socket = socket }

    private func nextByte() -> UInt8? {
        if start == end {
            let n = retryingInterrupts { input.withUnsafeMutableBytes { read(socket.rawValue, $0.baseAddress, $0.count) } }
            guard n > 0 else { return nil }
            (start, end) = (0, n)
        }
        defer { start += 1 }
        return input[start]
    }

    /// The next packet, acknowledged; a packet with a bad checksum is
    /// refused with `-` (gdb sends it again).
    func receive() -> Received {
        while true {
            guard let first = nextByte() else { return .closed }
            switch first {
            case UInt8(ascii: "$"): break
            case 0x03: return .interrupt
            default: continue  // acks and noise between packets
            }
            var payload = [UInt8]()
            var sum: UInt8 = 0
            var oversized = false
            while true {
                guard let byte = nextByte() else { return .closed }
                if byte == UInt8(ascii: "#") { break }
                sum &+= byte
                if payload.count < Self.maxPacket { payload.append(byte) } else { oversized = true }
            }
            guard let high = nextByte(), let low = nextByte() else { return .closed }
            guard let h = hexValue(high), let l = hexValue(low), h << 4 | l == sum else {
                // The reference's warning, its checksum read as its int
                // arithmetic reads it (a non-hex digit counts as -1).
                let sent = (hexValue(high).map(Int32.init) ?? -1) << 4 + (hexValue(low).map(Int32.init) ?? -1)
                Diagnostics.warn("Failed checksum from GDB. My count = \(hex(sum)), sent=\(hex(UInt32(bitPattern: sent))). "
                    + "buf=\(String(decoding: payload, as: UTF8.self))")
                _ = writeAll("-")
                continue
            }
            _ = writeAll("+")
            return oversized ? .malformed : .packet(payload)
        }
    }

    /// Sends `payload` framed; waits for gdb's `+` when `acknowledged`.
    @discardableResult
    func send(_ payload: String, acknowledged: Bool = true) -> Bool {
        var sum: UInt8 = 0
        for byte in payload.utf8 { sum &+= byte }
        let frame = "$" + payload + "#" + hexByte(sum)
        for _ in 0..<5 {
            guard writeAll(frame) else { return false }
            guard acknowledged else { return true }
            while true {
                guard let reply = nextByte() else { return false }
                if reply == UInt8(ascii: "+") { return true }
                if reply == UInt8(ascii: "-") { break }
            }
        }
        return false
    }

    private func writeAll(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            if case .success = socket.writeAll(UnsafeRawBufferPointer(bytes)) { return true }
            return false
        }
    }
}

func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
    default: return nil
    }
}

private let digits = Array("0123456789abcdef".utf8)

func hexByte(_ byte: UInt8) -> String {
    String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 15)]], as: UTF8.self)
}

/// Bytes as lowercase hex, two digits each.
func hexBytes<C: Collection<UInt8>>(_ bytes: C) -> String {
    var out = [UInt8]()
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes { out.append(digits[Int(byte >> 4)]); out.append(digits[Int(byte & 15)]) }
    return String(decoding: out, as: UTF8.self)
}

/// Hex digits to bytes; nil when odd or not hex.
func bytesFromHex<C: Collection<UInt8>>(_ text: C) -> [UInt8]? where C.Index == Int {
    guard text.count % 2 == 0 else { return nil }
    var out = [UInt8]()
    out.reserveCapacity(text.count / 2)
    var i = text.startIndex
    while i < text.endIndex {
        guard let h = hexValue(text[i]), let l = hexValue(text[i + 1]) else { return nil }
        out.append(h << 4 | l)
        i += 2
    }
    return out
}

/// A hex number (as in `m ADDR,LEN`), at most 16 digits.
func hexNumber<C: Collection<UInt8>>(_ text: C) -> UInt64? {
    guard !text.isEmpty, text.count <= 16 else { return nil }
    var value: UInt64 = 0
    for byte in text {
        guard let digit = hexValue(byte) else { return nil }
        value = value << 4 | UInt64(digit)
    }
    return value
}
