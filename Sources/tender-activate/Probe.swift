#if canImport(Glibc)
import Glibc
#endif
import CActivate

/// Whether a guest listens on its port, asked without a connection its
/// application could see: a half-open TCP handshake. The launcher sends a
/// SYN (a hand-made segment on the VM's tap, from a port it holds bound so
/// that no connection of its own can use it); a listening guest answers
/// SYN-ACK, and the launcher ends it with a RST before any ACK. Guest
/// stacks hand a connection to the application only once the handshake's
/// ACK arrives, so the application never hears of the probe. (The host's
/// own stack also answers the SYN-ACK, which matches no socket of it, with
/// a RST; that one may leave by another VM's tap when VMs share addresses,
/// where no connection has its ports.) A RST instead means the port is
/// closed (the stack is up but the application not listening yet);
/// silence, that the guest is not answering yet.
struct ReadinessProbe {
    enum Answer { case listening, closed, silent }

    private let packets: Int32
    private let interfaceIndex: Int32
    /// Holds the source port: no other socket of the host may take it.
    private let portHolder: Int32
    private let sourcePort: UInt16
    private let hostAddress: UInt32
    private let guestAddress: UInt32
    private let guestPort: UInt16
    private let guestMAC: [UInt8]

    /// Addresses in network order, the port in host order.
    init(tap: String, hostAddress: UInt32, guestAddress: UInt32, guestPort: UInt16, guestMAC: [UInt8]) throws(ProbeError) {
        var index: Int32 = 0
        let packets = act_packet_open(tap, &index)
        guard packets >= 0 else { throw ProbeError("a packet socket on \(tap): \(errnoText(-packets))") }
        let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = socketAddress(hostAddress, 0)
        let bound = holder >= 0 && withSocketAddress(address, { bind(holder, $0, $1) == 0 })
            && withMutableSocketAddress(&address) { getsockname(holder, $0, $1) == 0 }
        guard bound else {
            let error = errno
            Glibc.close(packets)
            if holder >= 0 { Glibc.close(holder) }
            throw ProbeError("holding a probe port: \(errnoText(error))")
        }
        self.packets = packets
        interfaceIndex = index
        portHolder = holder
        sourcePort = UInt16(bigEndian: address.sin_port)
        self.hostAddress = hostAddress
        self.guestAddress = guestAddress
        self.guestPort = guestPort
        self.guestMAC = guestMAC
    }

    func close() {
        Glibc.close(packets)
        Glibc.close(portHolder)
    }

    /// One SYN, and the guest's answer within `timeout` seconds.
    func ask(timeout: Double) -> Answer {
        let sequence = UInt32.random(in: 0...UInt32.max)
        guard send(flags: Segment.syn, sequence: sequence, acknowledgement: 0) else {
            // (The tap may be gone with its tender: no answer, and no busy loop.)
            var pause = timespec(tv_sec: 0, tv_nsec: Int(timeout * 1e9))
            nanosleep(&pause, nil)
            return .silent
        }
        let deadline = now() + timeout
        var buffer = [UInt8](repeating: 0, count: 2048)
        while case let left = deadline - now(), left > 0 {
            var p = pollfd(fd: packets, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, Int32(max(1, left * 1000))) > 0 else { continue }
            while case let n = recv(packets, &buffer, buffer.count, Int32(MSG_DONTWAIT)), n > 0 {
                guard let reply = Segment(buffer[..<n]), reply.source == guestAddress, reply.destination == hostAddress,
                      reply.sourcePort == guestPort, reply.destinationPort == sourcePort,
                      reply.acknowledgement == sequence &+ 1 else { continue }
                if reply.flags & Segment.rst != 0 { return .closed }
                if reply.flags & (Segment.syn | Segment.ack) == Segment.syn | Segment.ack {
                    _ = send(flags: Segment.rst, sequence: sequence &+ 1, acknowledgement: 0)
                    return .listening
                }
            }
        }
        return .silent
    }

    private func send(flags: UInt8, sequence: UInt32, acknowledgement: UInt32) -> Bool {
        let packet = Segment.make(source: hostAddress, destination: guestAddress, sourcePort: sourcePort,
                                  destinationPort: guestPort, sequence: sequence, acknowledgement: acknowledgement, flags: flags)
        return packet.withUnsafeBytes { act_packet_send(packets, interfaceIndex, guestMAC, $0.baseAddress, $0.count) } == 0
    }
}

struct ProbeError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// The few fields of an IPv4 TCP segment the probe writes and reads
/// (addresses in network order, the rest in host order).
struct Segment {
    static let syn: UInt8 = 0x02, rst: UInt8 = 0x04, ack: UInt8 = 0x10

    var source: UInt32
    var destination: UInt32
    var sourcePort: UInt16
    var destinationPort: UInt16
    var acknowledgement: UInt32
    var flags: UInt8

    /// Parses an IPv4 packet; nil unless it is a whole TCP segment.
    init?(_ packet: ArraySlice<UInt8>) {
        let p = Array(packet)
        guard p.count >= 40, p[0] >> 4 == 4, p[9] == 6 else { return nil }
        let ipHeader = Int(p[0] & 15) * 4
        let total = Int(Segment.read16(p, 2))
        guard ipHeader >= 20, total <= p.count, total >= ipHeader + 20 else { return nil }
        source = UInt32(bigEndian: Segment.read32(p, 12))
        destination = UInt32(bigEndian: Segment.read32(p, 16))
        sourcePort = Segment.read16(p, ipHeader)
        destinationPort = Segment.read16(p, ipHeader + 2)
        acknowledgement = Segment.read32(p, ipHeader + 8)
        flags = p[ipHeader + 13]
    }

    /// A 40-byte IPv4 packet holding a TCP segment with no options or data.
    static func make(source: UInt32, destination: UInt32, sourcePort: UInt16, destinationPort: UInt16,
                     sequence: UInt32, acknowledgement: UInt32, flags: UInt8) -> [UInt8] {
        var p = [UInt8](repeating: 0, count: 40)
        p[0] = 0x45
        write16(&p, 2, 40)
        write16(&p, 6, 0x4000) // don't fragment
        p[8] = 64
        p[9] = 6
        write32(&p, 12, UInt32(bigEndian: source))
        write32(&p, 16, UInt32(bigEndian: destination))
        write16(&p, 10, checksum(p[0..<20]))
        write16(&p, 20, sourcePort)
        write16(&p, 22, destinationPort)
        write32(&p, 24, sequence)
        write32(&p, 28, acknowledgement)
        p[32] = 5 << 4
        p[33] = flags
        write16(&p, 34, 65535)
        // The TCP checksum covers a pseudo header: both addresses, the protocol, the length.
        let pseudo = Array(p[12..<20]) + [0, 6, 0, 20]
        write16(&p, 36, checksum(pseudo + p[20..<40]))
        return p
    }

    static func checksum<C: Collection>(_ bytes: C) -> UInt16 where C.Element == UInt8 {
        var sum: UInt32 = 0
        var high = true
        for byte in bytes {
            sum += high ? UInt32(byte) << 8 : UInt32(byte)
            high.toggle()
        }
        while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
        return ~UInt16(sum)
    }

    private static func read16(_ p: [UInt8], _ at: Int) -> UInt16 { UInt16(p[at]) << 8 | UInt16(p[at + 1]) }
    private static func read32(_ p: [UInt8], _ at: Int) -> UInt32 { UInt32(read16(p, at)) << 16 | UInt32(read16(p, at + 2)) }
    private static func write16(_ p: inout [UInt8], _ at: Int, _ value: UInt16) {
        p[at] = UInt8(value >> 8)
        p[at + 1] = UInt8(truncatingIfNeeded: value)
    }
    private static func write32(_ p: inout [UInt8], _ at: Int, _ value: UInt32) {
        write16(&p, at, UInt16(value >> 16))
        write16(&p, at + 2, UInt16(truncatingIfNeeded: value))
    }
}
