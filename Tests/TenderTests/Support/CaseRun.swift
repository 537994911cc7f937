import Foundation
import Testing

/// What one case of Tests/Guests/cases.txt needs around the tender: the
/// resources its `{...}` placeholders name (guests, fresh disk images, TAP
/// interfaces in a network namespace of its own) and its background `with`
/// command. scripts/realkvm-runner.sh does the same inside the nested VM.
final class CaseRun {
    /// A TAP placeholder `{tapN}` / `{tapN:mtu=M}`: interface tapN, host side
    /// 10.N.0.1/24.
    struct Tap: Equatable {
        var index: Int
        var mtu: Int?
        var name: String { "tap\(index)" }
        var address: String { "10.\(index).0.1" }
    }

    struct PlaceholderError: Error, CustomStringConvertible {
        var description: String
    }

    /// One `{...}` placeholder, parsed.
    enum Placeholder: Equatable {
        case guest(String)
        case disk(bytes: Int)
        case tap(Tap)

        init(_ text: String) throws {
            if text.hasPrefix("disk:") {
                guard let bytes = Int(text.dropFirst("disk:".count)), bytes >= 0 else {
                    throw PlaceholderError(description: "bad disk placeholder {\(text)}: want {disk:BYTES}")
                }
                self = .disk(bytes: bytes)
            } else if text.hasPrefix("tap") {
                let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                guard let index = Int(parts[0].dropFirst(3)), (0...3).contains(index), parts[0].count == 4 else {
                    throw PlaceholderError(description: "bad tap placeholder {\(text)}: want {tapN}, N = 0..3")
                }
                var tap = Tap(index: index)
                if parts.count == 2 {
                    for option in parts[1].split(separator: ",", omittingEmptySubsequences: false) {
                        guard option.hasPrefix("mtu="), let mtu = Int(option.dropFirst(4)), mtu > 0 else {
                            throw PlaceholderError(description: "bad tap option '\(option)' in {\(text)}: want mtu=BYTES")
                        }
                        tap.mtu = mtu
                    }
                }
                self = .tap(tap)
            } else {
                guard !text.isEmpty, text.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                    throw PlaceholderError(description: "bad placeholder {\(text)}")
                }
                self = .guest(text)
            }
        }
    }

    /// Splits `word` into literal text and placeholders.
    static func scan(_ word: String) throws -> [Either] {
        var pieces: [Either] = []
        var rest = Substring(word)
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}") else {
                throw PlaceholderError(description: "unclosed placeholder in '\(word)'")
            }
            if open > rest.startIndex { pieces.append(.text(String(rest[..<open]))) }
            pieces.append(.placeholder(try Placeholder(String(rest[rest.index(after: open)..<close]))))
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { pieces.append(.text(String(rest))) }
        return pieces
    }

    enum Either: Equatable {
        case text(String)
        case placeholder(Placeholder)
    }

    /// The TAPs `arguments` name (each once; the last MTU given wins).
    static func taps(in arguments: [String]) throws -> [Tap] {
        var taps: [Tap] = []
        for word in arguments {
            for case .placeholder(.tap(let tap)) in try scan(word) {
                if let i = taps.firstIndex(where: { $0.index == tap.index }) {
                    if tap.mtu != nil { taps[i].mtu = tap.mtu }
                } else {
                    taps.append(tap)
                }
            }
        }
        return taps
    }

    let directory: URL
    private(set) var namespace: NetNamespace?
    private(set) var arguments: [String] = []
    private var disks = 0

    /// Prepares everything `arguments` name; a namespace is made when the
    /// case has TAPs or a `with` command. Call `close()` afterwards.
    init(arguments raw: [String], needsNamespace: Bool) throws {
        // A first word "urunc" starts the tender with urunc-exec (the rest
        // are its arguments); a word naming the debug tender runs it
        // instead of solo5-hvt.
        var raw = raw
        if raw.first == "urunc" { raw.removeFirst(); asUrunc = true }
        if raw.first == "solo5-hvt-debug" { tender = raw.removeFirst() }
        directory = try Harness.temporaryDirectory()
        do {
            let taps = try CaseRun.taps(in: raw)
            if !taps.isEmpty || needsNamespace {
                let ns = try NetNamespace()
                namespace = ns
                for tap in taps { try ns.addTap(tap.name, address: tap.address, mtu: tap.mtu) }
                tapNames = taps.map(\.name)
            }
            arguments = try raw.map { word in
                try CaseRun.scan(word).map { piece -> String in
                    switch piece {
                    case .text(let text): return text
                    case .placeholder(.guest(let name)): return try Harness.guest(name)
                    case .placeholder(.tap(let tap)): return tap.name
                    case .placeholder(.disk(let bytes)): return try makeDisk(bytes)
                    }
                }.joined()
            }
        } catch {
            close()
            throw error
        }
    }

    private func makeDisk(_ bytes: Int) throws -> String {
        let path = directory.appendingPathComponent("disk\(disks).img").path
        disks += 1
        try #require(FileManager.default.createFile(atPath: path, contents: nil), "cannot create \(path)")
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(bytes))
        try handle.close()
        return path
    }

    /// The tender the case runs.
    private(set) var tender = "solo5-hvt"
    /// Whether urunc-exec starts it (`arguments` are then urunc-exec's).
    private(set) var asUrunc = false

    /// Starts the tender (inside the namespace, if any).
    func startTender() throws -> Harness.Running {
        let command = asUrunc ? [Harness.executable("urunc-exec"), "--tender=\(Harness.executable(tender))"] + arguments
            : [Harness.executable(tender)] + arguments
        if let namespace { return try namespace.spawn(command) }
        return try Harness.Running(program: command[0], Array(command.dropFirst()))
    }

    /// Starts `command` with /bin/sh inside the namespace, in the case's
    /// directory: after `delay` seconds and once every TAP has carrier
    /// (or `tender` has exited).
    func startWith(_ command: String, after tender: Harness.Running, delay: Double = 1,
                   carrierTimeout: Double = 10) throws -> Harness.Running {
        usleep(UInt32(delay * 1_000_000))
        if let namespace {
            let deadline = Date().addingTimeInterval(carrierTimeout)
            for tap in tapNames {
                while tender.process.isRunning && Date() < deadline && !namespace.hasCarrier(tap) { usleep(20_000) }
            }
            return try Harness.Running(program: NetNamespace.ip, ["netns", "exec", namespace.name, "/bin/sh", "-c", command],
                                       directory: directory)
        }
        return try Harness.Running(program: "/bin/sh", ["-c", command], directory: directory)
    }

    /// The TAP interfaces made for the case.
    private(set) var tapNames: [String] = []

    /// Ends what is left of the case: processes in its namespace, the
    /// namespace with its TAPs, the disk images.
    func close() {
        namespace?.killAll()
        namespace?.delete()
        namespace = nil
        try? FileManager.default.removeItem(at: directory)
    }
}
