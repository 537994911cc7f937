#if canImport(Glibc)
import Glibc
#endif

// tender-activate: unikernels on demand. See usage below and README.md.

let usage = """
usage: tender-activate [--verbose] [--tender PATH] [--exit-idle SECONDS]
                       (--endpoint SPEC | --config FILE)...
  SPEC (one endpoint; in FILE one per line, # comments): KEY=VALUE words
    listen=ADDRESS:PORT   where clients connect (required)
    kernel=PATH           the unikernel (required)
    guest=ADDRESS:PORT    where the guest listens on its network (required)
    mode=endpoint         first connection boots it, later ones share it,
                          stopped after `idle' seconds without connections
    mode=connection       a fresh VM per connection, ended with it
    idle=SECONDS (30)  max=N connections at once (16)  warm=N tenders kept
    ready at their start gate (0)  pool=N VMs kept booted, their guest
    listening (0; a half-open TCP probe tells, unseen by the guest's
    application)  wait=SECONDS for the guest to accept, or a pooled one
    to listen (5)
    mem=MB  block=NAME=PATH  net=NAME (service0)  tender=PATH
    attach=fd (the tap is passed as --net:NAME=@3) | name (by its name)
    link=HOSTADDRESS/PREFIX (default: the guest's /30)  args=GUEST ARGS...
  --exit-idle SECONDS   stop every VM and exit (status 0) once no connection
                        has been open or accepted for SECONDS
  Socket activation (systemd, sd_listen_fds(3)): each listening TCP/IPv4
  socket passed in LISTEN_FDS serves the endpoint whose listen= is the
  address it is bound to (one that matches no endpoint is an error);
  endpoints without one listen themselves.

"""

func fail(_ message: String) -> Never {
    log(message)
    _ = usage.withCString { write(2, $0, strlen($0)) }
    exit(1)
}

/// solo5-hvt beside this executable, if there is one.
func defaultTender() -> String? {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard n > 0 else { return nil }
    let path = string(nulTerminated: buffer)
    guard let slash = path.lastIndex(of: "/") else { return nil }
    let candidate = String(path[...slash]) + "solo5-hvt"
    return access(candidate, X_OK) == 0 ? candidate : nil
}

func readLines(_ path: String) -> [String]? {
    guard let file = fopen(path, "r") else { return nil }
    defer { fclose(file) }
    var lines: [String] = []
    var line: UnsafeMutablePointer<CChar>?
    var capacity = 0
    while getline(&line, &capacity, file) >= 0 {
        var text = String(cString: line!)
        while text.last == "\n" || text.last == "\r" { text.removeLast() }
        lines.append(text)
    }
    free(line)
    return lines
}

var tender = defaultTender()
var specs: [String] = []
var exitIdle: Double?
/// --config files with no endpoint line.
var emptyConfigs: [String] = []
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--help", "-h":
        _ = usage.withCString { write(1, $0, strlen($0)) }
        exit(0)
    case "--verbose":
        verbose = true
    case "--tender", "--endpoint", "--config", "--exit-idle":
        guard let value = arguments.popFirst() else { fail("\(argument) needs a value") }
        if argument == "--tender" { tender = value }
        if argument == "--endpoint" { specs.append(value) }
        if argument == "--config" {
            guard let lines = readLines(value) else { fail("cannot read \(value): \(errnoText(errno))") }
            let endpoints = lines.filter { let t = $0.drop { $0 == " " }; return !t.isEmpty && !t.hasPrefix("#") }
            if endpoints.isEmpty { emptyConfigs.append(value) }
            specs += endpoints
        }
        if argument == "--exit-idle" {
            guard let seconds = Double(value), seconds > 0, seconds < 1e6 else { fail("--exit-idle SECONDS expected, got `\(value)'") }
            exitIdle = seconds
        }
    default:
        fail("unknown argument `\(argument)'")
    }
}
let passed: [PassedSocket]
do { passed = try takePassedSockets() } catch { fail(error.message) }
guard !specs.isEmpty else {
    fail("no endpoint given" + (emptyConfigs.isEmpty ? "" : ": \(emptyConfigs.joined(separator: ", ")) has only comments and blank lines")
         + (passed.isEmpty ? "" : " (systemd passed \(passed.count) socket(s))"))
}
signal(SIGPIPE, SIG_IGN)
do {
    let configs = try specs.map { spec throws(ConfigError) in
        do throws(ConfigError) { return try EndpointConfig.parse(spec, defaultTender: tender) } catch {
            throw ConfigError("endpoint `\(spec)': \(error.message)")
        }
    }
    let launcher = try Launcher(configs: configs, passed: passed)
    launcher.exitIdle = exitIdle.map { IdleExit(seconds: $0) }
    launcher.run()
} catch {
    fail(error.message)
}
