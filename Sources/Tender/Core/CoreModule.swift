#if canImport(Glibc)
import Glibc
#endif
import HvtABI

/// The hypercalls every guest has: wall-clock time and poll. (HALT ends the
/// run loop, so the loop serves it itself.)
final class CoreModule: TenderModule {
    static let name = "core"
    private var waitset: Waitset?
    private var startGate: StartGate?

    init() {}

    func handleOption(_ option: String, manifest: Manifest) throws(TenderError) -> Bool {
        guard let gate = try StartGate.parse(option) else { return false }
        startGate = gate
        return true
    }

    // The handlers hold what they use themselves: the module object need not
    // outlive setup.
    func setup(_ setup: ModuleSetup) throws(TenderError) {
        let memory = setup.memory
        let waitset = setup.waitset
        self.waitset = waitset
        if let gate = startGate { setup.registerStartHook { () throws(TenderError) in try gate.wait() } }
        try setup.registerHypercall(HVT_HYPERCALL_WALLTIME) { address throws(TenderError) in
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            // (A host clock set before 1970 reads as 1970, not as a trap.)
            let nanoseconds = UInt64(max(now.tv_sec, 0)) &* 1_000_000_000 &+ UInt64(max(now.tv_nsec, 0))
            try memory.store(hvt_hc_walltime(nsecs: nanoseconds), at: address)
        }
        try setup.registerHypercall(HVT_HYPERCALL_POLL) { address throws(TenderError) in
            var call = try memory.load(hvt_hc_poll.self, at: address)
            let result = try waitset.wait(timeout: call.timeout_nsecs)
            call.ready_set = result.readySet
            call.ret = result.ready
            try memory.store(call, at: address)
        }
        // Before 0.6, POLL reports only how many devices are ready.
        let v0PollResult = GuestMemory.offset(of: \hvt_v0_hc_poll.ret)
        try setup.registerHypercall(HVT_V0_HYPERCALL_POLL) { address throws(TenderError) in
            let call = try memory.load(hvt_v0_hc_poll.self, at: address)
            try memory.store(try waitset.wait(timeout: call.timeout_nsecs).ready, at: address &+ v0PollResult)
        }
    }

    func seccompRules() -> [SeccompRule] {
        guard let waitset else { return [] }
        return [
            SeccompRule("clock_gettime", reason: "WALLTIME (normally answered by the vDSO)"),
            .on(waitset.timer, "timerfd_settime", reason: "POLL arms its timeout"),
            .on(waitset.epoll, "epoll_pwait", reason: "POLL waits for devices or the timeout"),
        ] + (startGate.map { [$0.seccompRule] } ?? [])
    }
}
