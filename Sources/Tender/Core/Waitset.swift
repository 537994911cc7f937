#if canImport(Glibc)
import Glibc
#endif
import CLinux
import HvtABI

/// The set of descriptors HVT_HYPERCALL_POLL waits on: an epoll instance
/// plus a timerfd for the guest's nanosecond timeout.
final class Waitset {
    let epoll: FileDescriptor
    let timer: FileDescriptor
    private(set) var count = 0
    /// Sized for every manifest entry plus the timer, allocated once so that
    /// a poll allocates nothing.
    private let events: UnsafeMutablePointer<epoll_event>
    private let capacity = Int(MFT_MAX_ENTRIES) + 1
    private static let timerTag = UInt64.max

    init() throws(TenderError) {
        let ep = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard ep >= 0 else { throw .system("Could not create wait set") }
        let tfd = timerfd_create(CLOCK_MONOTONIC, Int32(TFD_NONBLOCK | TFD_CLOEXEC))
        guard tfd >= 0 else { throw .system("Could not create wait set timerfd") }
        epoll = FileDescriptor(rawValue: ep)
        timer = FileDescriptor(rawValue: tfd)
        // SAFETY: `capacity` events; epoll_pwait is never asked for more
        // than count + 1 <= capacity. Never freed (nor the descriptors
        // closed): the waitset lasts until _exit, and the sealed policy
        // has no close.
        events = .allocate(capacity: capacity)
        try watch(timer, tag: Waitset.timerTag)
    }

    func add(_ descriptor: FileDescriptor, handle: Int) throws(TenderError) {
        guard handle >= 0, handle < Int(MFT_MAX_ENTRIES) else {
            throw TenderError("poll handle \(handle) out of range")
        }
        try watch(descriptor, tag: UInt64(handle))
        count += 1
    }

    private func watch(_ descriptor: FileDescriptor, tag: UInt64) throws(TenderError) {
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.u64 = tag
        guard epoll_ctl(epoll.rawValue, EPOLL_CTL_ADD, descriptor.rawValue, &event) == 0 else {
            throw .system("epoll_ctl(EPOLL_CTL_ADD) failed")
        }
    }

    /// Waits until a descriptor is readable or `timeout` nanoseconds pass;
    /// returns the ready handles as a bit set and how many there are.
    func wait(timeout: UInt64) throws(TenderError) -> (readySet: UInt64, ready: Int32) {
        // A zero it_value would disarm the timer and the wait could hang,
        // so the timeout is always at least 1 ns.
        var spec = itimerspec()
        spec.it_value.tv_sec = Int(timeout / 1_000_000_000)
        spec.it_value.tv_nsec = Int(timeout % 1_000_000_000) | 1
        guard timerfd_settime(timer.rawValue, 0, &spec, nil) == 0 else {
            throw .system("timerfd_settime() failed")
        }
        var n: Int32
        repeat {
            n = epoll_pwait(epoll.rawValue, events, Int32(count + 1), -1, nil)
        } while n < 0 && errno == EINTR
        guard n >= 0 else { throw .system("epoll_pwait() failed") }

        var readySet: UInt64 = 0
        var ready: Int32 = 0
        for i in 0..<Int(n) {
            let tag = events[i].data.u64
            if tag == Waitset.timerTag { continue }
            readySet |= 1 << tag
            ready += 1
        }
        return (readySet, ready)
    }
}
