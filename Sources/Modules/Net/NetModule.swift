#if canImport(Glibc)
import Glibc
#endif
import HvtABI
import Tender

/// Networking: `--net:NAME=IFACE` (or `@NN`, a descriptor already open)
/// backs the manifest's NET_BASIC entry NAME with a TAP interface.
/// NET_WRITE sends one Ethernet frame, NET_READ receives one without
/// blocking, and POLL reports the interface ready when a frame is waiting.
public final class NetModule: TenderModule {
    public static let name = "net"
    public static let usage: String? = """
        --net:NAME=IFACE | @NN (attach tap at IFACE or at fd @NN as network NAME)
          [ --net-mac:NAME=HWADDR ] (set HWADDR for network NAME)
        """

    /// The Ethernet header a frame carries on top of the MTU.
    static let headerLength: UInt64 = 14

    typealias MAC = (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)

    /// One attached interface, as the hypercalls and the ring see it.
    struct Device {
        var descriptor: FileDescriptor
        /// MTU + Ethernet header: the largest frame.
        var maxFrame: UInt64

        /// Who writes: the reference words its hypercall's failed writes and
        /// its ring's differently (the words are made only on failure).
        enum Writer {
            case hypercall, ring

            var failed: String { self == .hypercall ? "Fatal error when writing" : "Fatal write error on net device" }
            var short: String { self == .hypercall ? "Fatal error: wrote only" : "Fatal write error: wrote only" }
        }

        /// NET_WRITE: sends the frame of `length` bytes at `data`;
        /// SOLO5_R_EINVAL, sending nothing, for a length that is not a frame.
        func send(_ data: GuestAddress, length: UInt64, in memory: GuestMemory,
                  by writer: Writer) throws(TenderError) -> solo5_result_t {
            guard length >= NetModule.headerLength, length <= maxFrame else { return SOLO5_R_EINVAL }
            let written = try memory.withBytes(at: data, count: length) { bytes in
                retryingInterrupts { write(descriptor.rawValue, bytes.baseAddress, bytes.count) }
            }
            if written < 0 {
                // A frame the interface has no room for is dropped, as on a wire.
                guard errno == EAGAIN || errno == ENOBUFS else { throw .system(writer.failed) }
            } else if UInt64(written) != length {
                throw TenderError("\(writer.short) \(written) out of \(length) bytes")
            }
            return SOLO5_R_OK
        }

        /// NET_READ: receives one frame into the `capacity` bytes at `data`
        /// if one is waiting (SOLO5_R_AGAIN if not); SOLO5_R_EINVAL for a
        /// buffer smaller than the largest frame.
        func receive(_ data: GuestAddress, capacity: UInt64,
                     in memory: GuestMemory) throws(TenderError) -> (result: solo5_result_t, length: UInt64) {
            guard capacity >= maxFrame else { return (SOLO5_R_EINVAL, 0) }
            let read = try memory.withMutableBytes(at: data, count: capacity) { buffer in
                retryingInterrupts { Glibc.read(descriptor.rawValue, buffer.baseAddress, buffer.count) }
            }
            if read > 0 { return (SOLO5_R_OK, UInt64(read)) }
            guard read == 0 || errno == EAGAIN else { throw .system("Fatal error when reading") }
            return (SOLO5_R_AGAIN, 0)
        }
    }

    /// Options, by manifest index, until setup.
    /// Each attached TAP with the IFACE it was given as.
    private var taps: [Int: (interface: String, tap: TapAttach.Attached)] = [:]
    private var macs: [Int: MAC] = [:]
    private var given = LastOneWins()
    /// Attached interfaces by manifest index (= guest handle), built by setup.
    private var devices = DeviceTable<Device>(entries: 0)
    /// The ring I/O thread, when the feature is offered.
    private var ring: NetRing?

    public init() {}

    public func handleOption(_ option: String, manifest: Manifest) throws(TenderError) -> Bool {
        if let option = DeviceOption(option, prefix: "--net:") {
            // One word of at most 19 characters, as the reference's `%19s`.
            let interface = String(option.word(maxLength: 19))
            guard !interface.isEmpty else { return false }
            let index = try manifest.declaredIndex(for: option, type: .netBasic)
            given.record(option)
            // A later option wins. The same IFACE again stays attached as
            // it is (a second attach would find the TAP busy); another one
            // is attached, then the earlier one let go (unless it is the
            // same descriptor).
            if taps[index]?.interface == interface { return true }
            switch TapAttach.attach(interface) {
            case .success(let attached):
                if let earlier = taps[index]?.tap.descriptor, earlier != attached.descriptor { earlier.close() }
                taps[index] = (interface, attached)
                return true
            case .failure(let code):
                // The reference's words, then what ENOENT means here.
                let hint = code.rawValue == ENOENT && !interface.hasPrefix("@")
                    ? " (no such TAP interface: create it with `ip tuntap add \(interface) mode tap' and bring it up)"
                    : ""
                Diagnostics.warn("Could not attach interface: \(interface): \(code)\(hint)")
                throw TenderError("Invalid option: `\(option.text)'")
            }
        }
        if let option = DeviceOption(option, prefix: "--net-mac:") {
            guard let mac = parseMAC(option) else { return false }
            let index = try manifest.declaredIndex(for: option, type: .netBasic)
            given.record(option)
            macs[index] = mac
            return true
        }
        return false
    }

    /// With a device attached, the net ring is reserved above the guest's
    /// memory (as the reference does, whether or not it can be offered).
    public func sharedRegionSize() -> UInt64 {
        taps.isEmpty ? 0 : NetRing.size
    }

    public func setup(_ setup: ModuleSetup) throws(TenderError) {
        guard !taps.isEmpty else { return }
        let manifest = setup.manifest
        devices = DeviceTable(entries: manifest.entries.count)
        for (index, (_, tap)) in taps.sorted(by: { $0.key < $1.key }) {
            var mac = macs[index] ?? (0, 0, 0, 0, 0, 0)
            if mac == (0, 0, 0, 0, 0, 0) { mac = try TapAttach.generateMAC() }
            let mtu = UInt16(clamping: tap.mtu)
            manifest.attach(index, properties: .net(mac: [mac.0, mac.1, mac.2, mac.3, mac.4, mac.5], mtu: mtu))
            devices[index] = Device(descriptor: tap.descriptor, maxFrame: UInt64(mtu) + NetModule.headerLength)
            try setup.registerPollDescriptor(tap.descriptor, handle: index)
        }

        // The handlers capture the table itself: it is complete now.
        let table = devices
        let memory = setup.memory

        let writeResult = GuestMemory.offset(of: \hvt_hc_net_write.ret)
        try setup.registerHypercall(HVT_HYPERCALL_NET_WRITE) { address throws(TenderError) in
            let call = try memory.load(hvt_hc_net_write.self, at: address)
            let result = try table.device(handle: call.handle)?.send(call.data, length: call.len, in: memory, by: .hypercall) ?? SOLO5_R_EINVAL
            try memory.store(Int32(result.rawValue), at: address &+ writeResult)
        }

        let readLength = GuestMemory.offset(of: \hvt_hc_net_read.len)
        let readResult = GuestMemory.offset(of: \hvt_hc_net_read.ret)
        try setup.registerHypercall(HVT_HYPERCALL_NET_READ) { address throws(TenderError) in
            let call = try memory.load(hvt_hc_net_read.self, at: address)
            let received = try table.device(handle: call.handle)?.receive(call.data, capacity: call.len, in: memory)
                ?? (result: SOLO5_R_EINVAL, length: 0)
            if received.result == SOLO5_R_OK { try memory.store(received.length, at: address &+ readLength) }
            try memory.store(Int32(received.result.rawValue), at: address &+ readResult)
        }
        if setup.abi == .v0, let index = manifest.index(of: Manifest.v0NetName, type: .netBasic),
           let device = table[index], case .net(let mac, _) = manifest.entries[index].properties {
            try registerV0Hypercalls(setup, device: device, mac: mac)
        }

        // Ring I/O, when the ring has its region, KVM can signal the kick
        // port without an exit and the ring's thread starts. Otherwise the
        // guest sees no offer and uses the hypercalls (which work either way).
        if let region = setup.sharedRegion,
           let kick = setup.registerPortKick(port: UInt16(HVT_RING_KICK_PIO_BASE)) {
            let ring = NetRing(memory: memory, region: region, devices: table, kick: kick)
            if let code = ring.start() {
                // The reference's warning (it falls back too).
                Diagnostics.warn("pthread_create() failed, falling back to hypercalls: \(code)")
            } else {
                self.ring = ring
                try setup.offerFeature(UInt32(HVT_FEATURE_RING_IO))
                try setup.setBootInfoField(MemoryLayout<hvt_boot_info>.offset(of: \.net_ring)!, to: region.address)
                setup.registerHaltHook { _, _ in ring.stop() }
            }
        }
    }

    public func seccompRules() -> [SeccompRule] {
        devices.attached.flatMap { device in
            [.on(device.descriptor, "read", reason: "NET_READ (hypercall or ring) receives a frame from the tap"),
             .on(device.descriptor, "write", reason: "NET_WRITE (hypercall or ring) sends a frame to the tap")]
        } + (ring?.seccompRules() ?? [])
    }
}

/// `xx:xx:xx:xx:xx:xx` as the reference reads it (`%02hhx:` six times):
/// each octet one or two hex digits after optional white space, a colon
/// right after each but the last; text after the sixth is ignored, with a
/// warning. (sscanf also takes a sign or a `0x` inside an octet's two
/// characters, `+a` or `-1`: no MAC address is written so, and those are
/// refused here.)
private func parseMAC(_ option: DeviceOption) -> NetModule.MAC? {
    let bytes = option.value.utf8
    var i = bytes.startIndex
    var octets: [UInt8] = []
    for n in 0..<6 {
        if n > 0 {
            guard i != bytes.endIndex, bytes[i] == UInt8(ascii: ":") else { return nil }
            i = bytes.index(after: i)
        }
        while i != bytes.endIndex, bytes[i] == 0x20 || (0x09...0x0d).contains(bytes[i]) { i = bytes.index(after: i) }
        var octet: UInt8 = 0, digits = 0
        while digits < 2, i != bytes.endIndex, let digit = hexDigit(bytes[i]) {
            octet = octet << 4 | digit
            digits += 1
            i = bytes.index(after: i)
        }
        guard digits > 0 else { return nil }
        octets.append(octet)
    }
    if i != bytes.endIndex { Diagnostics.warnReadAs(option.text, String(option.text[..<i])) }
    return (octets[0], octets[1], octets[2], octets[3], octets[4], octets[5])
}

private func hexDigit(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
}
