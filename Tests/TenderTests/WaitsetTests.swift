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

    @Test func closedDescriptorIsRefused() throws {
        let waitset = try Waitset()
        let (reader, writer) = try pipe()
        reader.close(); writer.close()
        #expect(throws: TenderError.self) { try waitset.add(reader, handle: 1) }
    }
}
