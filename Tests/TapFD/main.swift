// tapfd IFACE PROGRAM [ARG...]: opens TAP interface IFACE (as a parent
// handing a tender a descriptor would), then execs PROGRAM with every "@FD"
// in its arguments replaced by "@N", N being the open descriptor. For the
// tests of `--net:NAME=@NN`.
#if canImport(Glibc)
import Glibc
#endif
import CNet

func fail(_ message: String) -> Never {
    let text = "tapfd: \(message)\n"
    _ = text.withCString { write(2, $0, strlen($0)) }
    exit(127)
}

let arguments = CommandLine.arguments
guard arguments.count >= 3 else { fail("usage: tapfd IFACE PROGRAM [ARG...]") }
let interface = arguments[1]

// Not O_CLOEXEC: the descriptor is meant to survive the exec.
let fd = open("/dev/net/tun", O_RDWR)
guard fd >= 0 else { fail("open /dev/net/tun: \(String(cString: strerror(errno)))") }
var attached = [CChar](repeating: 0, count: Int(IFNAMSIZ))
guard cnet_tun_set_iff(fd, interface, Int16(IFF_TAP | IFF_NO_PI), &attached) == 0 else {
    fail("TUNSETIFF \(interface): \(String(cString: strerror(errno)))")
}

let program = Array(arguments[2...]).map { $0.replacingFD(with: fd) }
var argv: [UnsafeMutablePointer<CChar>?] = program.map { strdup($0) }
argv.append(nil)
execv(program[0], argv)
fail("exec \(program[0]): \(String(cString: strerror(errno)))")

extension String {
    func replacingFD(with fd: Int32) -> String {
        var result = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: "@FD") {
            result += rest[..<range.lowerBound] + "@\(fd)"
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
