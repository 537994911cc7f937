#if canImport(Glibc)
import Glibc
#endif
import CActivate

/// Seconds on the monotonic clock.
func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// --verbose: a line for every VM started, released and reaped.
nonisolated(unsafe) var verbose = false

/// Seconds as milliseconds with two decimals ("12.05").
func milliseconds(_ seconds: Double) -> String {
    let hundredths = Int((seconds * 100_000).rounded())
    let fraction = hundredths % 100
    return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
}

func errnoText(_ code: Int32) -> String { String(cString: strerror(code)) }

/// The text of a NUL-terminated C string held in an array.
func string(nulTerminated characters: [CChar]) -> String {
    String(decoding: characters.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// One line on standard error, written with one write(2) so lines from
/// several threads do not interleave.
func log(_ message: String) {
    let line = "tender-activate: \(message)\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
}

/// A pthread mutex (Glibc only: no Foundation in the launcher).
final class Lock {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    init() { pthread_mutex_init(mutex, nil) }
    func locked<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}

private final class ThreadBody {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

/// Runs `body` on a new detached thread; false when none could be made.
func startThread(_ body: @escaping () -> Void) -> Bool {
    let box = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    pthread_attr_setstacksize(&attributes, 256 << 10)
    var thread = pthread_t()
    let result = pthread_create(&thread, &attributes, { argument in
        Unmanaged<ThreadBody>.fromOpaque(argument!).takeRetainedValue().run()
        return nil
    }, box)
    pthread_attr_destroy(&attributes)
    if result != 0 {
        Unmanaged<ThreadBody>.fromOpaque(box).release()
        return false
    }
    return true
}

/// An IPv4 address in network order, from dotted decimal.
func parseIPv4(_ text: Substring) -> UInt32? {
    var address = in_addr()
    guard inet_pton(AF_INET, String(text), &address) == 1 else { return nil }
    return address.s_addr
}

func formatIPv4(_ address: UInt32) -> String {
    let a = UInt32(bigEndian: address)
    return "\(a >> 24).\((a >> 16) & 255).\((a >> 8) & 255).\(a & 255)"
}

/// Writes all of `count` bytes to a (blocking) descriptor.
func writeAll(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Bool {
    var done = 0
    while done < count {
        let n = write(fd, bytes + done, count - done)
        if n < 0 && errno == EINTR { continue }
        if n < 0 && errno == EAGAIN {
            var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            _ = poll(&p, 1, 1000)
            continue
        }
        if n <= 0 { return false }
        done += n
    }
    return true
}
