import Glibc
import HvtABI
import Testing
@testable import Tender

/// The descriptors HVT_HYPERCALL_POLL waits on, with real pipes.
@Suite("Waitset (unit)")
struct WaitsetTests {
    /// A pipe: (read end, write end).
    func pipe() throws -> (FileDescriptor, FileDescriptor) {
        var fds: [Int32] = [0, 0]
        try #require(Glibc.pipe(&fds) == 0)
        return (FileDescriptor(rawValue: fds[0]), FileDescriptor(rawValue: fds[1]))
    }

    func send(_ byte: UInt8, to descriptor: FileDescriptor) {
        var byte = byte
        #expect(write(descriptor.rawValue, &byte, 1) == 1)
    }

    @Test func timeoutWithNothingReady() throws {
        let waitset = try Waitset()
        let (reader, writer) = try pipe()
        defer { reader.close(); writer.close() }
        try waitset.add(reader, handle: 1)
        let result = try waitset.wait(timeout: 1_000_000)
        #expect(result.readySet == 0 && result.ready == 0)
        // A zero timeout returns too (the timer is never disarmed).
        #expect(try waitset.wait(timeout: 0).ready == 0)
    }

    @Test func readyDescriptorsAreReportedByHandle() throws {
        let waitset = try Waitset()
        let (reader1, writer1) = try pipe(), (reader2, writer2) = try pipe(), (reader3, writer3) = try pipe()
        defer { for fd in [reader1, writer1, reader2, writer2, reader3, writer3] { fd.close() } }
        try waitset.add(reader1, handle: 1)
        try waitset.add(reader2, handle: 5)
        try waitset.add(reader3, handle: 63)
        #expect(waitset.count == 3)
        send(1, to: writer2)
        send(1, to: writer3)
        let result = try waitset.wait(timeout: 5_000_000_000)
        #expect(result.readySet == UInt64(1) << 5 | UInt64(1) << 63)
        #expect(result.ready == 2)
    }

    @Test(arguments: [-1, Int(MFT_MAX_ENTRIES)])
    func handlesOutsideTheManifestAreRefused(_ handle: Int) throws {
        let waitset = try Waitset()
        let (reader, writer) = try pipe()
        defer { reader.close(); writer.close() }
        #expect(throws: TenderError.self) { try waitset.add(reader, handle: handle) }
        #expect(waitset.count == 0)
    }

    /// A descriptor that was open and is closed. Its number must stay
    /// closed while the test runs, and tests run in parallel in this
    /// process: a number just closed is the lowest free one, the next that
    /// any thread's open, pipe or socket gets. So the pipe's read end is
    /// moved to the highest number the process may have (below the
    /// RLIMIT_NOFILE soft limit, at most 65535) and closed there: the kernel
    /// hands that number out again only when every lower one is open, or
    /// when asked for it by number (dup2 or F_DUPFD), which nothing else in
    /// the test process does with a number that high.
    @Test func closedDescriptorIsRefused() throws {
        let waitset = try Waitset()
        let (reader, writer) = try pipe()
        defer { reader.close(); writer.close() }
        var limit = rlimit()
        try #require(getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0)
        let highest = Int32(min(limit.rlim_cur, 1 << 16) - 1)
        try #require(highest > 2, "RLIMIT_NOFILE is \(limit.rlim_cur)")
        let moved = fcntl(reader.rawValue, F_DUPFD_CLOEXEC, highest)
        try #require(moved == highest, "could not move the pipe to descriptor \(highest): \(moved)")
        try #require(close(moved) == 0)
        let closed = FileDescriptor(rawValue: highest)
        try #require(fcntl(highest, F_GETFD) == -1 && errno == EBADF, "descriptor \(highest) is open again")
        #expect(throws: TenderError.self) { try waitset.add(closed, handle: 1) }
        #expect(waitset.count == 0)
    }
}
