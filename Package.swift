// swift-tools-version:6.0
import PackageDescription

// The tenders link the Swift runtime, libstdc++ and libgcc statically and are
// not position independent, so that they start fast (no relocation of the
// runtime's metadata, no libstdc++ or libgcc_s to load) and depend only on
// libc (with libm), libelf and libseccomp at run time.
let staticStdlib: [LinkerSetting] = [.unsafeFlags([
    "-static-stdlib", "-Xclang-linker", "-no-pie", "-Xclang-linker", "-static-libgcc",
    "-L", Context.packageDirectory + "/link",
])]

let package = Package(
    name: "Tender",
    products: [
        .executable(name: "solo5-hvt", targets: ["solo5-hvt"]),
        .executable(name: "solo5-elftool", targets: ["solo5-elftool"]),
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
        .target(name: "Block", dependencies: ["Tender", "HvtABI"], path: "Sources/Modules/Block"),
        .target(name: "Net", dependencies: ["Tender", "HvtABI", "CLinux"], path: "Sources/Modules/Net"),

        .executableTarget(name: "solo5-hvt", dependencies: ["Tender", "Console", "Block", "Net"],
                          linkerSettings: staticStdlib),
        // solo5-elftool query-abi/query-manifest, on Tender's ELF and manifest parsers.
        .executableTarget(name: "solo5-elftool", dependencies: ["Tender"], linkerSettings: staticStdlib),

        // A tender with a test-only module, to exercise the module API end to end.
        .executableTarget(name: "solo5-hvt-testmodule",
                          dependencies: ["Tender", "Console", "Block", "Net", "HvtABI", "CLinux"],
                          path: "Tests/TestModuleTender", linkerSettings: staticStdlib),
        // Opens a TAP interface and execs a tender with the descriptor, for
        // the tests of `--net:NAME=@NN`.
        .executableTarget(name: "tapfd", dependencies: ["CLinux"], path: "Tests/TapFD"),
        // The tests run the built executables (swift build builds them with
        // the tests) rather than linking them, which would drag the static
        // stdlib flag into the test bundle.
        .testTarget(name: "TenderTests", dependencies: ["Tender", "HvtABI"]),
    ]
)
