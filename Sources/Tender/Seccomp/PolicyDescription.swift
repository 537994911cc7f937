extension SeccompFilter {
    /// The policy as `--x-seccomp-dump` prints it: each module's rules,
    /// with the reason it gave for each.
    static func describe(_ policy: [ModuleRules]) -> String {
        var text = "seccomp policy: default action kills the process (SIGSYS); allowed:\n"
        for entry in policy where !entry.rules.isEmpty {
            text += "\(entry.module):\n"
            for rule in entry.rules { text += "  \(rule)\n" }
        }
        return text
    }
}
