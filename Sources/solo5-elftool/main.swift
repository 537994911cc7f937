#if canImport(Glibc)
import Glibc
#endif
import Tender

// solo5-elftool query-abi|query-manifest BINARY: what Solo5's elftool
// prints, from Tender's own ELF and manifest parsers.
let program = CommandLine.arguments.first.map(Diagnostics.basename) ?? "solo5-elftool"
let result = ElfTool.run(arguments: Array(CommandLine.arguments.dropFirst()), program: program)
for (text, fd) in [(result.standardOutput, FileDescriptor.standardOutput), (result.standardError, .standardError)]
    where !text.isEmpty {
    var text = text
    text.withUTF8 { _ = fd.writeAll(UnsafeRawBufferPointer($0)) }
}
exit(result.status)
