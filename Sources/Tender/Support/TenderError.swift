#if canImport(Glibc)
import Glibc
#endif

/// Why the tender stops before or instead of the guest's own exit: a message
/// for the user (printed after the program name, as `errx` would) and an exit
/// status. Every failure travels as a value up to `TenderProgram.main`.
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
