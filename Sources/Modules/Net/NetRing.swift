#if canImport(Glibc)
import Glibc
#endif
import CNet
import HvtABI
import Synchronization
import Tender

/// Ring I/O (HVT_FEATURE_RING_IO): a host thread moves frames between the
/// guest's `struct hvt_ring` (hvt_ring.h) and the TAP interfaces, so that a
/// guest sends and receives without an exit per frame. The guest kicks it
/// with an `outl` to HVT_RING_KICK_PIO_BASE, which KVM turns into an
/// eventfd signal (KVM_IOEVENTFD) without leaving the guest.
///
/// The guest may write anything into the ring at any time, so the thread:
/// - keeps its own `ent_head` and `com_tail` and only ever stores them
///   (what the guest writes into those words is ignored);
/// - loads `ent_tail` once per batch (acquire) and rejects one that is more
///   than HVT_RING_SIZE entries ahead of its `ent_head` (or behind it);
/// - loads each entry's fields once, then validates the copy: operation,
///   handle (an attached net device), length (the hypercall path's limits)
///   and the data range (inside the guest's memory, without overflow).
///
/// What an invalid entry does:
/// - an entry that names a bad operation, handle or length is consumed and
///   does nothing, except a NET_READ, which commits SOLO5_R_EINVAL (len 0):
///   a reader waits for its commit, a writer has no commit to get;
/// - a data range outside guest memory, a `ent_tail` out of range, or a
///   `com_head` that leaves no free commit slot (or is ahead of `com_tail`)
///   ends the tender: a message on stderr and exit status 1, as an invalid
///   address in a hypercall does. No access ever leaves guest memory.
///
/// The thread shares no Swift state with the vCPU thread: only guest memory
/// (the ring through its SharedRegion's atomic accessors), its stop flag,
/// and the tap descriptors, which the NET_READ/NET_WRITE hypercalls also use
/// (the kernel hands each frame to one reader). No locks.
final class NetRing {
    private let memory: GuestMemory
    private let ring: SharedRegion
    private let devices: DeviceTable<NetModule.Device>
    private let kick: FileDescriptor

    /// Offsets of the ring's words in its region (struct hvt_ring), worked
    /// out once per ring: static lets would be reached through swift_once
    /// at every entry.
    private struct Offsets {
        let entTail = offset(\.ent_tail), comHead = offset(\.com_head), entHead = offset(\.ent_head)
        let comTail = offset(\.com_tail), needsKick = offset(\.needs_kick)
        let entries = UInt64(HVT_RING_ENTRIES_OFFSET), commits = UInt64(HVT_RING_COMMITS_OFFSET)
        private static func offset(_ field: PartialKeyPath<hvt_ring>) -> UInt64 {
            UInt64(MemoryLayout<hvt_ring>.offset(of: field)!)
        }
    }
    private let offsets = Offsets()

    /// The host's own indices: the truth, whatever the ring says.
    private var entHead: UInt32 = 0
    private var comTail: UInt32 = 0

    /// Set by the halt hook; the thread drains the ring and ends.
    private let stopFlag = Atomic<Bool>(false)
    /// Set by the thread once it runs, before seccomp is sealed.
    private let readyFlag = Atomic<Bool>(false)
    private var thread = pthread_t()

    /// How long the thread polls the ring before it sleeps, when it polls
    /// at all. Bounded by time, read from the vDSO clock, not by a count of
    /// pauses, whose cost varies ~10x across CPUs.
    static let spinWindow: UInt64 = 20_000  // ns
    /// A sleep the guest ends sooner than this (ns) says it submits in quick
    /// succession: the next wait polls first.
    static let quickWake: UInt64 = 50_000
    /// Whether the next wait polls before it sleeps. A poll that finds
    /// nothing turns polling off until a sleep ends quickly again: when the
    /// thread shares a CPU with the vCPU thread, the guest cannot submit
    /// while it polls, so it polls at most once in vain (a pause count of
    /// 65536, ~1.35 ms here, made a ping flood 2-3x slower than the
    /// reference on a busy host). With one usable CPU it never polls.
    private var polling = false
    private let mayPoll = cnet_usable_cpus() > 1

    static let size = UInt64(MemoryLayout<hvt_ring>.size)
    private static let ringSize = UInt32(HVT_RING_SIZE)
    private static let entryStride = UInt64(MemoryLayout<hvt_ring_entry>.stride)
    private static let commitStride = UInt64(MemoryLayout<hvt_ring_commit>.stride)

    init(memory: GuestMemory, region: SharedRegion, devices: DeviceTable<NetModule.Device>, kick: FileDescriptor) {
        self.memory = memory
        self.ring = region
        self.devices = devices
        self.kick = kick
    }

    /// Starts the thread and waits until it runs (its start-up system calls
    /// must happen before the policy is sealed); the error if it cannot.
    func start() -> Errno? {
        let context = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(&thread, nil, { context in
            let ring = Unmanaged<NetRing>.fromOpaque(context!).takeRetainedValue()
            ring.run()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<NetRing>.fromOpaque(context).release()
            return Errno(rc)
        }
        while !readyFlag.load(ordering: .acquiring) { sched_yield() }
        return nil
    }

    /// The halt hook: lets the thread send what the guest submitted before
    /// it halted, then waits for it to end.
    func stop() {
        stopFlag.store(true, ordering: .releasing)
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { write(kick.rawValue, $0.baseAddress, 8) }
        pthread_join(thread, nil)
    }

    /// The system calls the thread makes once the policy is sealed, and the
    /// ones the halt hook makes to stop it.
    func seccompRules() -> [SeccompRule] {
        [
            .on(kick, "read", reason: "the ring thread sleeps until the guest kicks"),
            .on(kick, "write", reason: "the halt hook wakes the ring thread to stop it"),
            SeccompRule("rt_sigprocmask", [.equals(0, UInt64(SIG_BLOCK))],
                        reason: "the ring thread blocks signals as it ends (glibc)"),
            SeccompRule("exit", reason: "the ring thread ends"),
            SeccompRule("clock_gettime", reason: "the ring thread times its polls (normally answered by the vDSO)"),
        ]
    }

    private var stopping: Bool { stopFlag.load(ordering: .acquiring) }

    private func run() {
        // A first allocation here gives this thread its malloc arena now,
        // while mmap and mprotect are still allowed.
        let warm = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 8)
        warm.deallocate()
        readyFlag.store(true, ordering: .releasing)
        do {
            try serve()
        } catch {
            // Which thread failed, after the message (which may be the
            // reference's words).
            Diagnostics.warn("\(error.message) (net ring)")
            _exit(1)
        }
    }

    private func serve() throws(TenderError) {
        while true {
            if try !pollRing() {
                if stopping { return try process() }
                // Ask for a kick, then look again: the guest may have
                // submitted before it could see the request.
                try ring.storeRelaxed(1, at: offsets.needsKick)
                ring.fullBarrier()
                if try ring.loadAcquire(offsets.entTail) == entHead && !stopping {
                    let asleep = monotonicNanoseconds()
                    var count: UInt64 = 0
                    let n = withUnsafeMutableBytes(of: &count) { read(kick.rawValue, $0.baseAddress, 8) }
                    if n < 0 && errno != EINTR { throw .system("Fatal error when waiting for a ring kick") }
                    polling = mayPoll && monotonicNanoseconds() &- asleep < NetRing.quickWake
                }
                try ring.storeRelaxed(0, at: offsets.needsKick)
            }
            try process()
        }
    }

    /// Polls the ring for a submission for up to `spinWindow` if polling is
    /// on; true if one came.
    private func pollRing() throws(TenderError) -> Bool {
        guard polling else { return false }
        let start = monotonicNanoseconds()
        repeat {
            // ~1 us of pauses between two reads of the clock.
            for _ in 0..<32 {
                if try ring.loadAcquire(offsets.entTail) != entHead { return true }
                cnet_cpu_relax()
            }
        } while !stopping && monotonicNanoseconds() &- start < NetRing.spinWindow
        polling = false
        return false
    }

    /// Serves every entry submitted so far.
    private func process() throws(TenderError) {
        let tail = try ring.loadAcquire(offsets.entTail)
        let submitted = tail &- entHead
        guard submitted <= NetRing.ringSize else {
            throw TenderError("guest's ent_tail \(tail) is \(Int32(bitPattern: submitted)) entries from ent_head "
                              + "\(entHead) (ring size \(NetRing.ringSize))")
        }
        var published = entHead
        while entHead != tail {
            let slot = offsets.entries + UInt64(entHead & UInt32(HVT_RING_MASK)) * NetRing.entryStride
            // One load of each field: the guest may be rewriting them.
            let operation = try ring.loadRelaxed(slot)
            let handle = try ring.loadRelaxed(slot + 4)
            let data = try ring.loadRelaxed64(slot + 8)
            let length = try ring.loadRelaxed(slot + 16)
            let id = try ring.loadRelaxed(slot + 20)

            switch operation {
            case UInt32(HVT_RING_NET_WRITE):
                // A write has no commit: a bad handle or length just sends nothing.
                _ = try devices.device(handle: UInt64(handle))?
                    .send(data, length: UInt64(length), in: memory, by: .ring)
                entHead &+= 1
            case UInt32(HVT_RING_NET_READ):
                let (result, received) = try devices.device(handle: UInt64(handle))?
                    .receive(data, capacity: UInt64(length), in: memory) ?? (SOLO5_R_EINVAL, 0)
                // The length fits: it is at most the guest's 32-bit capacity.
                try commit(id: id, result: result, length: UInt32(truncatingIfNeeded: received))
                entHead &+= 1
                try ring.storeRelease(entHead, at: offsets.entHead)
                published = entHead
            default:
                // Unknown: consumed, nothing done (no commit to report it in).
                entHead &+= 1
            }
        }
        // Writes: one release of ent_head for the batch, after every frame
        // was handed to the kernel, so the guest may reuse their buffers.
        if published != entHead { try ring.storeRelease(entHead, at: offsets.entHead) }
    }

    /// Posts a commit for a NET_READ.
    private func commit(id: UInt32, result: solo5_result_t, length: UInt32) throws(TenderError) {
        let head = try ring.loadAcquire(offsets.comHead)
        guard comTail &- head < NetRing.ringSize else {
            throw TenderError("guest's com_head \(head) leaves no free commit slot (com_tail \(comTail))")
        }
        let slot = offsets.commits + UInt64(comTail & UInt32(HVT_RING_MASK)) * NetRing.commitStride
        try ring.storeRelaxed(id, at: slot)
        try ring.storeRelaxed(UInt32(bitPattern: Int32(result.rawValue)), at: slot + 4)
        try ring.storeRelaxed(length, at: slot + 8)
        comTail &+= 1
        try ring.storeRelease(comTail, at: offsets.comTail)
    }
}


/// CLOCK_MONOTONIC in nanoseconds (the vDSO: no system call).
private func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
}
