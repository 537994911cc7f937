#if canImport(Glibc)
import Glibc
#endif

/// Why the tender stops before or instead of the guest's own exit: a message
/// for the user (printed after the program name, as `errx` would) and an exit
/// status. Every failure travels as a value up to `Tender.main`.
public struct TenderError: Error, CustomStringConvertible {
    public var message: String
    public var status: Int32
    /// Extra lines printed after the message (e.g. the usage text).
    public var trailer: String?

    public init(_ message: String, status: Int32 = 1, trailer: String? = nil) {
        self.message = message
        self.status = status
        self.trailer = trailer
    }

    /// A failed system call: `message: strerror(errno)`, as `err(3)` words it.
    public static func system(_ message: String, errno code: Errno = .current) -> TenderError {
        TenderError("\(message): \(code)")
    }

    public var description: String { message }
}

/// The name messages are prefixed with: the basename of argv[0].
public enum Diagnostics {
    nonisolated(unsafe) public static var programName = "solo5-hvt"

    /// Writes `program: message` to stderr, like `warnx(3)`.
    public static func warn(_ message: String) {
        writeStandardError("\(programName): \(message)\n")
    }

    /// The last component of a path, as basename(3) gives it for argv[0].
    public static func basename(_ path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return path }
        return String(path[path.utf8.index(after: slash)...])
    }

    public static func writeStandardError(_ text: String) {
        var text = text
        text.withUTF8 { bytes in _ = FileDescriptor.standardError.writeAll(UnsafeRawBufferPointer(bytes)) }
    }
}

/// Formats integers the way the C reference prints them, without Foundation.
@inlinable
public func hex<T: BinaryInteger>(_ value: T) -> String { "0x" + String(value, radix: 16) }
