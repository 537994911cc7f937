import Foundation
import Testing

/// A directory, a FIFO or a device given where a file belongs: refused
/// before anything reads it, with a message naming what it is (after the
/// reference's words, where its own reading fails the same way every time).
@Suite("Hostile file kinds")
struct HostileFileKindTests {
    /// A directory, a FIFO (with no writer: a plain open would hang) and a
    /// character device, each with the message the tender must give as
    /// KERNEL and as backing storage.
    static func specialFiles(in directory: URL) throws -> [(path: String, kernel: String, block: String)] {
        let subdirectory = directory.appendingPathComponent("dir").path
        try FileManager.default.createDirectory(atPath: subdirectory, withIntermediateDirectories: false)
        let fifo = directory.appendingPathComponent("fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        return [
            // The reference reads a directory as KERNEL, and fails (printing its -1 unsigned).
            (subdirectory, "\(subdirectory): pread_in_full for elf header while loading note returned 18446744073709551615 < 0: Is a directory",
             "Could not open block device: \(subdirectory): Is a directory"),
            (fifo, "\(fifo): Could not open: Is a FIFO (named pipe), not a regular file",
             // The reference opens a FIFO as storage and cannot seek it.
             "\(fifo): Could not determine capacity: Illegal seek (Is a FIFO (named pipe), not a regular file)"),
            ("/dev/null", "/dev/null: Could not open: Is a character device, not a regular file",
             "Could not open block device: /dev/null: Is a character device, not a regular file"),
        ]
    }

    @Test func kernelMustBeARegularFile() throws {
        let directory = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for (path, message, _) in try Self.specialFiles(in: directory) {
            let outcome = try Harness.run(["--mem=2", path], timeout: 10)
            #expect(!outcome.signaled && outcome.status == 1, "\(path): \(outcome)")
            #expect(outcome.stderr == "solo5-hvt: \(message)\n", "\(outcome)")
        }
    }

    @Test func blockFileMustBeARegularFileOrBlockDevice() throws {
        try Harness.requireKVM()
        let directory = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for (path, _, message) in try Self.specialFiles(in: directory) {
            let outcome = try Harness.run(["--mem=32", "--block:storage=\(path)", try Harness.guest("blk")], timeout: 10)
            #expect(!outcome.signaled && outcome.status == 1, "\(path): \(outcome)")
            #expect(outcome.stderr == "solo5-hvt: \(message)\n", "\(outcome)")
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
