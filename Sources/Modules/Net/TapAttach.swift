#if canImport(Glibc)
import Glibc
#endif
import CNet
import Tender

/// Opening a Linux TAP interface for the net module.
enum TapAttach {
    /// A TAP descriptor (non-blocking) and the interface's MTU.
    struct Attached {
        var descriptor: FileDescriptor
        var mtu: Int32
    }

    /// The MTU assumed for a passed-in descriptor whose interface cannot be
    /// asked (it is not a tun/tap descriptor).
    static let defaultMTU: Int32 = 1500

    /// Attaches `interface`: an existing TAP interface that is up, or `@NN`,
    /// a descriptor the caller already opened and attached.
    static func attach(_ interface: String) -> Result<Attached, Errno> {
        if interface.hasPrefix("@") {
            return adopt(interface.dropFirst())
        }
        guard interface.utf8.count < Int(IFNAMSIZ) else { return .failure(Errno(ENAMETOOLONG)) }

        let socket: FileDescriptor
        switch querySocket() {
        case .success(let opened): socket = opened
        case .failure(let code): return .failure(code)
        }
        defer { socket.close() }

        // The interface must exist and be up: opening /dev/net/tun with a
        // name that does not exist would create it.
        var flags: Int16 = 0
        guard cnet_if_flags(socket.rawValue, interface, &flags) == 0 else {
            let code = Errno.current
            return .failure(code.rawValue == ENODEV ? Errno(ENOENT) : code)
        }
        guard Int32(flags) & (Int32(IFF_UP) | Int32(IFF_RUNNING)) != 0 else {
            return .failure(Errno(ENETDOWN))
        }

        let descriptor: FileDescriptor
        do { descriptor = try FileDescriptor.open("/dev/net/tun", O_RDWR | O_NONBLOCK) } catch { return .failure(error) }
        var attachedName = [CChar](repeating: 0, count: Int(IFNAMSIZ))
        guard cnet_tun_set_iff(descriptor.rawValue, interface, Int16(IFF_TAP | IFF_NO_PI), &attachedName) == 0 else {
            let code = Errno.current
            descriptor.close()
            return .failure(code)
        }
        // A name like "tap%d" makes the kernel pick another device: refuse it.
        guard interfaceName(attachedName) == interface else {
            descriptor.close()
            return .failure(Errno(EINVAL))
        }

        var mtu: Int32 = 0
        guard cnet_if_mtu(socket.rawValue, interface, &mtu) == 0 else {
            let code = Errno.current
            descriptor.close()
            return .failure(code)
        }
        disableOffloads(interface, socket: socket)
        return .success(Attached(descriptor: descriptor, mtu: mtu))
    }

    /// `@NN`: a descriptor passed in by whoever started us. It must be a
    /// decimal number in range and accept O_NONBLOCK.
    private static func adopt(_ digits: Substring) -> Result<Attached, Errno> {
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            return .failure(Errno(EINVAL))
        }
        guard let number = Int32(digits) else { return .failure(Errno(ERANGE)) }
        let descriptor = FileDescriptor(rawValue: number)
        guard fcntl(number, F_SETFL, O_NONBLOCK) != -1 else { return .failure(.current) }

        // Ask the interface behind a tun/tap descriptor for its MTU.
        var name = [CChar](repeating: 0, count: Int(IFNAMSIZ))
        guard cnet_tun_get_iff(number, &name) == 0 else {
            return .success(Attached(descriptor: descriptor, mtu: defaultMTU))
        }
        guard case .success(let socket) = querySocket() else {
            return .success(Attached(descriptor: descriptor, mtu: defaultMTU))
        }
        defer { socket.close() }
        let interface = interfaceName(name)
        var mtu: Int32 = 0
        if cnet_if_mtu(socket.rawValue, interface, &mtu) != 0 { mtu = defaultMTU }
        disableOffloads(interface, socket: socket)
        return .success(Attached(descriptor: descriptor, mtu: mtu))
    }

    /// A NUL-terminated interface name as the kernel fills it in.
    private static func interfaceName(_ bytes: [CChar]) -> String {
        String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func querySocket() -> Result<FileDescriptor, Errno> {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        return fd < 0 ? .failure(.current) : .success(FileDescriptor(rawValue: fd))
    }

    /// Turns GRO and GSO off (best effort): without a virtio-net header the
    /// kernel would otherwise hand us aggregated frames larger than the MTU.
    private static func disableOffloads(_ interface: String, socket: FileDescriptor) {
        for command in [UInt32(ETHTOOL_SGRO), UInt32(ETHTOOL_SGSO)] {
            _ = cnet_if_ethtool_set(socket.rawValue, interface, command, 0)
        }
    }

    /// A random, locally administered unicast MAC address.
    static func generateMAC() throws(TenderError) -> (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) {
        let random = try FileDescriptor.open("/dev/urandom", O_RDONLY, kind: .any, failure: "Could not open /dev/urandom")
        defer { random.close() }
        var mac: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0)
        let count = withUnsafeMutableBytes(of: &mac) { Glibc.read(random.rawValue, $0.baseAddress, $0.count) }
        guard count == 6 else { throw .system("Could not read /dev/urandom") }
        mac.0 = (mac.0 & 0xfe) | 0x02
        return mac
    }
}
