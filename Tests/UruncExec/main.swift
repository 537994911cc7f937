// urunc-exec: starts a tender as urunc (the OCI runtime for unikernels)
// does, for the tests that must run where urunc runs solo5-hvt:
//
//   urunc-exec --tender=PATH --kernel=PATH [--cmd=WORD...] [--mem-bytes=N]
//              [--tap=NAME --tap-address=A.B.C.D/P [--mac=MAC]]
//              [--block=PATH] [--user=UID:GID]
//
// - The command line is one string, "TENDER --mem=MB [--net:service=TAP
//   --net-mac:service=MAC] [--block:storage=PATH] KERNEL CMD" (MB is
//   bytes / 1,000,000; default 256 MB; CMD is the container's command, the
//   --cmd words joined with spaces), split on every single space: an empty
//   CMD leaves a trailing "" argument, an empty word an empty one.
// - The TAP is made beforehand in the current network namespace, as urunc's
//   network set-up leaves it: persistent, IFF_TAP|IFF_ONE_QUEUE|
//   IFF_VNET_HDR, owned by the container's user, host side addressed and
//   up. The tender opens it by name. It is deleted afterwards.
// - The root: a fresh directory with the tender, the kernel and the block
//   file bind-mounted at their host paths, /lib, /lib64 and /usr/lib
//   bind-mounted read-only, a tmpfs /dev holding kvm, net/tun, null and
//   urandom made by mknod (mode 0666), and no /proc, /sys or /etc; it is
//   the child's root (a private mount namespace, then chroot), its cwd /.
// - Only descriptors 0-2 stay open; the environment is urunc's own plus
//   _LIBCONTAINER_* variables; then setgroups/setgid/setuid to the
//   container's user (default 1000:1000): no capabilities.
//
// The exit status is the tender's (128 + N when killed by signal N).
#if canImport(Glibc)
import Glibc
#endif
import CUrunc

func fail(_ message: String) -> Never {
    let text = "urunc-exec: \(message)\n"
    _ = text.withCString { write(2, $0, strlen($0)) }
    exit(125)
}

func check(_ result: Int32, _ what: @autoclosure () -> String) {
    if result == -1 { fail("\(what()): \(String(cString: strerror(errno)))") }
}

struct Container {
    var tender = ""
    var kernel = ""
    var command: [String] = []
    var memoryBytes: UInt64 = 256_000_000
    var tap: String?
    var tapAddress: (address: UInt32, prefix: UInt32)?
    var mac: String?
    var block: String?
    var uid: uid_t = 1000
    var gid: gid_t = 1000

    init(_ arguments: ArraySlice<String>) {
        for argument in arguments {
            guard argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") else { fail("bad argument: \(argument)") }
            let value = String(argument[argument.index(after: equals)...])
            switch argument[..<equals] {
            case "--tender": tender = value
            case "--kernel": kernel = value
            case "--cmd": command.append(value)
            case "--mem-bytes": memoryBytes = UInt64(value) ?? { fail("bad --mem-bytes: \(value)") }()
            case "--tap": tap = value
            case "--tap-address": tapAddress = Container.ipv4(value) ?? { fail("bad --tap-address: \(value)") }()
            case "--mac": mac = value
            case "--block": block = value
            case "--user":
                let ids = value.split(separator: ":").compactMap { UInt32($0) }
                guard ids.count == 2 else { fail("bad --user: \(value)") }
                (uid, gid) = (ids[0], ids[1])
            default: fail("unknown option: \(argument)")
            }
        }
        guard tender.hasPrefix("/"), kernel.hasPrefix("/") else { fail("--tender and --kernel must be absolute paths") }
        guard block?.hasPrefix("/") ?? true else { fail("--block must be an absolute path") }
    }

    /// "A.B.C.D/P" in host order.
    static func ipv4(_ text: String) -> (UInt32, UInt32)? {
        let parts = text.split(separator: "/")
        let octets = parts.first?.split(separator: ".").compactMap { UInt32($0) } ?? []
        guard parts.count == 2, octets.count == 4, octets.allSatisfy({ $0 < 256 }),
              let prefix = UInt32(parts[1]), prefix <= 32 else { return nil }
        return (octets.reduce(0) { $0 << 8 | $1 }, prefix)
    }

    /// urunc's one string, split as urunc splits it.
    var argv: [String] {
        var line = "\(tender) --mem=\(memoryBytes / 1_000_000)"
        if let tap {
            line += " --net:service=\(tap)"
            if let mac { line += " --net-mac:service=\(mac)" }
        }
        if let block { line += " --block:storage=\(block)" }
        line += " \(kernel) \(command.joined(separator: " "))"
        return line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
    }

    static let environment = [
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOSTNAME=urunc-test",
        "_LIBCONTAINER_INITPIPE=3",
        "_LIBCONTAINER_SYNCPIPE=4",
        "_LIBCONTAINER_STATEDIR=/run/urunc/test",
    ]
}

/// The container's root directory. The parent makes its directories and
/// mount points (and removes them again, in reverse order); the child mounts
/// on them in its own mount namespace, so the mounts go with it.
final class RootDirectory {
    let path: String
    private var made: [(path: String, isDirectory: Bool)] = []
    /// Host paths to bind-mount at the same place, and whether read-only.
    private(set) var binds: [(source: String, readOnly: Bool)] = []

    init() {
        let temporary = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array("\(temporary)/urunc-root.XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else { fail("mkdtemp: \(String(cString: strerror(errno)))") }
        path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        check(chmod(path, 0o755), "chmod \(path)")
        makeDirectories("/dev")
    }

    /// Makes the directories of `inside` (an absolute path in the root).
    private func makeDirectories(_ inside: String) {
        var current = path
        for component in inside.split(separator: "/") {
            current += "/\(component)"
            if mkdir(current, 0o755) == 0 {
                made.append((current, true))
            } else if errno != EEXIST {
                fail("mkdir \(current): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Makes the mount point for host `source` (a directory or a file) at
    /// the same path in the root; the child mounts it.
    func addBind(_ source: String, readOnly: Bool) {
        var status = stat()
        check(stat(source, &status), "stat \(source)")
        if status.st_mode & S_IFMT == S_IFDIR {
            makeDirectories(source)
        } else {
            makeDirectories(String(source[..<(source.lastIndex(of: "/") ?? source.startIndex)]))
            let target = path + source
            let fd = open(target, O_CREAT | O_WRONLY | O_CLOEXEC, 0o644)
            check(fd, "create \(target)")
            close(fd)
            made.append((target, false))
        }
        binds.append((source, readOnly))
    }

    /// In the child: urunc's /dev (a tmpfs with the device nodes a tender
    /// may open) and the bind mounts.
    func mountAll() {
        check(mount("tmpfs", path + "/dev", "tmpfs", UInt(MS_NOSUID | MS_NOEXEC), "mode=755"), "mount tmpfs on /dev")
        check(mkdir(path + "/dev/net", 0o755), "mkdir /dev/net")
        for (name, major, minor) in [("kvm", 10, 232), ("net/tun", 10, 200), ("null", 1, 3), ("urandom", 1, 9)] {
            check(curunc_mknod_char(path + "/dev/" + name, UInt32(major), UInt32(minor)), "mknod /dev/\(name)")
        }
        for (source, readOnly) in binds {
            let target = path + source
            check(mount(source, target, nil, UInt(MS_BIND | MS_REC), nil), "bind \(source)")
            if readOnly {
                check(mount(nil, target, nil, UInt(MS_BIND | MS_REMOUNT | MS_RDONLY), nil), "read-only \(target)")
            }
        }
    }

    func remove() {
        for entry in made.reversed() { _ = entry.isDirectory ? rmdir(entry.path) : unlink(entry.path) }
        rmdir(path)
    }
}

let container = Container(CommandLine.arguments.dropFirst())

if let tap = container.tap {
    check(curunc_tap_create(tap, container.uid, container.gid), "create TAP \(tap)")
    if let (address, prefix) = container.tapAddress { check(curunc_if_up(tap, address, prefix), "address TAP \(tap)") }
}

let root = RootDirectory()
for library in ["/lib", "/lib64", "/usr/lib"] where access(library, F_OK) == 0 { root.addBind(library, readOnly: true) }
root.addBind(container.tender, readOnly: true)
root.addBind(container.kernel, readOnly: true)
if let block = container.block {
    check(chown(block, container.uid, container.gid), "chown \(block)")
    root.addBind(block, readOnly: false)
}
let argv = container.argv
var cArgv: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
var cEnvironment: [UnsafeMutablePointer<CChar>?] = Container.environment.map { strdup($0) } + [nil]

let child = fork()
check(child, "fork")
if child == 0 {
    check(curunc_private_mounts(), "a private mount namespace")
    root.mountAll()
    check(chroot(root.path), "chroot \(root.path)")
    check(chdir("/"), "chdir /")
    curunc_close_from(3)
    check(setgroups(0, nil), "setgroups")
    check(setgid(container.gid), "setgid")
    check(setuid(container.uid), "setuid")
    execve(cArgv[0]!, cArgv, cEnvironment)
    fail("exec \(argv[0]): \(String(cString: strerror(errno)))")
}

var status: Int32 = 0
while waitpid(child, &status, 0) == -1 && errno == EINTR {}
if let tap = container.tap { check(curunc_tap_delete(tap), "delete TAP \(tap)") }
root.remove()
// WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift cannot import.
exit(status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f))
