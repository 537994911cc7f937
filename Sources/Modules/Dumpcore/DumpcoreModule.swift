#if canImport(Glibc)
import Glibc
#endif
import CLinux
import Tender

/// `--dumpcore=DIR`: when the guest aborts (halts with status 255) or the
/// run ends on a fault, writes an ELF core file DIR/core.solo5-hvt.PID with
/// the vCPU's registers and guest memory, for `gdb GUEST CORE`.
///
/// The directory is opened at start-up; once the guest runs, the policy
/// lets this module create one file in it (openat on that descriptor, with
/// O_EXCL|O_NOFOLLOW: never through a planted symlink, never over a file),
/// and write, size and close only a descriptor number reserved at start-up
/// (the file is moved there with dup2).
public final class DumpcoreModule: TenderModule {
    public static let name = "dumpcore"
    public static let usage: String? = "--dumpcore=DIR (enable guest core dump on abort/trap)"

    private var directoryPath: String?
    private var directory: FileDescriptor?
    private var fileName = ""
    private var pid: Int32 = 0
    /// The descriptor number the core file is written through, reserved
    /// at start-up (as a second descriptor of the directory) so that the
    /// policy can name it.
    private var coreDescriptor = FileDescriptor(rawValue: -1)
    private var dumped = false
    private var vcpu: VCPU?
    private var memory: GuestMemory?

    static let createFlags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC

    public init() {}

    public func handleOption(_ option: String, manifest: Manifest) throws(TenderError) -> Bool {
        guard option.hasPrefix("--dumpcore=") else { return false }
        directoryPath = String(option.dropFirst("--dumpcore=".count))
        return true
    }

    public func setup(_ setup: ModuleSetup) throws(TenderError) {
        guard let path = directoryPath else { return }
        let directory: FileDescriptor
        do { directory = try FileDescriptor.open(path, O_RDONLY | O_DIRECTORY) } catch {
            throw TenderError("dumpcore: cannot open dir: \(path): \(error)")
        }
        guard faccessat(directory.rawValue, ".", W_OK, 0) == 0 else {
            directory.close()
            throw TenderError("dumpcore: dir not writable")
        }
        let reserved = fcntl(directory.rawValue, F_DUPFD_CLOEXEC, 0)
        guard reserved >= 0 else { throw .system("dumpcore: cannot reserve a descriptor") }
        self.directory = directory
        coreDescriptor = FileDescriptor(rawValue: reserved)
        pid = getpid()
        fileName = "core.solo5-hvt.\(pid)"
        vcpu = setup.vcpu
        memory = setup.memory
        // The hooks hold the module strongly: the core keeps no reference
        // to its modules once the run starts.
        setup.registerHaltHook { status, cookie in
            // SOLO5_EXIT_ABORT; a guest's trap handler passes its frame.
            if status == 255 { self.dump(trapFrame: cookie, signal: SIGABRT) }
        }
        setup.registerFaultHook { _ in self.dump(trapFrame: nil, signal: SIGSEGV) }
    }

    public func seccompRules() -> [SeccompRule] {
        guard let directory, let vcpu else { return [] }
        return [
            .on(directory, "openat", [.equals(2, UInt64(Self.createFlags))],
                reason: "create the core file in DIR (O_EXCL|O_NOFOLLOW)"),
            SeccompRule("dup2", [.equals(1, UInt64(coreDescriptor.rawValue))],
                        reason: "move the core file to its reserved descriptor"),
            .on(coreDescriptor, "pwrite64", reason: "write the core file"),
            .on(coreDescriptor, "ftruncate", reason: "size the core file (untouched pages stay holes)"),
            .on(coreDescriptor, "close", reason: "close the core file"),
            .on(vcpu.fd, "ioctl", [.equals(1, UInt64(CKVM_GET_SREGS))], reason: "KVM_GET_SREGS: segment registers"),
            SeccompRule("mincore", reason: "find the guest pages the host has backed"),
        ]
    }

    private func dump(trapFrame: GuestAddress?, signal: Int32) {
        guard !dumped, let directory, let directoryPath, let vcpu, let memory else { return }
        dumped = true
        let raw = openat(directory.rawValue, fileName, Self.createFlags, S_IRUSR | S_IWUSR)
        guard raw >= 0 else {
            Diagnostics.warn("dumpcore: open(\(fileName)): \(Errno.current)")
            Diagnostics.warn("dumpcore: error(s) dumping core, file may be incomplete")
            return
        }
        // Onto the reserved number (the only one the policy lets us write);
        // the descriptor openat returned stays open until the tender exits,
        // right after (closing it would need a close the policy cannot pin).
        guard dup2(raw, coreDescriptor.rawValue) == coreDescriptor.rawValue else {
            Diagnostics.warn("dumpcore: dup2() failed: \(Errno.current)")
            Diagnostics.warn("dumpcore: error(s) dumping core, file may be incomplete")
            return
        }
        let file = coreDescriptor
        defer { file.close() }
        Diagnostics.warn("dumpcore: dumping guest core to: \(directoryPath)/\(fileName)")
        if let problem = CoreFile.write(to: file, vcpu: vcpu, memory: memory, trapFrame: trapFrame, signal: signal, pid: pid) {
            Diagnostics.warn(problem)
            Diagnostics.warn("dumpcore: error(s) dumping core, file may be incomplete")
        }
    }
}
