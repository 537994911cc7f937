#if canImport(Glibc)
import Glibc
#endif
import CLinux
import Tender

/// `--gdb [--gdb-port=N]`: a gdb remote serial protocol stub on 127.0.0.1.
/// The tender waits for gdb before the guest's first instruction, stops
/// the guest on breakpoints, watchpoints and single steps (debug exits),
/// and tells gdb how the guest ended. Once the guest runs, the policy lets
/// the module read and write its one connection and set the vCPU's
/// registers and debug state, nothing else.
public final class GdbModule: TenderModule {
    public static let name = "gdb"
    public static let usage: String? = "--gdb (optional flag for running in a gdb debug session)\n  [ --gdb-port=1234 ] (port to use) "

    private var enabled = false
    private var port: UInt16 = 1234
    private var stub: GdbStub?

    static let sigtrap: UInt8 = 5, sigsegv: UInt8 = 11

    public init() {}

    public func handleOption(_ option: String, manifest: Manifest) throws(TenderError) -> Bool {
        if option == "--gdb" {
            enabled = true
            return true
        }
        guard option.hasPrefix("--gdb-port=") else { return false }
        // `%d`, as the reference reads it.
        guard let value = ScannedNumber(option.dropFirst("--gdb-port=".count))?.read(as: Int32.self, in: option),
              let port = UInt16(exactly: value) else {
            throw TenderError("Malformed argument to --gdb-port")
        }
        self.port = port
        return true
    }

    public func setup(_ setup: ModuleSetup) throws(TenderError) {
        guard enabled else { return }
        let socket = try Self.accept(port: port)
        let stub = GdbStub(connection: RemoteConnection(socket: socket), vcpu: setup.vcpu, memory: setup.memory)
        self.stub = stub
        // Before the first instruction: gdb asks where we are (`?`).
        setup.registerStartHook { () throws(TenderError) in try stub.stopped(signal: Self.sigtrap, announce: false) }
        try setup.registerDebugHook { event throws(TenderError) in
            try stub.stopped(signal: Self.sigtrap, announce: true, debugStatus: event.dr6)
        }
        setup.registerHaltHook { status, _ in stub.exited(status: status, signal: 0) }
        setup.registerFaultHook { _ in
            // gdb may look at the faulting state first; the run then ends.
            try? stub.stopped(signal: Self.sigsegv, announce: true)
            stub.exited(status: nil, signal: Self.sigsegv)
        }
    }

    public func seccompRules() -> [SeccompRule] {
        guard let stub else { return [] }
        let socket = stub.connection.socket, vcpu = stub.vcpu.fd
        return [
            .on(socket, "read", reason: "packets from gdb"),
            .on(socket, "write", reason: "replies to gdb"),
            .on(vcpu, "ioctl", [.equals(1, UInt64(CKVM_SET_GUEST_DEBUG))],
                reason: "KVM_SET_GUEST_DEBUG: single step, breakpoints, watchpoints"),
            .on(vcpu, "ioctl", [.equals(1, UInt64(CKVM_SET_REGS))], reason: "KVM_SET_REGS: gdb sets registers"),
            .on(vcpu, "ioctl", [.equals(1, UInt64(CKVM_GET_SREGS))], reason: "KVM_GET_SREGS: segment registers for gdb"),
        ]
    }

    /// Listens on 127.0.0.1:`port` and waits for one debugger.
    private static func accept(port: UInt16) throws(TenderError) -> FileDescriptor {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else { throw .system("Could not create socket") }
        defer { close(listener) }
        var one: Int32 = 1
        guard setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw .system("setsockopt(SO_REUSEADDR) failed")
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian  // loopback only
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) }
        }
        guard bound == 0 else { throw .system("bind failed") }
        guard listen(listener, 1) == 0 else { throw .system("listen failed") }
        // Port 0 picks a free port: say which.
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        Diagnostics.warn("Waiting for a debugger. Connect to it like this:")
        Diagnostics.warn("\tgdb --ex=\"target remote localhost:\(UInt16(bigEndian: address.sin_port))\" KERNEL")
        let connection = retryingInterrupts { Int(Glibc.accept(listener, nil, nil)) }
        guard connection >= 0 else { throw .system("accept failed") }
        _ = fcntl(Int32(connection), F_SETFD, FD_CLOEXEC)
        var noDelay: Int32 = 1
        guard setsockopt(Int32(connection), Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw .system("setsockopt(TCP_NODELAY) failed")
        }
        Diagnostics.warn("Connection from debugger at 127.0.0.1")
        return FileDescriptor(rawValue: Int32(connection))
    }
}
