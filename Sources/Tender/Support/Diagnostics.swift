/// The name messages are prefixed with: the basename of argv[0].
public enum Diagnostics {
    nonisolated(unsafe) public static var programName = "solo5-hvt"

    /// Writes `program: message` to stderr, like `warnx(3)`.
    public static func warn(_ message: String) {
        writeStandardError("\(programName): \(message)\n")
    }

    /// Writes `program: warning: message`: something we do differently
    /// from what was asked, and go on.
    public static func warning(_ message: String) {
        warn("warning: \(message)")
    }

    /// `option` is taken as `reading`: what the reference reads in it,
    /// other than what it says.
    public static func warnReadAs(_ option: String, _ reading: String) {
        warning("`\(option)' read as `\(reading)', as Solo5's tender reads it")
    }

    /// The last component of a path, as basename(3) gives it for argv[0].
    public static func basename(_ path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return path }
        return String(path[path.utf8.index(after: slash)...])
    }

    public static func writeStandardError(_ text: String) {
        var text = text
        // SAFETY: the buffer is the string's own, lent for the call only.
        text.withUTF8 { bytes in _ = FileDescriptor.standardError.writeAll(UnsafeRawBufferPointer(bytes)) }
    }
}
