// swift-tools-version:6.0
import PackageDescription

// The tender links the Swift runtime statically so that it starts fast and
// depends only on libc, libelf and libseccomp at run time.
let staticStdlib: [LinkerSetting] = [.unsafeFlags(["-static-stdlib"])]

let package = Package(
    name: "Tender",
    products: [
        .executable(name: "solo5-hvt", targets: ["solo5-hvt"]),
    ],
    targets: [
        // The hvt ABI as C headers, shared with the test guests.
        .target(name: "HvtABI", path: "abi", sources: ["layout_checks.c"], publicHeadersPath: "include"),
        // Linux declarations Swift cannot import directly (ioctl numbers, epoll, timerfd).
        .target(name: "CLinux"),
        .systemLibrary(name: "CLibELF", pkgConfig: "libelf", providers: [.apt(["libelf-dev"])]),
        .systemLibrary(name: "CSeccomp", pkgConfig: "libseccomp", providers: [.apt(["libseccomp-dev"])]),

        .target(name: "Tender", dependencies: ["HvtABI", "CLinux", "CLibELF", "CSeccomp"]),
        .target(name: "Console", dependencies: ["Tender", "HvtABI"], path: "Sources/Modules/Console"),

        .executableTarget(name: "solo5-hvt", dependencies: ["Tender", "Console"],
                          linkerSettings: staticStdlib),

        // A tender with a test-only module, to exercise the module API end to end.
        .executableTarget(name: "solo5-hvt-testmodule", dependencies: ["Tender", "Console", "HvtABI"],
                          path: "Tests/TestModuleTender", linkerSettings: staticStdlib),
        .testTarget(name: "TenderTests", dependencies: ["Tender", "HvtABI", "solo5-hvt", "solo5-hvt-testmodule"]),
    ]
)
