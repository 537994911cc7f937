/// One entry of the syscall allowlist, as data: the syscall, the argument
/// values it may be called with (all must match; none means any), and why
/// the tender needs it. The core collects every module's rules after setup.
public struct SeccompRule: Equatable, CustomStringConvertible {
    public struct ArgumentEquals: Equatable {
        public var index: Int
        public var value: UInt64
        public init(_ index: Int, _ value: UInt64) { self.index = index; self.value = value }
    }

    public var syscall: String
    public var arguments: [ArgumentEquals]
    public var reason: String

    public init(_ syscall: String, _ arguments: [ArgumentEquals] = [], reason: String) {
        self.syscall = syscall
        self.arguments = arguments
        self.reason = reason
    }

    /// Allows `syscall` only on `descriptor` (its first argument).
    public static func on(_ descriptor: FileDescriptor, _ syscall: String, reason: String) -> SeccompRule {
        SeccompRule(syscall, [ArgumentEquals(0, UInt64(UInt32(bitPattern: descriptor.rawValue)))], reason: reason)
    }

    public var description: String {
        let args = arguments.map { "arg\($0.index) == \($0.value)" }.joined(separator: " && ")
        return args.isEmpty ? "\(syscall): \(reason)" : "\(syscall) if \(args): \(reason)"
    }
}
