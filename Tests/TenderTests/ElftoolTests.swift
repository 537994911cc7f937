import Foundation
import HvtABI
import Testing

/// solo5-elftool query-abi / query-manifest: the JSON Solo5's elftool
/// prints (checked byte for byte against its v0.12.1 build on our guests;
/// the expectations below are that output). The built executable runs on
/// crafted images, written as `k` in a directory of their own.
@Suite("solo5-elftool")
struct ElftoolTests {
    /// An image to run the executable on.
    struct Image {
        var builder: ElfBuilder
    }

    func elf(_ builder: ElfBuilder) -> Image { Image(builder: builder) }

    /// `solo5-elftool COMMAND k`: its stdout, or its stderr as a TenderError.
    func run(_ command: String, _ image: Image) throws -> Harness.Outcome {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(image.builder.bytes()).write(to: dir.appendingPathComponent("k"))
        return try Harness.Running(program: Harness.executable("solo5-elftool"), [command, "k"], directory: dir).wait()
    }

    /// What query-abi / query-manifest print, or the error line they exit 1 with.
    enum ElfTool {
        static func abiJSON(_ image: Image) throws -> String { try output(ElftoolTests().run("query-abi", image)) }
        static func manifestJSON(_ image: Image) throws -> String { try output(ElftoolTests().run("query-manifest", image)) }

        static func output(_ outcome: Harness.Outcome) throws -> String {
            guard outcome.status == 0, outcome.stderr.isEmpty else {
                #expect(outcome.status == 1 && outcome.stdout.isEmpty && outcome.stderr.hasPrefix("solo5-elftool: ")
                        && outcome.stderr.hasSuffix("\n"), "\(outcome)")
                throw ElftoolFailure(message: String(outcome.stderr.dropFirst("solo5-elftool: ".count).dropLast()))
            }
            return outcome.stdout
        }
    }

    struct ElftoolFailure: Error { var message: String }

    func manifest(_ entries: [(String, UInt32)]) -> ElfBuilder {
        var builder = ElfBuilder()
        builder.notes[1] = ElfBuilder.manifestNote(
            [ElfBuilder.manifestEntry(name: "", type: MFT_RESERVED_FIRST.rawValue)]
                + entries.map { ElfBuilder.manifestEntry(name: $0.0, type: $0.1) })
        return builder
    }

    @Test func abi() throws {
        #expect(try ElfTool.abiJSON(elf(ElfBuilder())) == """
        {
          "type": "solo5.abi",
          "target": "hvt",
          "version": 2
        }

        """)
    }

    @Test(arguments: [(1, "hvt"), (2, "spt"), (3, "virtio"), (4, "muen"), (5, "genode"), (6, "xen"), (0, "unknown"), (77, "unknown")]
          as [(UInt32, String)])
    func abiTargets(_ target: UInt32, _ name: String) throws {
        // Any target and version is printed, not only what solo5-hvt runs.
        var builder = ElfBuilder()
        builder.notes[0] = ElfBuilder.abiNote(target: target, version: 7)
        #expect(try ElfTool.abiJSON(elf(builder)) == "{\n  \"type\": \"solo5.abi\",\n  \"target\": \"\(name)\",\n  \"version\": 7\n}\n")
    }

    @Test func emptyManifest() throws {
        #expect(try ElfTool.manifestJSON(elf(ElfBuilder())) == """
        {
          "type": "solo5.manifest",
          "version": 1,
          "devices": [
          ]
        }

        """)
    }

    @Test func devices() throws {
        let json = try ElfTool.manifestJSON(elf(manifest([
            ("storage", MFT_DEV_BLOCK_BASIC.rawValue), ("service0", MFT_DEV_NET_BASIC.rawValue),
            ("odd", 9),
        ])))
        #expect(json == """
        {
          "type": "solo5.manifest",
          "version": 1,
          "devices": [
            { "name": "storage", "type": "BLOCK_BASIC" },
            { "name": "service0", "type": "NET_BASIC" },
            { "name": "odd", "type": "<undefined type>" }
          ]
        }

        """)
    }

    @Test func reservedEntriesAreLeftOutButKeepTheComma() throws {
        // As the reference: whether a line ends with "," depends on the
        // entry's position in the manifest, so a reserved last entry leaves
        // a trailing comma.
        let json = try ElfTool.manifestJSON(elf(manifest([
            ("a", MFT_DEV_NET_BASIC.rawValue), ("", MFT_RESERVED_FIRST.rawValue + 1),
        ])))
        #expect(json.contains("    { \"name\": \"a\", \"type\": \"NET_BASIC\" },\n  ]\n}\n"))
        #expect(!json.contains("RESERVED"))
    }

    @Test func namesAreEscaped() throws {
        // Solo5's elftool prints names raw; Solo5 only generates
        // alphanumeric names, for which both agree.
        let json = try ElfTool.manifestJSON(elf(manifest([("a\"b\\c\u{1}", MFT_DEV_NET_BASIC.rawValue)])))
        #expect(json.contains(#"{ "name": "a\"b\\c\u0001", "type": "NET_BASIC" }"#))
    }

    @Test(arguments: [
        ("no manifest", { @Sendable (b: inout ElfBuilder) in b.notes.removeLast() }, "k: No Solo5 manifest found in executable"),
        ("version 2", { @Sendable (b: inout ElfBuilder) in b.notes[1] = ElfBuilder.manifestNote(version: 2) }, "k: Manifest validation failed"),
        ("count mismatch", { @Sendable (b: inout ElfBuilder) in b.notes[1] = ElfBuilder.manifestNote(count: 2) }, "k: Manifest validation failed"),
        ("attached", { @Sendable (b: inout ElfBuilder) in
            b.notes[1] = ElfBuilder.manifestNote([ElfBuilder.manifestEntry(name: "", type: MFT_RESERVED_FIRST.rawValue),
                                                  ElfBuilder.manifestEntry(name: "x", type: 1, attached: true)])
        }, "k: Manifest validation failed"),
        ("first not reserved", { @Sendable (b: inout ElfBuilder) in
            b.notes[1] = ElfBuilder.manifestNote([ElfBuilder.manifestEntry(name: "x", type: 1)])
        }, "k: Manifest validation failed"),
    ] as [(String, @Sendable (inout ElfBuilder) -> Void, String)])
    func badManifests(_ name: String, _ mutate: @Sendable (inout ElfBuilder) -> Void, _ expected: String) throws {
        var builder = ElfBuilder()
        mutate(&builder)
        let image = elf(builder)
        #expect(throws: ElftoolFailure.self) { try ElfTool.manifestJSON(image) }
        do { _ = try ElfTool.manifestJSON(image) } catch let error as ElftoolFailure { #expect(error.message == expected) }
    }

    @Test func noABINote() throws {
        var builder = ElfBuilder()
        builder.notes.removeFirst()
        do {
            _ = try ElfTool.abiJSON(elf(builder))
            Issue.record("no error")
        } catch let error as ElftoolFailure {
            #expect(error.message == "k: No Solo5 ABI information found in executable")
        }
    }

    @Test func usage() throws {
        for arguments in [[], ["query-abi"], ["query-abi", "a", "b"], ["--help"], ["--help", "query-abi", "k"]] {
            let outcome = try Harness.run(arguments, tender: "solo5-elftool")
            #expect(outcome.status == 1 && outcome.stdout.isEmpty, "\(arguments)")
            #expect(outcome.stderr.hasPrefix("usage: solo5-elftool COMMAND BINARY\n"), "\(arguments)")
        }
    }

    @Test func unknownCommandIsNamed() throws {
        let outcome = try Harness.run(["gen-manifest", "a", "b"], tender: "solo5-elftool")
        #expect(outcome.status == 1 && outcome.stdout.isEmpty)
        #expect(outcome.stderr.hasPrefix("solo5-elftool: Unknown command: `gen-manifest'\nusage: solo5-elftool COMMAND BINARY\n"))
    }

    @Test func versionAsTheTender() throws {
        let outcome = try Harness.run(["--version"], tender: "solo5-elftool")
        #expect(outcome.status == 0 && outcome.stdout.isEmpty)
        #expect(outcome.stderr.hasPrefix("solo5-elftool version ") && outcome.stderr.split(separator: "\n").count == 1)
    }

    /// ABI version 1 executables, as Solo5 0.7's elftool reports them.
    @Test func abiVersion1() throws {
        var builder = ElfBuilder()
        builder.notes[0] = ElfBuilder.abiNote(version: 1)
        #expect(try ElfTool.abiJSON(elf(builder)) == "{\n  \"type\": \"solo5.abi\",\n  \"target\": \"hvt\",\n  \"version\": 1\n}\n")
        let guest = try Harness.run(["query-abi", try Harness.guest("v1_hello")], tender: "solo5-elftool")
        #expect(guest.status == 0 && guest.stdout == "{\n  \"type\": \"solo5.abi\",\n  \"target\": \"hvt\",\n  \"version\": 1\n}\n",
                "\(guest)")
    }

    // The built executable, on guests of our kit.

    @Test func queryManifestOfGuest() throws {
        let outcome = try Harness.run(["query-manifest", try Harness.guest("blockdecl")], tender: "solo5-elftool")
        #expect(outcome.status == 0 && outcome.stderr.isEmpty, "\(outcome)")
        #expect(outcome.stdout == """
        {
          "type": "solo5.manifest",
          "version": 1,
          "devices": [
            { "name": "storage", "type": "BLOCK_BASIC" }
          ]
        }

        """)
    }

    @Test func queryABIOfGuest() throws {
        let outcome = try Harness.run(["query-abi", try Harness.guest("hello")], tender: "solo5-elftool")
        #expect(outcome.status == 0 && outcome.stderr.isEmpty, "\(outcome)")
        #expect(outcome.stdout == "{\n  \"type\": \"solo5.abi\",\n  \"target\": \"hvt\",\n  \"version\": 2\n}\n")
    }

    @Test func errorsOfTheExecutable() throws {
        let missing = try Harness.run(["query-manifest", "/nonexistent/k.hvt"], tender: "solo5-elftool")
        #expect(missing.status == 1 && missing.stdout.isEmpty)
        #expect(missing.stderr == "solo5-elftool: /nonexistent/k.hvt: Could not open: No such file or directory\n")

        let usage = try Harness.run(["query-abi"], tender: "solo5-elftool")
        #expect(usage.status == 1 && usage.stdout.isEmpty && usage.stderr.hasPrefix("usage: solo5-elftool COMMAND BINARY\n"))
    }
}
