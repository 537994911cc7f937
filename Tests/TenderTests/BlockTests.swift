import Foundation
import Testing

/// The block module on /dev/kvm with the guests blk, blk_persist and
/// mft_maxdevices, backed by files in a per-test temporary directory.
@Suite("Block module")
struct BlockTests {
    /// A file of `size` zero bytes.
    private func image(_ dir: URL, _ name: String = "storage.img", size: Int) throws -> String {
        let path = dir.appendingPathComponent(name).path
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(size))
        try handle.close()
        return path
    }

    /// What blk_persist writes at byte offset `offset` (a multiple of 8):
    /// devices.h's dev_pattern, little-endian.
    private func pattern(_ offset: UInt64, seed: UInt64) -> UInt64 {
        (offset &* 0x9e37_79b9_7f4a_7c15) ^ seed
    }

    private func expectPattern(_ path: String, size: Int, seed: UInt64, _ context: @autoclosure () -> String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(data.count == size, "the backing file keeps its size")
        let wrong = data.withUnsafeBytes { bytes -> Int? in
            stride(from: 0, to: min(bytes.count, size), by: 8).first { offset in
                UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                    != pattern(UInt64(offset), seed: seed)
            }
        }
        #expect(wrong == nil, "data lost at offset \(wrong ?? -1):\n\(context())")
    }

    /// Whole-block I/O across the device at the default and larger block
    /// sizes, and every malformed request (misaligned offset, partial or
    /// empty length, beyond capacity, offset overflow, bad handles) rejected
    /// with SOLO5_R_EINVAL without ending the run.
    @Test(arguments: [nil, 512, 4096, 32768] as [Int?])
    func readWriteVerify(sectorSize: Int?) throws {
        try Harness.requireKVM()
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let size = 128 * 1024
        let path = try image(dir, size: size)
        let sectorOption = sectorSize.map { ["--block-sector-size:storage=\($0)"] } ?? []
        let outcome = try Harness.run(["--mem=32", "--block:storage=\(path)"] + sectorOption + [try Harness.guest("blk")])
        #expect(!outcome.signaled && outcome.status == 0, "\(outcome)")
        #expect(outcome.stdout.contains("blk: capacity \(size) block_size \(sectorSize ?? 512)"), "\(outcome)")
        #expect(outcome.stdout.contains("SUCCESS") && !outcome.output.contains("FAILURE"), "\(outcome)")
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.size] as? NSNumber)?.intValue == size, "writes past the end must not grow the file")
    }

    /// Sector sizes that are not a power of two of at least 512 (as the
    /// reference's 16-bit `%hu` reads them: 65536 is 0, 70000 is 4464) are
    /// refused while reading options.
    @Test(arguments: ["521", "256", "0", "1000", "65536", "70000"])
    func badSectorSize(_ size: String) throws {
        try Harness.requireKVM()
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try image(dir, size: 3 * 521)
        let outcome = try Harness.run(["--mem=32", "--block:storage=\(path)", "--block-sector-size:storage=\(size)",
                                       try Harness.guest("blk")])
        #expect(!outcome.signaled && outcome.status == 1, "\(outcome)")
        // The reference's words, exactly (Solo5's tests "blk odd" and "blk
        // too small" match them), then what they mean.
        #expect(outcome.stderr.hasSuffix("solo5-hvt: Block size must be a multiple of 2 greater than or equal 512\n"
                + "solo5-hvt: Invalid option: `--block-sector-size:storage=\(size)' "
                + "(the sector size must be a power of two: 512, 1024, 2048, ...)\n"), "\(outcome)")
    }

    /// Backing storage that is not a whole number of blocks, or is empty.
    @Test(arguments: [
        (6 * 1024, 4096, "storage: Backing storage size must be block aligned (4096 bytes)"),
        (256, nil, "storage: Backing storage size must be block aligned (512 bytes)"),
        (1000, 512, "storage: Backing storage size must be block aligned (512 bytes)"),
        (0, nil, "storage: Backing storage must be at least 1 block (512 bytes) in size"),
    ] as [(Int, Int?, String)])
    func badBackingSize(size: Int, sectorSize: Int?, message: String) throws {
        try Harness.requireKVM()
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try image(dir, size: size)
        let sectorOption = sectorSize.map { ["--block-sector-size:storage=\($0)"] } ?? []
        let outcome = try Harness.run(["--mem=32", "--block:storage=\(path)"] + sectorOption + [try Harness.guest("blk")])
        #expect(!outcome.signaled && outcome.status == 1, "\(outcome)")
        #expect(outcome.stderr.contains("solo5-hvt: \(message)"), "\(outcome)")
        #expect(!outcome.stdout.contains("blk:"), "the guest must not run:\n\(outcome)")
    }

    /// Option errors: unopenable paths, undeclared names, malformed options.
    @Test func optionErrors() throws {
        try Harness.requireKVM()
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try image(dir, size: 4096)
        let blk = try Harness.guest("blk")
        let cases: [([String], String)] = [
            (["--block:storage=\(dir.path)/missing.img"], "Could not open block device: \(dir.path)/missing.img: No such file or directory"),
            (["--block:storage=\(dir.path)"], "Could not open block device: \(dir.path): Is a directory"),
            (["--block:nosuch=\(path)"], "Resource not declared in manifest: 'nosuch'\n"
                + "solo5-hvt: Invalid option: `--block:nosuch=\(path)' (BLOCK_BASIC devices the manifest declares: 'storage')"),
            (["--block-sector-size:nosuch=4096", "--block:storage=\(path)"], "Resource not declared in manifest: 'nosuch'"),
            // The later one wins, and must open.
            (["--block:storage=\(path)", "--block:storage=\(dir.path)/missing.img"],
             "Could not open block device: \(dir.path)/missing.img: No such file or directory"),
            (["--block:stor-age=\(path)"], "Invalid option: `--block:stor-age=\(path)'"),
            (["--block:storage="], "Invalid option: `--block:storage='"),
            // Read as 4, as the reference reads it.
            (["--block-sector-size:storage=4k", "--block:storage=\(path)"], "Block size must be a multiple of 2 greater than or equal 512"),
            (["--block-sector-size:storage=k4", "--block:storage=\(path)"], "Invalid option: `--block-sector-size:storage=k4'"),
            ([], "Device 'storage' of type BLOCK_BASIC declared but not attached."),
        ]
        for (options, message) in cases {
            let outcome = try Harness.run(["--mem=32"] + options + [blk])
            #expect(!outcome.signaled && outcome.status == 1, "\(options): \(outcome)")
            #expect(outcome.stderr.contains("solo5-hvt: \(message)"), "\(options): \(outcome)")
        }
    }

    /// As in the reference, a later option for the same device wins (a
    /// command line it runs must run): the earlier file is closed unused,
    /// and a warning says which one is used. A sector size is read as its
    /// `%hu` reads it (16 bits, text after the number ignored).
    @Test func laterOptionWins() throws {
        try Harness.requireKVM()
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let small = try image(dir, "small.img", size: 4096), large = try image(dir, "large.img", size: 65536)
        let blk = try Harness.guest("blk")
        let storage = try Harness.run(["--mem=32", "--block:storage=\(small)", "--block:storage=\(large)", blk])
        #expect(storage.status == 0 && storage.stdout.contains("blk: capacity 65536 block_size 512"), "\(storage)")
        #expect(storage.stderr == "solo5-hvt: warning: --block:storage given twice: "
                + "using `--block:storage=\(large)', not `--block:storage=\(small)'\n", "\(storage)")

        let sectors = try Harness.run(["--mem=32", "--block-sector-size:storage=512", "--block-sector-size:storage=4096",
                                       "--block:storage=\(large)", blk])
        #expect(sectors.status == 0 && sectors.stdout.contains("blk: capacity 65536 block_size 4096"), "\(sectors)")
        #expect(sectors.stderr.contains("warning: --block-sector-size:storage given twice: "
                + "using `--block-sector-size:storage=4096', not `--block-sector-size:storage=512'"), "\(sectors)")

        for (value, readAs) in [("66048", "512"), ("4096 bytes", "4096")] {
            let outcome = try Harness.run(["--mem=32", "--block-sector-size:storage=\(value)", "--block:storage=\(large)", blk])
            #expect(outcome.status == 0 && outcome.stdout.contains("block_size \(readAs)"), "\(outcome)")
            #expect(outcome.stderr == "solo5-hvt: warning: `--block-sector-size:storage=\(value)' read as "
                    + "`--block-sector-size:storage=\(readAs)', as Solo5's tender reads it\n", "\(outcome)")
        }
    }

    /// A manifest's most devices, 63, all attached and each its own file.
    @Test func sixtyThreeDevices() throws {
        try Harness.requireKVM()
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var options: [String] = []
        for i in 0..<63 { options.append("--block:storage\(i)=\(try image(dir, "storage\(i).img", size: 4096))") }
        let outcome = try Harness.run(["--mem=32"] + options + [try Harness.guest("mft_maxdevices")])
        #expect(!outcome.signaled && outcome.status == 0, "\(outcome)")
        #expect(outcome.stdout.contains("63 devices attached") && outcome.stdout.contains("SUCCESS"), "\(outcome)")
        for i in 0..<63 {
            let data = try Data(contentsOf: dir.appendingPathComponent("storage\(i).img"))
            #expect(data.prefix(512).allSatisfy { $0 == UInt8(i) } && data.dropFirst(512).allSatisfy { $0 == 0 },
                    "storage\(i).img holds what the guest wrote to storage\(i)")
        }
    }

    /// Everything the guest wrote is in the file after it halts or aborts.
    @Test(arguments: [("halt", Int32(0)), ("abort", Int32(255))])
    func persistsAfterExit(mode: String, status: Int32) throws {
        try Harness.requireKVM()
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let size = 64 * 1024
        let path = try image(dir, size: size)
        let seed: UInt64 = mode == "halt" ? 0x1234 : 0xabcd
        let outcome = try Harness.run(["--mem=32", "--block:storage=\(path)", "--block-sector-size:storage=4096",
                                       try Harness.guest("blk_persist"), mode, "0x" + String(seed, radix: 16)])
        #expect(!outcome.signaled && outcome.status == status, "\(outcome)")
        #expect(outcome.stdout.contains("WRITTEN"), "\(outcome)")
        try expectPattern(path, size: size, seed: seed, "\(outcome)")
    }

    /// ... and after the tender is ended by SIGTERM while the guest waits.
    @Test func persistsAfterSIGTERM() throws {
        try Harness.requireKVM()
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let size = 64 * 1024
        let path = try image(dir, size: size)
        let seed: UInt64 = 0x7e57
        let tender = try Harness.Running(["--mem=32", "--block:storage=\(path)", try Harness.guest("blk_persist"),
                                          "sleep", "0x" + String(seed, radix: 16)], tender: "solo5-hvt")
        // The last word is written last: once it is there, the guest sleeps.
        let deadline = Date().addingTimeInterval(30)
        var written = false
        while !written && Date() < deadline && tender.process.isRunning {
            if let data = FileManager.default.contents(atPath: path), data.count == size {
                written = data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: size - 8, as: UInt64.self) }
                    == pattern(UInt64(size - 8), seed: seed).littleEndian
            }
            if !written { usleep(20_000) }
        }
        usleep(100_000)
        kill(tender.pid, SIGTERM)
        let outcome = tender.wait(timeout: 30)
        #expect(written, "the guest never finished writing:\n\(outcome)")
        #expect(!outcome.signaled && outcome.status == 1, "\(outcome)")
        #expect(outcome.stderr.contains("Exiting on signal 15"), "\(outcome)")
        try expectPattern(path, size: size, seed: seed, "\(outcome)")
    }

    /// --help lists the modules, in the reference's order, with its usage lines.
    @Test func helpListsModules() throws {
        let outcome = try Harness.run(["--help"])
        #expect(outcome.stderr.contains("Compiled-in modules: core console block net \n"), "\(outcome)")
        #expect(outcome.stderr.contains("""
            Compiled-in module options:
                --block:NAME=PATH (attach block device/file at PATH as block storage NAME)
              [ --block-sector-size:NAME=SECTORSIZE ] (set sector size for block device NAME; must be a power of two greater than or equal 512)
                --net:NAME=IFACE | @NN (attach tap at IFACE or at fd @NN as network NAME)
              [ --net-mac:NAME=HWADDR ] (set HWADDR for network NAME)

            """), "\(outcome)")
    }
}
