#if canImport(Glibc)
import Glibc
#endif

/// `--x-start-fd=N` (experimental): the tender does all its work up to the
/// guest's first instruction — memory loaded, devices attached, seccomp
/// policy sealed — then waits until one byte can be read from inherited
/// descriptor N. A launcher keeps such tenders warm and releases one per
/// request (tender-activate). End of file instead of a byte ends the run
/// (the launcher is gone). The sealed policy allows `read` on N alone.
struct StartGate {
    static let prefix = "--x-start-fd="
    let descriptor: FileDescriptor

    /// The gate for `option`, nil when the option is not this one.
    static func parse(_ option: String) throws(TenderError) -> StartGate? {
        guard option.hasPrefix(prefix) else { return nil }
        let digits = option.dropFirst(prefix.count)
        guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
              let number = Int32(digits) else {
            throw TenderError("Malformed argument to \(prefix.dropLast())")
        }
        // The standard streams are the tender's own; anything else must be open.
        guard number > 2, fcntl(number, F_GETFD) >= 0 else {
            throw TenderError("\(prefix.dropLast()): descriptor \(number) is not an open inherited descriptor")
        }
        return StartGate(descriptor: FileDescriptor(rawValue: number))
    }

    /// Blocks until the start byte arrives.
    func wait() throws(TenderError) {
        var byte: UInt8 = 0
        let count = retryingInterrupts { read(descriptor.rawValue, &byte, 1) }
        if count == 1 { return }
        throw TenderError(count == 0 ? "start descriptor closed before the start byte"
                                     : "reading the start descriptor: \(Errno.current)")
    }

    var seccompRule: SeccompRule {
        .on(descriptor, "read", reason: "--x-start-fd waits for the start byte before the first KVM_RUN")
    }
}
