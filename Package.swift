// swift-tools-version:6.0
import PackageDescription

// The tenders are static executables: the Swift runtime, libc, libelf and
// libseccomp are linked in. There is no dynamic loader to run, no symbol to
// resolve and fewer pages to fault in at start-up, which is the product (the
// tender boots a unikernel in a few milliseconds); Firecracker ships the same
// way. Static executables are also not position independent, so the runtime's
// metadata needs no relocation.
let staticExecutable: [LinkerSetting] = [.unsafeFlags(["-static-executable"])]

let package = Package(
    name: "Tender",
    products: [
        .executable(name: "solo5-hvt", targets: ["solo5-hvt"]),
        .executable(name: "solo5-elftool", targets: ["solo5-elftool"]),
        .executable(name: "solo5-hvt-debug", targets: ["solo5-hvt-debug"]),
    ],
    targets: [
        // The hvt ABI as C headers, shared with the test guests.
        .target(name: "HvtABI", path: "abi", sources: ["layout_checks.c"], publicHeadersPath: "include"),
        // Linux declarations Swift cannot import directly (ioctl numbers, epoll, timerfd).
        .target(name: "CLinux"),
        // Linked into the tenders only (not the tests or fuzzers): turns the
        // Swift runtime's crash backtracer off before it probes /proc at
        // start-up (Sources/CStartup/backtrace_off.c).
        .target(name: "CStartup"),
        .systemLibrary(name: "CLibELF", pkgConfig: "libelf", providers: [.apt(["libelf-dev"])]),
        .systemLibrary(name: "CSeccomp", pkgConfig: "libseccomp", providers: [.apt(["libseccomp-dev"])]),

        .target(name: "Tender", dependencies: ["HvtABI", "CLinux", "CLibELF", "CSeccomp"]),
        .target(name: "Console", dependencies: ["Tender", "HvtABI"], path: "Sources/Modules/Console"),
        .target(name: "Block", dependencies: ["Tender", "HvtABI"], path: "Sources/Modules/Block"),
        .target(name: "Net", dependencies: ["Tender", "HvtABI", "CNet"], path: "Sources/Modules/Net"),
        // The net module's C helpers (TAP ioctls, the ring thread's spin hint).
        .target(name: "CNet", path: "Sources/Modules/CNet"),

        .executableTarget(name: "solo5-hvt", dependencies: ["CStartup", "Tender", "Console", "Block", "Net"],
                          linkerSettings: staticExecutable),
        // solo5-elftool query-abi/query-manifest, on Tender's ELF and manifest parsers.
        .executableTarget(name: "solo5-elftool", dependencies: ["CStartup", "Tender"], linkerSettings: staticExecutable),

        // A tender with a test-only module, to exercise the module API end to end.
        .executableTarget(name: "solo5-hvt-testmodule",
                          dependencies: ["CStartup", "Tender", "Console", "Block", "Net", "HvtABI", "CLinux", "GDB", "Dumpcore"],
                          path: "Tests/TestModuleTender", linkerSettings: staticExecutable),
        // Opens a TAP interface and execs a tender with the descriptor, for
        // the tests of `--net:NAME=@NN`.
        .executableTarget(name: "tapfd", dependencies: ["CNet"], path: "Tests/TapFD"),
        // Starts a tender as urunc does (its argv, a root with no /proc, a
        // non-root user, a vnet_hdr TAP), for the case table here and in
        // scripts/realkvm (static, like the tenders, for the nested VM).
        .target(name: "CUrunc", path: "Tests/CUrunc"),
        .executableTarget(name: "urunc-exec", dependencies: ["CUrunc"], path: "Tests/UruncExec",
                          linkerSettings: staticExecutable),
        // solo5-hvt-debug: solo5-hvt plus core dumps and a gdb stub.
        .target(name: "Dumpcore", dependencies: ["Tender", "CLinux"], path: "Sources/Modules/Dumpcore"),
        .target(name: "GDB", dependencies: ["Tender", "CLinux"], path: "Sources/Modules/GDB"),
        .executableTarget(name: "solo5-hvt-debug", dependencies: ["CStartup", "Tender", "Console", "Block", "Net", "GDB", "Dumpcore"],
                          linkerSettings: staticExecutable),

        // tender-activate: unikernels on demand (a VM per endpoint or per
        // connection, booted when a connection arrives; issue 16).
        .target(name: "CActivate", path: "Sources/CActivate"),
        .executableTarget(name: "tender-activate", dependencies: ["CActivate"], linkerSettings: staticExecutable),

        // The tests run the built executables (swift build builds them with
        // the tests) rather than linking them, which would drag the static
        // stdlib flag into the test bundle.
        .testTarget(name: "TenderTests", dependencies: ["Tender", "HvtABI"]),
    ]
)
