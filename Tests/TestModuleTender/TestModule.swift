#if canImport(Glibc)
import Glibc
#endif
import CLinux
import HvtABI
import Tender

/// Exercises the module API: options, a hypercall of its own, a poll
/// descriptor and a halt hook.
///
///   --test:halt-message=TEXT  print "test: halt status=N TEXT" when the guest halts
///   --test:claim-puts         also claim PUTS (a startup error: Console owns it)
///   --test:ready              register an always-readable descriptor as handle 0
///   --test:syscall=open:PATH  on BLOCK_WRITE, open(PATH, O_CREAT) — outside the policy
///   --test:syscall=write-null on BLOCK_WRITE, write to /dev/null (opened at setup)
///                             — an allowed syscall on a descriptor no rule names
///   --test:syscall=lazy-global on BLOCK_WRITE, a thread started at setup makes the
///                             first use of a lazily initialized global (Swift
///                             runs its initializer then) and reports its value
///   --test:region=BYTES       share a region of BYTES with the guest; at setup,
///                             store and load back its first word and print
///                             "test: region at ADDRESS, BYTES bytes, word W"
///
/// It serves NET_WRITE (no Net module here): it checks the guest's buffer and
/// prints "test: net_write N bytes".
/// A global whose first use comes after the policy is sealed: Swift runs
/// its initializer then, through swift_once, whose slow path asks the
/// kernel for the thread's id (gettid).
let firstUsedAfterSeal: [Int] = (1...4).map { $0 * $0 }

final class TestModule: TenderModule {
    static let name = "test"
    static let usage: String? = "[ --test:halt-message=TEXT ] [ --test:claim-puts ] [ --test:ready ] (test-only module)"

    private var haltMessage: String?
    private var claimPuts = false
    private var ready = false
    private var syscall: String?
    private var regionSize: UInt64 = 0
    private var lazyGlobal: LazyGlobalThread?

    init() {}

    func handleOption(_ option: String, manifest: Manifest) throws(TenderError) -> Bool {
        if option.hasPrefix("--test:halt-message=") {
            haltMessage = String(option.dropFirst("--test:halt-message=".count))
        } else if option == "--test:claim-puts" {
            claimPuts = true
        } else if option == "--test:ready" {
            ready = true
        } else if option.hasPrefix("--test:region="), let size = UInt64(option.dropFirst("--test:region=".count)) {
            regionSize = size
        } else if option.hasPrefix("--test:syscall=") {
            syscall = String(option.dropFirst("--test:syscall=".count))
        } else {
            return false
        }
        return true
    }

    func sharedRegionSize() -> UInt64 { regionSize }

    func setup(_ setup: ModuleSetup) throws(TenderError) {
        let memory = setup.memory
        if let region = setup.sharedRegion {
            try region.storeRelease(0x7e57, at: 0)
            let word = try region.loadAcquire(0)
            Diagnostics.writeStandardError("test: region at 0x\(String(region.address, radix: 16)), \(region.size) bytes, word \(word)\n")
        }
        try setup.registerHypercall(HVT_HYPERCALL_NET_WRITE) { address throws(TenderError) in
            var call = try memory.load(hvt_hc_net_write.self, at: address)
            let count = try memory.withBytes(at: call.data, count: call.len) { $0.count }
            Diagnostics.writeStandardError("test: net_write \(count) bytes\n")
            call.ret = Int32(SOLO5_R_OK.rawValue)
            try memory.store(call, at: address)
        }
        if claimPuts {
            try setup.registerHypercall(HVT_HYPERCALL_PUTS) { _ throws(TenderError) in }
        }
        if ready {
            let fd = eventfd(1, Int32(EFD_CLOEXEC))
            guard fd >= 0 else { throw TenderError.system("test: eventfd failed") }
            try setup.registerPollDescriptor(FileDescriptor(rawValue: fd), handle: 0)
        }
        if syscall == "lazy-global" { lazyGlobal = try LazyGlobalThread() }
        if let syscall {
            let null = open("/dev/null", O_WRONLY | O_CLOEXEC)
            try setup.registerHypercall(HVT_HYPERCALL_BLOCK_WRITE) { _ throws(TenderError) in
                if syscall.hasPrefix("open:") {
                    let fd = open(String(syscall.dropFirst(5)), O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
                    Diagnostics.writeStandardError("test: open returned \(fd)\n")
                } else if let lazyGlobal = self.lazyGlobal {
                    Diagnostics.writeStandardError("test: lazy global \(lazyGlobal.ask())\n")
                } else {
                    let n = write(null, "x", 1)
                    Diagnostics.writeStandardError("test: write returned \(n)\n")
                }
            }
        }
        if let message = haltMessage {
            setup.registerHaltHook { status, cookie in
                Diagnostics.writeStandardError("test: halt status=\(status) cookie=\(cookie == nil ? "none" : "set") \(message)\n")
            }
        }
    }

    func seccompRules() -> [SeccompRule] {
        [SeccompRule("write", [.equals(0, 2)], reason: "test: reports to stderr")] + (lazyGlobal?.rules ?? [])
    }
}

/// A thread that waits (from before the seal) for a request, then makes
/// the first use of `firstUsedAfterSeal` and answers with its sum: what the
/// Swift runtime does on its own in a thread other than the main one, once
/// the policy is sealed.
final class LazyGlobalThread {
    private let request: (read: Int32, write: Int32)
    private let reply: (read: Int32, write: Int32)

    init() throws(TenderError) {
        var first: [Int32] = [0, 0], second: [Int32] = [0, 0]
        guard pipe(&first) == 0, pipe(&second) == 0 else { throw TenderError.system("test: pipe failed") }
        request = (first[0], first[1])
        reply = (second[0], second[1])
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        guard pthread_create(&thread, nil, { context in
            let this = Unmanaged<LazyGlobalThread>.fromOpaque(context!).takeUnretainedValue()
            var byte: UInt8 = 0
            _ = write(this.reply.write, &byte, 1)  // started (glibc's own start-up syscalls done)
            _ = read(this.request.read, &byte, 1)
            var sum = UInt8(firstUsedAfterSeal.reduce(0, +))
            _ = write(this.reply.write, &sum, 1)
            while true { _ = read(this.request.read, &byte, 1) }
        }, context) == 0 else { throw TenderError("test: pthread_create failed") }
        var byte: UInt8 = 0
        guard read(reply.read, &byte, 1) == 1 else { throw TenderError.system("test: the thread did not start") }
    }

    /// The thread's answer (called after the seal).
    func ask() -> Int {
        var byte: UInt8 = 1
        _ = write(request.write, &byte, 1)
        guard read(reply.read, &byte, 1) == 1 else { return -1 }
        return Int(byte)
    }

    var rules: [SeccompRule] {
        [.on(FileDescriptor(rawValue: request.write), "write", reason: "test: ask the thread"),
         .on(FileDescriptor(rawValue: request.read), "read", reason: "test: the thread waits"),
         .on(FileDescriptor(rawValue: reply.write), "write", reason: "test: the thread answers"),
         .on(FileDescriptor(rawValue: reply.read), "read", reason: "test: the answer")]
    }
}
