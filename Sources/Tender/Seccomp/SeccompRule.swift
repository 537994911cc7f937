/// One entry of the syscall allowlist, as data: the syscall, the argument
/// checks that must all hold (none means any arguments), and why the tender
/// needs it. Modules return these from `seccompRules()`; the core seals them
/// into the filter before the guest first runs.
public struct SeccompRule: Equatable, CustomStringConvertible {
    /// `(argument & mask) == value` for argument `index` (mask all ones:
    /// plain equality).
    public struct ArgumentCheck: Equatable, CustomStringConvertible {
        public var index: Int
        public var value: UInt64
        public var mask: UInt64

        public static func equals(_ index: Int, _ value: UInt64) -> ArgumentCheck {
            ArgumentCheck(index: index, value: value, mask: .max)
        }

        /// The bits in `mask` of argument `index` are clear.
        public static func clear(_ index: Int, bits mask: UInt64) -> ArgumentCheck {
            ArgumentCheck(index: index, value: 0, mask: mask)
        }

        public var description: String {
            mask == .max ? "arg\(index) == \(value)" : "(arg\(index) & \(hex(mask))) == \(value)"
        }
    }

    public var syscall: String
    public var arguments: [ArgumentCheck]
    public var reason: String

    public init(_ syscall: String, _ arguments: [ArgumentCheck] = [], reason: String) {
        self.syscall = syscall
        self.arguments = arguments
        self.reason = reason
    }

    /// Allows `syscall` only on `descriptor` (its first argument), plus any
    /// further checks.
    public static func on(_ descriptor: FileDescriptor, _ syscall: String, _ more: [ArgumentCheck] = [],
                          reason: String) -> SeccompRule {
        SeccompRule(syscall, [.equals(0, UInt64(UInt32(bitPattern: descriptor.rawValue)))] + more, reason: reason)
    }

    public var description: String {
        let checks = arguments.map(\.description).joined(separator: " && ")
        return (checks.isEmpty ? syscall : "\(syscall) if \(checks)") + " — \(reason)"
    }
}
