import Foundation
import Testing

/// The man pages are generated from the built binaries' --help
/// (scripts/manpages): regenerate them and check that every option line of
/// --help, and every command of solo5-elftool's usage, is documented.
@Suite("Packaging")
struct PackagingTests {
    /// Runs scripts/manpages on the built binaries; the pages by name.
    static func generatePages() throws -> [String: String] {
        let out = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let script = Process()
        script.executableURL = URL(fileURLWithPath: "/bin/bash")
        script.arguments = [Harness.packageRoot.appendingPathComponent("scripts/manpages").path,
                            Harness.productsDirectory.path, out.path]
        let errors = Pipe()
        script.standardError = errors
        try script.run()
        let log = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        script.waitUntilExit()
        try #require(script.terminationStatus == 0, "scripts/manpages failed:\n\(log)")
        var pages: [String: String] = [:]
        for name in ["solo5-hvt.1", "solo5-hvt-debug.1", "solo5-elftool.1", "tender-activate.1"] {
            pages[name] = try String(contentsOf: out.appendingPathComponent(name), encoding: .utf8)
        }
        return pages
    }

    /// Text as scripts/manpages writes it in roff.
    static func roff(_ text: some StringProtocol) -> String {
        text.replacingOccurrences(of: "\\", with: "\\e").replacingOccurrences(of: "-", with: "\\-")
    }

    @Test(arguments: ["solo5-hvt", "solo5-hvt-debug"])
    func everyOptionOfHelpIsInThePage(_ tender: String) throws {
        let help = try Harness.run(["--help"], tender: tender)
        #expect(help.status == 1, "\(help)")
        let version = try Harness.run(["--version"], tender: tender)
        let page = try #require(try Self.generatePages()["\(tender).1"])
        let title = Self.roff(tender.uppercased())

        let number = try #require(version.stderr.split(separator: "\n").first?.split(separator: " ").last)
        #expect(page.contains(".TH \(title) 1 \"") && page.contains("\"Tender \(number)\""))

        // Option lines: "  [ --mem=512 ] (guest memory in MB)", "    --help (display this help)".
        let optionLines = help.stderr.split(separator: "\n").filter { $0.hasPrefix("  ") && $0.contains("--") }
        #expect(optionLines.count >= 5, "\(help.stderr)")
        for line in optionLines {
            // (--gdb-port's line ends in a space, as the reference's does.)
            var text = line.drop { $0 == " " }
            while text.last == " " { text = text.dropLast() }
            let optional = text.hasPrefix("[ ")
            let separator = try #require(text.range(of: optional ? " ] (" : " ("), "\(line)")
            let option = text[text.index(text.startIndex, offsetBy: optional ? 2 : 0)..<separator.lowerBound]
            let what = text[separator.upperBound...].dropLast()
            let tag = optional ? "[\\~\\fB\(Self.roff(option))\\fR\\~]" : "\\fB\(Self.roff(option))\\fR"
            #expect(page.contains(".TP\n\(tag)\n\(Self.roff(what))\n"), "\(line) is not in \(tender).1")
        }
        // And nothing else in OPTIONS.
        let options = try #require(page.components(separatedBy: "\n.SH OPTIONS\n").last?.components(separatedBy: "\n.SH ").first)
        #expect(options.components(separatedBy: ".TP\n").count - 1 == optionLines.count)

        let modules = try #require(help.stderr.split(separator: "\n").first { $0.hasPrefix("Compiled-in modules:") })
        for module in modules.dropFirst("Compiled-in modules:".count).split(separator: " ") {
            #expect(page.contains("\\fB\(module)\\fR"), "module \(module) is not in \(tender).1")
        }
    }

    /// tender-activate(1) quotes its --help whole, line by line.
    @Test func tenderActivateQuotesItsHelp() throws {
        let help = try Harness.run(program: Harness.executable("tender-activate"), ["--help"])
        #expect(help.status == 0, "\(help)")
        let page = try #require(try Self.generatePages()["tender-activate.1"])
        let lines = help.stdout.split(separator: "\n")
        #expect(lines.count >= 10 && lines.contains { $0.contains("mode=connection") }, "\(help)")
        let quoted = page.components(separatedBy: "\n.nf\n").dropFirst().first?.components(separatedBy: "\n.fi\n").first
        #expect(quoted == lines.map { Self.roff($0) }.joined(separator: "\n"), "\(page)")
        #expect(page.contains(".TH TENDER\\-ACTIVATE 1 \"") && !page.contains("@DATE@") && !page.contains("@VERSION@"), "\(page)")
    }

    @Test func everyCommandOfElftoolIsInThePage() throws {
        let usage = try Harness.run(["--help"], tender: "solo5-elftool")
        #expect(usage.status == 1, "\(usage)")
        let page = try #require(try Self.generatePages()["solo5-elftool.1"])
        let lines = usage.stderr.split(separator: "\n")
        let commands = lines.filter { $0.hasPrefix("    ") && !$0.hasPrefix("     ") }
        #expect(commands.count == 2)
        for (index, line) in lines.enumerated() where commands.contains(line) {
            let words = line.dropFirst(4).dropLast().split(separator: " ")
            let tag = "\\fB\(Self.roff(words[0]))\\fR" + words.dropFirst().map { " \\fI\(Self.roff($0))\\fR" }.joined()
            let what = lines[index + 1].drop { $0 == " " }
            #expect(page.contains(".TP\n\(tag)\n\(Self.roff(what))\n"), "\(line) is not in solo5-elftool.1")
        }
    }
}
