import Foundation
import Testing

/// A directory, a FIFO or a device given where a file belongs: refused
/// before anything reads it, with a message naming what it is.
@Suite("Hostile file kinds")
struct HostileFileKindTests {
    /// A directory, a FIFO (with no writer: a plain open would hang) and a
    /// character device, each with the reason the tender must give.
    static func specialFiles(in directory: URL) throws -> [(path: String, reason: String)] {
        let subdirectory = directory.appendingPathComponent("dir")
        try FileManager.default.createDirectory(at: subdirectory, withIntermediateDirectories: false)
        let fifo = directory.appendingPathComponent("fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        return [(subdirectory.path, "Is a directory"),
                (fifo, "Is a FIFO (named pipe), not a regular file"),
                ("/dev/null", "Is a character device, not a regular file")]
    }

    @Test func kernelMustBeARegularFile() throws {
        let directory = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for (path, reason) in try Self.specialFiles(in: directory) {
            let outcome = try Harness.run(["--mem=2", path], timeout: 10)
            #expect(!outcome.signaled && outcome.status == 1, "\(path): \(outcome)")
            #expect(outcome.stderr == "solo5-hvt: \(path): Could not open: \(reason)\n", "\(outcome)")
        }
    }

    @Test func blockFileMustBeARegularFileOrBlockDevice() throws {
        try Harness.requireKVM()
        let directory = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for (path, reason) in try Self.specialFiles(in: directory) {
            let outcome = try Harness.run(["--mem=32", "--block:storage=\(path)", try Harness.guest("blk")], timeout: 10)
            #expect(!outcome.signaled && outcome.status == 1, "\(path): \(outcome)")
            #expect(outcome.stderr == "solo5-hvt: Could not open block device: \(path): \(reason)\n", "\(outcome)")
        }
    }

    /// The kind check must not change how a regular file is opened: the
    /// block file stays blocking (the handlers rely on full preads).
    @Test func regularBlockFileStillWorks() throws {
        try Harness.requireKVM()
        let directory = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let disk = directory.appendingPathComponent("disk").path
        #expect(FileManager.default.createFile(atPath: disk, contents: Data(count: 65536)))
        let outcome = try Harness.run(["--mem=32", "--block:storage=\(disk)", try Harness.guest("blk")])
        #expect(outcome.status == 0 && outcome.stdout.contains("SUCCESS"), "\(outcome)")
    }

    /// A block device stays a valid backing store (a loop device over a
    /// file here), as with the reference.
    @Test func blockDeviceIsAccepted() throws {
        try Harness.requireKVM()
        let directory = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let image = directory.appendingPathComponent("loop.img").path
        #expect(FileManager.default.createFile(atPath: image, contents: Data(count: 65536)))
        let attach = try Harness.run(program: "/sbin/losetup", ["--find", "--show", image])
        try #require(attach.status == 0, "a loop device is needed (root, /dev/loop-control): \(attach)")
        let device = attach.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        defer { _ = try? Harness.run(program: "/sbin/losetup", ["--detach", device]) }
        let outcome = try Harness.run(["--mem=32", "--block:storage=\(device)", try Harness.guest("blk")])
        #expect(outcome.status == 0 && outcome.stdout.contains("blk: capacity 65536 block_size 512"), "\(outcome)")
    }
}
