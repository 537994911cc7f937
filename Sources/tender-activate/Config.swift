#if canImport(Glibc)
import Glibc
#endif

/// One endpoint: where it listens, which unikernel serves it and how.
struct EndpointConfig {
    enum Mode: String { case endpoint, connection }

    var listenAddress: UInt32 = 0
    var listenPort: UInt16 = 0
    var kernel = ""
    var guestAddress: UInt32 = 0
    var guestPort: UInt16 = 0
    /// The host side of each VM's link (same on every tap: the relay binds
    /// its socket to the VM's tap, so the links may share addresses).
    var hostAddress: UInt32 = 0
    var prefix = 30
    var mode = Mode.endpoint
    var idleTimeout = 30.0
    var maxConnections = 16
    var warm = 0
    /// VMs kept booted with the guest listening (readiness probe), each
    /// handed to one client (or, per endpoint, made the endpoint's VM).
    var pool = 0
    var memoryMiB: Int?
    var tender = ""
    var netName = "service0"
    /// attach=name: the tender opens the (persistent) tap by name instead
    /// of inheriting it as `@3` (the reference tender's `@NN' is broken).
    var attachByName = false
    var blocks: [String] = []
    var bootWait = 5.0
    var guestArguments: [String] = []
    var spec = ""

    var listenText: String { "\(formatIPv4(listenAddress)):\(listenPort)" }

    /// SPEC: space-separated KEY=VALUE; `args=` takes the rest of the line.
    static func parse(_ spec: String, defaultTender: String?) throws(ConfigError) -> EndpointConfig {
        var config = EndpointConfig()
        config.spec = spec
        var hostGiven = false
        var rest = Substring(spec)
        while true {
            rest = rest.drop { $0 == " " || $0 == "\t" }
            if rest.isEmpty { break }
            let word = rest.prefix { $0 != " " && $0 != "\t" }
            guard let equals = word.firstIndex(of: "=") else { throw ConfigError("`\(word)': expected KEY=VALUE") }
            let key = word[..<equals], value = word[word.index(after: equals)...]
            if key == "args" {
                let all = rest[rest.index(after: rest.firstIndex(of: "=")!)...]
                config.guestArguments = all.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
                break
            }
            rest = rest.dropFirst(word.count)
            switch key {
            case "listen": (config.listenAddress, config.listenPort) = try address(value, key)
            case "guest": (config.guestAddress, config.guestPort) = try address(value, key)
            case "kernel": config.kernel = String(value)
            case "tender": config.tender = String(value)
            case "net": config.netName = String(value)
            case "attach":
                guard value == "fd" || value == "name" else { throw ConfigError("attach must be `fd' or `name', not `\(value)'") }
                config.attachByName = value == "name"
            case "block":
                guard value.contains("=") else { throw ConfigError("block=NAME=PATH expected, got `\(value)'") }
                config.blocks.append(String(value))
            case "mode":
                guard let mode = Mode(rawValue: String(value)) else {
                    throw ConfigError("mode must be `endpoint' or `connection', not `\(value)'")
                }
                config.mode = mode
            case "idle": config.idleTimeout = try seconds(value, key)
            case "wait": config.bootWait = try seconds(value, key)
            case "max": config.maxConnections = try count(value, key, minimum: 1)
            case "warm": config.warm = try count(value, key, minimum: 0)
            case "pool": config.pool = try count(value, key, minimum: 0)
            case "mem": config.memoryMiB = try count(value, key, minimum: 1)
            case "link":
                let parts = value.split(separator: "/", omittingEmptySubsequences: false)
                guard parts.count == 2, let host = parseIPv4(parts[0]), let prefix = Int(parts[1]),
                      (8...30).contains(prefix) else { throw ConfigError("link=HOSTADDRESS/PREFIX (8..30) expected") }
                config.hostAddress = host
                config.prefix = prefix
                hostGiven = true
            default: throw ConfigError("unknown key `\(key)'")
            }
        }
        guard config.listenPort != 0 else { throw ConfigError("listen=ADDRESS:PORT is missing") }
        guard config.guestPort != 0 else { throw ConfigError("guest=ADDRESS:PORT is missing") }
        guard !config.kernel.isEmpty else { throw ConfigError("kernel=PATH is missing") }
        guard access(config.kernel, R_OK) == 0 else { throw ConfigError("kernel `\(config.kernel)' is not readable") }
        if config.tender.isEmpty {
            guard let defaultTender else { throw ConfigError("no tender: give tender=PATH or --tender") }
            config.tender = defaultTender
        }
        guard access(config.tender, X_OK) == 0 else { throw ConfigError("tender `\(config.tender)' is not executable") }
        let guest = UInt32(bigEndian: config.guestAddress)
        if !hostGiven {
            // The other usable address of the guest's /30.
            let network = guest & ~3
            guard guest & 3 == 1 || guest & 3 == 2 else {
                throw ConfigError("guest address \(formatIPv4(config.guestAddress)) is not usable in a /30: give link=")
            }
            config.hostAddress = (guest & 3 == 1 ? network + 2 : network + 1).bigEndian
        }
        let mask = UInt32.max << (32 - config.prefix)
        let host = UInt32(bigEndian: config.hostAddress)
        guard host & mask == guest & mask, host != guest else {
            throw ConfigError("link address \(formatIPv4(config.hostAddress))/\(config.prefix) does not share a subnet with the guest")
        }
        return config
    }

    private static func address(_ value: Substring, _ key: Substring) throws(ConfigError) -> (UInt32, UInt16) {
        guard let colon = value.lastIndex(of: ":"), let address = parseIPv4(value[..<colon]),
              let port = UInt16(value[value.index(after: colon)...]), port > 0 else {
            throw ConfigError("\(key)=ADDRESS:PORT expected, got `\(value)'")
        }
        return (address, port)
    }

    private static func seconds(_ value: Substring, _ key: Substring) throws(ConfigError) -> Double {
        guard let seconds = Double(value), seconds > 0, seconds < 1e6 else {
            throw ConfigError("\(key)=SECONDS expected, got `\(value)'")
        }
        return seconds
    }

    private static func count(_ value: Substring, _ key: Substring, minimum: Int) throws(ConfigError) -> Int {
        guard let n = Int(value), n >= minimum, n <= 100_000 else {
            throw ConfigError("\(key)=N (\(minimum)..100000) expected, got `\(value)'")
        }
        return n
    }
}

struct ConfigError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
