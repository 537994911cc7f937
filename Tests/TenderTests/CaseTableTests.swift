import Foundation
import Testing

/// One line of Tests/Guests/cases.txt: the integration cases shared with the
/// real-KVM stage (scripts/realkvm runs the same table inside a nested VM).
struct GuestCase: CustomTestStringConvertible, Sendable {
    var name: String
    var environment: String
    var status: Int32
    var expectations: [String]
    var arguments: [String]
    /// The optional 6th field: a shell command run alongside the tender.
    var with: String? = nil

    var testDescription: String { name }

    static let file = Harness.packageRoot.appendingPathComponent("Tests/Guests/cases.txt")

    static func parse(_ text: String) -> [GuestCase] {
        text.split(separator: "\n").compactMap { line -> GuestCase? in
            let line = String(line)
            guard !line.isEmpty, !line.hasPrefix("#") else { return nil }
            // Fields are split at "|" and trimmed; `with` is the rest of
            // the line (it may hold "|" itself).
            let fields = line.split(separator: "|", maxSplits: 5, omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count >= 5, let status = Int32(fields[2]) else {
                return GuestCase(name: "malformed: \(line)", environment: "any", status: -1, expectations: [], arguments: [])
            }
            let with = fields.count > 5 && !fields[5].isEmpty ? fields[5] : nil
            return GuestCase(name: fields[0], environment: fields[1], status: status,
                             expectations: fields[3].split(separator: ";")
                                 .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty },
                             arguments: fields[4].split(separator: " ").map(String.init),
                             with: with)
        }
    }

    static let all: [GuestCase] = parse((try? String(contentsOf: file, encoding: .utf8)) ?? "")

    /// Whether the case applies on this host.
    var applies: Bool {
        switch environment {
        case "pvm": Harness.isKVMPVM
        case "real": !Harness.isKVMPVM
        // Written for scripts/realkvm's bed (its paths, busybox nc): not here.
        case "nested": false
        default: true
        }
    }

    /// Whether every `{...}` placeholder of the arguments is well-formed.
    var placeholdersAreWellFormed: Bool {
        (try? arguments.map { try CaseRun.scan($0) }) != nil
    }
}

@Suite("Guest cases (Tests/Guests/cases.txt) on /dev/kvm")
struct CaseTableTests {
    @Test func tableIsWellFormed() {
        #expect(GuestCase.all.count >= 30)
        #expect(GuestCase.all.allSatisfy { !$0.name.hasPrefix("malformed") && ["any", "pvm", "real", "nested"].contains($0.environment) })
        #expect(Set(GuestCase.all.map(\.name)).count == GuestCase.all.count, "case names are unique")
        for guestCase in GuestCase.all {
            #expect(guestCase.placeholdersAreWellFormed, "\(guestCase.name): bad placeholder in \(guestCase.arguments)")
        }
    }

    @Test func placeholders() throws {
        #expect(try CaseRun.scan("--block:storage={disk:4096}") == [.text("--block:storage="), .placeholder(.disk(bytes: 4096))])
        #expect(try CaseRun.scan("{hello}") == [.placeholder(.guest("hello"))])
        #expect(try CaseRun.taps(in: ["--net:a={tap1}", "--net:b={tap0:mtu=9000}", "x{tap1:mtu=4000}"])
                == [CaseRun.Tap(index: 1, mtu: 4000), CaseRun.Tap(index: 0, mtu: 9000)])
        for bad in ["{tap4}", "{tap}", "{tap0:mtu=x}", "{tap0:speed=1}", "{disk:}", "{disk:-1}", "{a b}", "{hello"] {
            #expect(throws: CaseRun.PlaceholderError.self, "\(bad)") { try CaseRun.scan(bad) }
        }
        let parsed = GuestCase.parse("n | any | 0 | a; !b | x {y} | echo 1 | cat")
        #expect(parsed.count == 1 && parsed[0].with == "echo 1 | cat" && parsed[0].arguments == ["x", "{y}"]
                && parsed[0].expectations == ["a", "!b"])
        let empty = GuestCase.parse("n | any | 0 | | x |")
        #expect(empty.count == 1 && empty[0].with == nil && empty[0].expectations.isEmpty && empty[0].arguments == ["x"])
    }

    @Test(arguments: GuestCase.all.filter(\.applies))
    func guestCase(_ guestCase: GuestCase) throws {
        try Harness.requireKVM()
        if guestCase.with != nil {
            try Harness.takingTurns { try run(guestCase) }
        } else {
            try run(guestCase)
        }
    }

    private func run(_ guestCase: GuestCase) throws {
        let run = try CaseRun(arguments: guestCase.arguments, needsNamespace: guestCase.with != nil)
        defer { run.close() }
        let tender = try run.startTender()
        let with = try guestCase.with.map { try run.startWith($0, after: tender) }
        let outcome = tender.wait(timeout: 60)
        // Once the tender has exited, `with` gets 5 s more (as in the runner).
        let withOutcome = with?.wait(timeout: 5)
        let report = "\(outcome)" + (withOutcome.map { "\n--- with: \(guestCase.with ?? "")\n\($0)" } ?? "")
        #expect(!outcome.signaled && outcome.status == guestCase.status, "\(report)")
        if let withOutcome {
            #expect(!withOutcome.signaled && withOutcome.status == 0, "the with command failed:\n\(report)")
        }
        for item in guestCase.expectations {
            if item.hasPrefix("!") {
                #expect(!outcome.output.contains(item.dropFirst()), "must not print \(item.dropFirst()):\n\(report)")
            } else {
                #expect(outcome.output.contains(item), "must print \(item):\n\(report)")
            }
        }
    }
}
