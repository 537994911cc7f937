import Foundation
import Testing

/// Albatross (robur-coop/albatross, `check_solo5_tender` in
/// src/vmm_unix.ml) picks the tender for a unikernel of ABI version N by
/// running `solo5-hvt.N --version` (or `solo5-hvt --version`) with stderr
/// merged into stdout, requiring exit status 0, and looking for a line that,
/// split on single spaces, is exactly `ABI`, `version`, N. Its parse,
/// rewritten here, runs on the built tender's output for both versions.
@Suite("Albatross tender check")
struct AlbatrossTests {
    /// OCaml's `int_of_string` on what Albatross hands it: an optional sign,
    /// an optional 0x/0o/0b prefix, digits with `_` separators.
    static func ocamlInt(_ text: Substring) -> Int? {
        var rest = text
        var sign = 1
        if let first = rest.first, first == "-" || first == "+" {
            sign = first == "-" ? -1 : 1
            rest = rest.dropFirst()
        }
        var radix = 10
        for (prefix, base) in [("0x", 16), ("0X", 16), ("0o", 8), ("0O", 8), ("0b", 2), ("0B", 2)] where rest.hasPrefix(prefix) {
            radix = base
            rest = rest.dropFirst(2)
        }
        guard let first = rest.first, first != "_" else { return nil }
        guard let value = Int(rest.filter { $0 != "_" }, radix: radix) else { return nil }
        return sign * value
    }

    /// Whether `check_solo5_tender` accepts a tender that exited with
    /// `status` after printing `output` (stdout and stderr merged) for a
    /// unikernel of ABI `version`.
    static func accepts(status: Int32, output: String, version: Int) -> Bool {
        guard status == 0 else { return false }
        // Bos's out_lines: the output trimmed, then split on newlines.
        let trimmed = output.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.split(separator: "\n", omittingEmptySubsequences: false).contains { line in
            let words = line.split(separator: " ", omittingEmptySubsequences: false)
            return words.count == 3 && words[0] == "ABI" && words[1] == "version" && ocamlInt(words[2]) == version
        }
    }

    @Test func bothVersionsPass() throws {
        let outcome = try Harness.run(["--version"])
        for version in [1, 2] {
            #expect(Self.accepts(status: outcome.status, output: outcome.stdout + outcome.stderr, version: version),
                    "ABI version \(version): \(outcome)")
        }
        for version in [0, 3, 12] {
            #expect(!Self.accepts(status: outcome.status, output: outcome.stdout + outcome.stderr, version: version))
        }
    }

    /// The parse itself: what the reference tenders print passes for their
    /// one version; near misses fail.
    @Test func theParse() {
        #expect(Self.accepts(status: 0, output: "solo5-hvt tender, version v0.12.1\nABI version 2\n", version: 2))
        #expect(!Self.accepts(status: 0, output: "solo5-hvt tender, version v0.12.1\nABI version 2\n", version: 1))
        #expect(Self.accepts(status: 0, output: "solo5-hvt tender, version v0.7.5\nABI version 1\n", version: 1))
        #expect(!Self.accepts(status: 1, output: "ABI version 1\n", version: 1))
        for output in ["ABI version 1 2", "ABI version: 1", "ABI  version 1", "abi version 1", "ABI version 1 ", "ABI version one"] {
            #expect(!Self.accepts(status: 0, output: "x\n\(output)\ny", version: 1), "\(output)")
        }
        #expect(Self.accepts(status: 0, output: "  ABI version 0x1\n", version: 1))
        #expect(Self.ocamlInt("1_0") == 10 && Self.ocamlInt("-2") == -2 && Self.ocamlInt("") == nil && Self.ocamlInt("_1") == nil)
    }

    /// The package installs `solo5-hvt.1` and `solo5-hvt.2`, which Albatross
    /// looks for first.
    @Test func packageLinksEachVersion() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let links = try String(contentsOf: root.appendingPathComponent("debian/tender.links"), encoding: .utf8)
        for version in [1, 2] {
            #expect(links.contains("usr/bin/solo5-hvt usr/bin/solo5-hvt.\(version)\n"))
        }
    }
}
