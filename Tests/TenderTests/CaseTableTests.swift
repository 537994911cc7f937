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

    var testDescription: String { name }

    static let file = Harness.packageRoot.appendingPathComponent("Tests/Guests/cases.txt")

    static func parse(_ text: String) -> [GuestCase] {
        text.split(separator: "\n").compactMap { line -> GuestCase? in
            let line = String(line)
            guard !line.isEmpty, !line.hasPrefix("#") else { return nil }
            let fields = line.components(separatedBy: " | ")
            guard fields.count == 5, let status = Int32(fields[2]) else {
                return GuestCase(name: "malformed: \(line)", environment: "any", status: -1, expectations: [], arguments: [])
            }
            return GuestCase(name: fields[0], environment: fields[1], status: status,
                             expectations: fields[3].split(separator: ";").map(String.init),
                             arguments: fields[4].split(separator: " ").map(String.init))
        }
    }

    static let all: [GuestCase] = parse((try? String(contentsOf: file, encoding: .utf8)) ?? "")

    /// Whether the case applies on this host.
    var applies: Bool {
        switch environment {
        case "pvm": Harness.isKVMPVM
        case "real": !Harness.isKVMPVM
        default: true
        }
    }

    /// `{NAME}` → path of guest NAME.hvt.
    func resolvedArguments() throws -> [String] {
        try arguments.map { word in
            guard word.hasPrefix("{"), word.hasSuffix("}") else { return word }
            return try Harness.guest(String(word.dropFirst().dropLast()))
        }
    }
}

@Suite("Guest cases (Tests/Guests/cases.txt) on /dev/kvm")
struct CaseTableTests {
    @Test func tableIsWellFormed() {
        #expect(GuestCase.all.count >= 30)
        #expect(GuestCase.all.allSatisfy { !$0.name.hasPrefix("malformed") && ["any", "pvm", "real"].contains($0.environment) })
        #expect(Set(GuestCase.all.map(\.name)).count == GuestCase.all.count, "case names are unique")
    }

    @Test(arguments: GuestCase.all.filter(\.applies))
    func guestCase(_ guestCase: GuestCase) throws {
        try Harness.requireKVM()
        let outcome = try Harness.run(try guestCase.resolvedArguments())
        #expect(!outcome.signaled && outcome.status == guestCase.status, "\(outcome)")
        for item in guestCase.expectations {
            if item.hasPrefix("!") {
                #expect(!outcome.output.contains(item.dropFirst()), "must not print \(item.dropFirst()):\n\(outcome)")
            } else {
                #expect(outcome.output.contains(item), "must print \(item):\n\(outcome)")
            }
        }
    }
}
