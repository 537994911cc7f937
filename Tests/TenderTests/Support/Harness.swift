import Foundation
import Testing

/// Runs the real, built tenders on the real /dev/kvm with guests of our kit.
enum Harness {
    /// Where `swift build` put our executables: next to the test bundle.
    static let productsDirectory: URL = {
        if let dir = ProcessInfo.processInfo.environment["TENDER_PRODUCTS"] { return URL(fileURLWithPath: dir) }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }()

    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func executable(_ name: String) -> String { productsDirectory.appendingPathComponent(name).path }

    /// The guest kit, built once per test run into the products directory.
    static let guestDirectory: Result<URL, GuestBuildError> = {
        let out = productsDirectory.appendingPathComponent("guests")
        let make = Process()
        make.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        make.arguments = ["make", "-s", "-C", packageRoot.appendingPathComponent("Tests/Guests").path, "OUT=\(out.path)", "-j2"]
        let pipe = Pipe()
        make.standardOutput = pipe
        make.standardError = pipe
        do { try make.run() } catch { return .failure(GuestBuildError(log: "could not run make: \(error)")) }
        let log = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        make.waitUntilExit()
        return make.terminationStatus == 0 ? .success(out) : .failure(GuestBuildError(log: log))
    }()

    struct GuestBuildError: Error, CustomStringConvertible {
        var log: String
        var description: String { "building the guest kit failed:\n\(log)" }
    }

    /// The path of guest `name`.hvt.
    static func guest(_ name: String) throws -> String {
        try guestDirectory.get().appendingPathComponent("\(name).hvt").path
    }

    /// KVM tests fail, never skip, when there is no KVM.
    static func requireKVM() throws {
        try #require(FileManager.default.fileExists(atPath: "/dev/kvm"),
                     "/dev/kvm is missing: the KVM integration tests need a host with KVM")
    }

    static var isKVMPVM: Bool { FileManager.default.fileExists(atPath: "/sys/module/kvm_pvm") }

    struct Outcome: CustomStringConvertible {
        var status: Int32
        /// True when the tender was killed by a signal (status is the signal).
        var signaled: Bool
        var stdout: String
        var stderr: String
        var output: String { stdout + stderr }
        var description: String { "status \(signaled ? "signal " : "")\(status)\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)" }
    }

    /// A tender running in the background.
    // The reader threads write outData/errData; wait() reads them after group.wait().
    final class Running: @unchecked Sendable {
        let process = Process()
        private let out = Pipe(), err = Pipe()
        private var outData = Data(), errData = Data()
        private let group = DispatchGroup()

        convenience init(_ arguments: [String], tender: String) throws {
            try self.init(program: Harness.executable(tender), arguments)
        }

        /// Runs any program the same way (e.g. `ip netns exec NS TENDER ...`),
        /// in `directory` if given.
        init(program: String, _ arguments: [String], directory: URL? = nil) throws {
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = arguments
            if let directory { process.currentDirectoryURL = directory }
            process.standardOutput = out
            process.standardError = err
            process.standardInput = FileHandle.nullDevice
            try process.run()
            for (pipe, keyPath) in [(out, \Running.outData), (err, \Running.errData)] {
                group.enter()
                DispatchQueue.global().async {
                    let data = pipe.fileHandleForReading.readDataToEndOfFile()
                    self[keyPath: keyPath] = data
                    self.group.leave()
                }
            }
        }

        var pid: Int32 { process.processIdentifier }

        /// Waits for the exit, killing the tender after `timeout` seconds.
        func wait(timeout: Double = 60) -> Outcome {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { usleep(2_000) }
            if process.isRunning { kill(pid, SIGKILL) }
            process.waitUntilExit()
            group.wait()
            return Outcome(status: process.terminationStatus,
                           signaled: process.terminationReason == .uncaughtSignal,
                           stdout: String(decoding: outData, as: UTF8.self),
                           stderr: String(decoding: errData, as: UTF8.self))
        }
    }

    /// Runs `tender` with `arguments` to completion.
    static func run(_ arguments: [String], tender: String = "solo5-hvt", timeout: Double = 60) throws -> Outcome {
        try Running(arguments, tender: tender).wait(timeout: timeout)
    }

    /// Runs `program` (an absolute path) with `arguments` to completion.
    static func run(program: String, _ arguments: [String], timeout: Double = 60) throws -> Outcome {
        try Running(program: program, arguments).wait(timeout: timeout)
    }

    /// Tests that send traffic through a tender (ping floods) take turns:
    /// on two cores, two floods at once starve each other's guests and
    /// pings time out. Swift Testing runs suites in parallel, so the lock is
    /// process-wide.
    private static let trafficLock = NSLock()

    static func takingTurns<R>(_ body: () throws -> R) rethrows -> R {
        trafficLock.lock()
        defer { trafficLock.unlock() }
        return try body()
    }

    /// A fresh temporary directory for one test.
    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tender-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}
