#if canImport(Glibc)
import Glibc
#endif
import CLinux
import CSeccomp

/// The rules one module (or the core) contributed.
public struct ModuleRules {
    public var module: String
    public var rules: [SeccompRule]
}

/// A seccomp filter built from every module's rules. It is noncopyable and
/// `load()` consumes it: once loaded there is no value left to add rules
/// to, and the module API offers no way to add them at all, so the policy
/// cannot widen after it is sealed. (The kernel would refuse to widen it
/// anyway: filters only ever stack.)
struct SeccompFilter: ~Copyable {
    private let context: scmp_filter_ctx

    init(_ policy: [ModuleRules]) throws(TenderError) {
        context = try SeccompFilter.build(policy)
    }

    private static func build(_ policy: [ModuleRules]) throws(TenderError) -> scmp_filter_ctx {
        // Default: kill the whole process (SIGSYS), every thread included.
        guard let context = seccomp_init(SCMP_ACT_KILL_PROCESS) else {
            throw TenderError("seccomp_init() failed")
        }
        do throws(TenderError) {
            // NO_NEW_PRIVS is set on load (libseccomp's default); TSYNC
            // applies the filter to every thread of the process.
            guard seccomp_attr_set(context, SCMP_FLTATR_CTL_TSYNC, 1) == 0 else {
                throw TenderError("seccomp: cannot request TSYNC")
            }
            for entry in policy {
                for rule in entry.rules { try add(rule, of: entry.module, to: context) }
            }
            return context
        } catch {
            seccomp_release(context)
            throw error
        }
    }

    private static func add(_ rule: SeccompRule, of module: String, to context: scmp_filter_ctx) throws(TenderError) {
        let number = seccomp_syscall_resolve_name(rule.syscall)
        guard number != __NR_SCMP_ERROR else {
            throw TenderError("seccomp: module `\(module)' names unknown syscall \(rule.syscall)")
        }
        var checks = rule.arguments.map { check in
            check.mask == .max
                ? scmp_arg_cmp(arg: UInt32(check.index), op: SCMP_CMP_EQ, datum_a: check.value, datum_b: 0)
                : scmp_arg_cmp(arg: UInt32(check.index), op: SCMP_CMP_MASKED_EQ, datum_a: check.mask, datum_b: check.value)
        }
        let rc = seccomp_rule_add_array(context, SCMP_ACT_ALLOW, number, UInt32(checks.count), &checks)
        guard rc == 0 else {
            // The reference's words, then which rule.
            throw TenderError("seccomp_rule_add() failed: \(Errno(-rc)) (rule \(rule) of module `\(module)')")
        }
    }

    /// Installs the filter for the whole process; from here on, any syscall
    /// outside the policy kills the tender.
    consuming func load() throws(TenderError) {
        let rc = seccomp_load(context)
        seccomp_release(context)
        discard self
        // The reference's words for the step that installs the filter.
        guard rc == 0 else { throw TenderError("seccomp(SECCOMP_SET_MODE_FILTER) failed: \(Errno(-rc))") }
    }

    deinit { seccomp_release(context) }
}

/// What the process itself needs once the guest runs, whichever modules
/// are compiled in.
enum ProcessRules {
    static func rules(vcpu: FileDescriptor) -> [SeccompRule] {
        [
            .on(vcpu, "ioctl", [.equals(1, UInt64(CKVM_RUN))], reason: "KVM_RUN: enter the guest"),
            .on(vcpu, "ioctl", [.equals(1, UInt64(CKVM_GET_REGS))], reason: "KVM_GET_REGS: report where a guest faulted"),
            .on(.standardError, "write", reason: "error messages"),
            SeccompRule("exit_group", reason: "exit with the guest's status"),
            // Building an error message may grow the heap.
            SeccompRule("brk", reason: "malloc: grow the heap"),
            SeccompRule("mmap", [.clear(2, bits: UInt64(PROT_EXEC))], reason: "malloc: large blocks (never executable)"),
            SeccompRule("mprotect", [.clear(2, bits: UInt64(PROT_EXEC))], reason: "malloc: grow a thread's heap (never executable)"),
            SeccompRule("munmap", reason: "free: large blocks"),
            SeccompRule("madvise", reason: "free: return memory"),
            SeccompRule("futex", reason: "locks in the Swift runtime and libc"),
            // A thread's first one-time initialization (swift_once: a lazy
            // global's first use) caches its id; a ring thread could meet
            // one after the seal, on an error path (it was killed so).
            SeccompRule("gettid", reason: "the Swift runtime learns a thread's id (swift_once)"),
        ]
    }
}
