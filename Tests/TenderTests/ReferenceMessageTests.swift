import Foundation
import Testing

/// One condition Solo5 v0.12.1's `solo5-hvt` reports (issue §3: its
/// messages are a contract): the command line and input that bring it
/// about, the reference's exact words (each printed after the program
/// name, as err(3) prints them) and its exit status. Our message may say
/// more after those words, never other words.
struct ReferenceMessage: CustomTestStringConvertible, Sendable {
    /// What the row's `{input}` is: a file of these bytes, a directory, a
    /// FIFO, or a path where nothing is.
    enum Input: Sendable {
        case none
        case file([UInt8])
        case directory
        case fifo
        case missing
    }

    var name: String
    /// The tender's arguments, with the placeholders of Tests/Guests/cases.txt
    /// (`{hello}`, `{disk:BYTES}`, `{tapN}`, a first word `solo5-hvt-debug`)
    /// and `{input}`.
    var arguments: [String]
    var input: Input
    /// As in cases.txt: any, pvm (kvm_pvm only) or real.
    var environment: String
    var status: Int32
    /// In the order printed, each at the start of a line, `{input}` replaced;
    /// none when the reference prints nothing.
    var messages: [String]

    init(_ name: String, _ arguments: [String], input: Input = .none, environment: String = "any", status: Int32 = 1,
         _ messages: String...) {
        self.name = name
        self.arguments = arguments
        self.input = input
        self.environment = environment
        self.status = status
        self.messages = messages
    }

    var testDescription: String { name }

    var applies: Bool {
        switch environment {
        case "pvm": Harness.isKVMPVM
        case "real": !Harness.isKVMPVM
        default: true
        }
    }

    /// Net rows run in a network namespace of their own: no interface of
    /// the host's may answer for one the row names.
    var needsNamespace: Bool { arguments.contains { $0.hasPrefix("--net:") } }
}

extension ReferenceMessage.Input {
    /// An executable ElfBuilder makes, changed by `change`.
    static func elf(_ change: (inout ElfBuilder) -> Void) -> Self {
        var builder = ElfBuilder()
        change(&builder)
        return .file(builder.bytes())
    }

    /// ElfBuilder's executable, cut `delta` bytes into what program header
    /// `index` points at.
    static func elfCut(insideProgramHeader index: Int, at delta: Int) -> Self {
        let bytes = ElfBuilder().bytes()
        let field = 64 + 56 * index + 8
        let offset = bytes[field..<field + 8].reversed().reduce(0) { $0 << 8 | Int($1) }
        return .file(Array(bytes.prefix(offset + delta)))
    }

    func make(at path: String) throws {
        switch self {
        case .none, .missing: break
        case .file(let bytes): try Data(bytes).write(to: URL(fileURLWithPath: path))
        case .directory: try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        case .fifo: #expect(mkfifo(path, 0o600) == 0)
        }
    }
}

extension ReferenceMessage {
    /// The table. Where a message holds a number the reference computes
    /// (a size, an address, a count), the row's input fixes it.
    static let table: [ReferenceMessage] = [
        // The command line (hvt_main.c).
        .init("missing kernel", [], "Missing KERNEL operand"),
        .init("missing kernel after options", ["--mem=32", "--"], "Missing KERNEL operand"),
        .init("invalid option", ["--frobnicate", "{hello}"], "Invalid option: `--frobnicate'"),
        .init("mem not a number", ["--mem=abc", "{hello}"], "Malformed argument to --mem"),
        .init("mem zero", ["--mem=0", "{hello}"], "Malformed argument to --mem"),
        .init("mem 2^44 MB, zero bytes", ["--mem=17592186044416", "{hello}"], "Malformed argument to --mem"),
        // (hvt_cpu_x86_64.c)
        .init("mem rounded", ["--mem=3", "{hello}"], status: 0, "adjusting memory to 2097152 bytes"),
        .init("mem too large", ["--mem=8192", "{hello}"],
              "guest memory size 8589934592 bytes exceeds the max size 4294967296 bytes"),
        .init("mem rounded, too large", ["--mem=4099", "{hello}"], "adjusting memory to 4297064448 bytes",
              "guest memory size 4297064448 bytes exceeds the max size 4294967296 bytes"),
        .init("mem negative, a size_t", ["--mem=-1", "{hello}"], "adjusting memory to 18446744073707454464 bytes",
              "guest memory size 18446744073707454464 bytes exceeds the max size 4294967296 bytes"),
        // (hvt_boot_info.c)
        .init("command line too long", ["--mem=32", "{cmdline}", String(repeating: "a", count: 8192)],
              "Guest command line too long (max=8191 characters)"),

        // KERNEL (hvt_main.c, elf.c).
        .init("kernel missing", ["{input}"], input: .missing, "{input}: Could not open: No such file or directory"),
        .init("kernel a directory", ["{input}"], input: .directory,
              "{input}: pread_in_full for elf header while loading note returned 18446744073709551615 < 0"),
        .init("kernel empty", ["{input}"], input: .file([]),
              "{input}: invalid executable: elf header does not match the expected size (0 != 64)"),
        .init("kernel text", ["{input}"], input: .file(Array("hello\n".utf8)),
              "{input}: invalid executable: elf header does not match the expected size (6 != 64)"),
        .init("kernel short ELF", ["{input}"], input: .file(Array(ElfBuilder().bytes().prefix(40))),
              "{input}: invalid executable: elf header does not match the expected size (40 != 64)"),
        .init("kernel not ELF", ["{input}"], input: .file([UInt8](repeating: 0x78, count: 100)),
              "{input}: invalid executable: invalid or unsupported executable (elf header invalid while loading note)"),
        .init("kernel 32-bit", ["{input}"], input: .elf { $0.ident[4] = 1 },
              "{input}: invalid executable: invalid or unsupported executable (elf header invalid while loading note)"),
        .init("kernel shared object", ["{input}"], input: .elf { $0.type = 3 },
              "{input}: invalid executable: invalid or unsupported executable (elf header invalid while loading note)"),
        .init("kernel for i386", ["{input}"], input: .elf { $0.machine = 3 },
              "{input}: invalid executable: invalid or unsupported executable (elf header invalid while loading note)"),
        .init("kernel program headers cut", ["{input}"], input: .file(Array(ElfBuilder().bytes().prefix(120))),
              "{input}: invalid executable: program header does not match the expected size (56 != 168 while loading note)"),
        .init("no ABI note", ["{input}"], input: .elf { $0.notes.removeFirst() },
              "{input}: No Solo5 ABI information found in executable"),
        .init("not for hvt", ["{input}"], input: .elf { $0.notes[0] = ElfBuilder.abiNote(target: 2) },
              "{input}: Executable is not for the solo5-hvt target"),
        .init("unsupported ABI version", ["{input}"], input: .elf { $0.notes[0] = ElfBuilder.abiNote(version: 3) },
              "{input}: Executable requests unsupported ABI version 3"),
        .init("no manifest", ["{input}"], input: .elf { $0.notes.removeLast() },
              "{input}: No Solo5 manifest found in executable"),
        .init("invalid manifest", ["{input}"], input: .elf { $0.notes[1] = ElfBuilder.manifestNote(version: 2) },
              "{input}: Solo5 manifest is invalid"),
        .init("note segment too small", ["{input}"], input: .elf { $0.notes[0].segmentSize = 8 },
              "{input}: invalid executable: phdr[1].p_filesz note does not fall within valid size (8 < 12)"),
        .init("note too large", ["{input}"], input: .elf { $0.notes[0].declaredSize = 33 },
              "{input}: invalid executable: phdr[1] note does not fall within valid size (33 < 1 || 33 > 32)"),
        .init("note past its segment", ["{input}"], input: .elf { $0.notes[0].segmentSize = 30 },
              "{input}: invalid executable: phdr[1] note does not fall within valid size (30 < 36)"),
        .init("manifest shorter than its padding", ["{input}"], input: .elf { $0.notes[1].descriptor = [0, 0, 0] },
              "{input}: INV_EXE: phdr[2] note does not fall within valid size "
                  + "(18446744073709551615 <= 0 || 18446744073709551615 > 3)"),
        .init("note header cut", ["{input}"], input: .elfCut(insideProgramHeader: 1, at: 8),
              "{input}: phdr[1] bytes read mismatches note size (8 != 20)"),
        .init("manifest cut", ["{input}"], input: .elfCut(insideProgramHeader: 2, at: 34),
              "{input}: phdr[2] bytes read mismatches note size (10 != 112)"),
        .init("entry outside memory", ["--mem=32", "{input}"], input: .elf { $0.entry = 0x1000 },
              "{input}: invalid executable: e_entry does not fall within the memory allocation range "
                  + "(4096 < 1048576 || 4096 >= 33554432)"),
        .init("segment below the minimum", ["--mem=32", "{input}"], input: .elf { $0.segments[0].address = 0x1000 },
              "{input}: invalid executable: phdr[0].p_vaddr outside of valid memory range (4096 < 1048576)"),
        .init("segment past memory", ["--mem=32", "{input}"], input: .elf { $0.segments[0].memorySize = 1 << 40 },
              "{input}: invalid executable: phdr[0] program memory segment falls outside of valid range "
                  + "(1099512676352 (p_vaddr + p_memsz) > 33554432 (mem_size))"),
        .init("segment writable and executable", ["--mem=32", "{input}"], input: .elf { $0.segments[0].flags = 7 },
              "{input}: invalid executable: phdr[0] requests WRITE and EXEC permissions"),
        .init("segment past the file", ["--mem=32", "{input}"], input: .elf { $0.segments[0].fileOffset = 1 << 20 },
              "{input}: phdr[0] host file segment mismatched (pread_in_full returned 0 != 3 (p_filesz))"),

        // Devices the manifest declares (hvt_main.c).
        .init("block not attached", ["--mem=32", "{blockdecl}"],
              "Device 'storage' of type BLOCK_BASIC declared but not attached.",
              "All declared devices must be attached. See --help for syntax."),
        .init("net not attached", ["--mem=32", "{net_mtu}"],
              "Device 'service0' of type NET_BASIC declared but not attached.",
              "All declared devices must be attached. See --help for syntax."),

        // Block (hvt_module_blk.c, block_attach.c); Solo5's tests "blk odd"
        // and "blk too small" match the first two.
        .init("block size odd", ["--mem=32", "--block:storage={disk:1563}", "--block-sector-size:storage=521", "{blk}"],
              "Block size must be a multiple of 2 greater than or equal 512",
              "Invalid option: `--block-sector-size:storage=521'"),
        .init("block size too small", ["--mem=32", "--block:storage={disk:256}", "--block-sector-size:storage=256", "{blk}"],
              "Block size must be a multiple of 2 greater than or equal 512",
              "Invalid option: `--block-sector-size:storage=256'"),
        .init("block storage missing", ["--mem=32", "--block:storage={input}", "{blk}"], input: .missing,
              "Could not open block device: {input}: No such file or directory"),
        .init("block storage a directory", ["--mem=32", "--block:storage={input}", "{blk}"], input: .directory,
              "Could not open block device: {input}: Is a directory"),
        .init("block storage a FIFO", ["--mem=32", "--block:storage={input}", "{blk}"], input: .fifo,
              "{input}: Could not determine capacity: Illegal seek"),
        .init("block storage not block aligned", ["--mem=32", "--block:storage={disk:1000}", "{blk}"],
              "storage: Backing storage size must be block aligned (512 bytes)"),
        .init("block storage not aligned to 4096", ["--mem=32", "--block:storage={disk:6144}",
                                                    "--block-sector-size:storage=4096", "{blk}"],
              "storage: Backing storage size must be block aligned (4096 bytes)"),
        .init("block storage empty", ["--mem=32", "--block:storage={disk:0}", "{blk}"],
              "storage: Backing storage must be at least 1 block (512 bytes) in size"),
        .init("block undeclared", ["--mem=32", "--block:nosuch={input}", "{blk}"], input: .file([UInt8](repeating: 0, count: 4096)),
              "Resource not declared in manifest: 'nosuch'", "Invalid option: `--block:nosuch={input}'"),
        .init("block sector size undeclared", ["--mem=32", "--block-sector-size:nosuch=512", "{blk}"],
              "Resource not declared in manifest: 'nosuch'", "Invalid option: `--block-sector-size:nosuch=512'"),
        .init("block option without path", ["--mem=32", "--block:storage=", "{blk}"], "Invalid option: `--block:storage='"),

        // Net (hvt_module_net.c, tap_attach.c), each in a namespace of its own.
        .init("net no such interface", ["--mem=32", "--net:service0=tap9", "{net_mtu}"],
              "Could not attach interface: tap9: No such file or directory", "Invalid option: `--net:service0=tap9'"),
        .init("net interface name too long", ["--mem=32", "--net:service0=averyveryverylongname", "{net_mtu}"],
              "Could not attach interface: averyveryverylongna: File name too long",
              "Invalid option: `--net:service0=averyveryverylongname'"),
        .init("net not a TAP", ["--mem=32", "--net:service0=lo", "{net_mtu}"],
              "Could not attach interface: lo: Invalid argument", "Invalid option: `--net:service0=lo'"),
        .init("net descriptor not a number", ["--mem=32", "--net:service0=@x", "{net_mtu}"],
              "Could not attach interface: @x: Invalid argument", "Invalid option: `--net:service0=@x'"),
        .init("net descriptor out of range", ["--mem=32", "--net:service0=@99999999999", "{net_mtu}"],
              "Could not attach interface: @99999999999: Numerical result out of range",
              "Invalid option: `--net:service0=@99999999999'"),
        // The largest descriptor number: never open (a small one may be
        // inherited from the test runner).
        .init("net descriptor closed", ["--mem=32", "--net:service0=@2147483647", "{net_mtu}"],
              "Could not attach interface: @2147483647: Bad file descriptor", "Invalid option: `--net:service0=@2147483647'"),
        .init("net undeclared", ["--mem=32", "--net:nosuch={tap0}", "{net_mtu}"],
              "Resource not declared in manifest: 'nosuch'", "Invalid option: `--net:nosuch=tap0'"),
        .init("net MAC undeclared", ["--mem=32", "--net-mac:nosuch=02:00:00:00:00:01", "--net:service0={tap0}", "{net_mtu}"],
              "Resource not declared in manifest: 'nosuch'", "Invalid option: `--net-mac:nosuch=02:00:00:00:00:01'"),
        .init("net MAC malformed", ["--mem=32", "--net-mac:service0=02:00:00:00:01", "--net:service0={tap0}", "{net_mtu}"],
              "Invalid option: `--net-mac:service0=02:00:00:00:01'"),

        // The guest's end (hvt_core.c, hvt_kvm_x86_64.c): its own status,
        // silently; faults and exits the reference does not serve.
        .init("guest exit status", ["--mem=32", "{exitcode}", "42"], status: 42),
        .init("guest abort", ["--mem=32", "{abort}"], status: 255),
        .init("guest stack smashing", ["--mem=32", "{ssp}"], status: 255),
        .init("hypercall not registered", ["--mem=32", "{hostile}", "hypercall-zero"], "Invalid guest hypercall: num=0"),
        .init("block hypercall without block", ["--mem=32", "{hostile}", "block-read-oob"], "Invalid guest hypercall: num=5"),
        .init("port past the hypercalls", ["--mem=32", "{hostile}", "hypercall-max"], "Invalid guest port access: port=0x509"),
        .init("port read", ["--mem=32", "{hostile}", "port-in"], "Invalid guest port access: port=0x501"),
        .init("triple fault", ["--mem=32", "{nullpage}"], "KVM: unhandled exit: exit_reason=0x8, rip=0x"),
        .init("write to code, kvm_pvm", ["--mem=32", "{write_text}"], environment: "pvm",
              "KVM: unhandled exit: exit_reason=0x6, rip=0x"),
        .init("write to code", ["--mem=32", "{write_text}"], environment: "real", "KVM: host/guest translation fault: rip=0x"),
        .init("SSE, kvm_pvm", ["--mem=32", "{sse}"], environment: "pvm", "KVM: internal error exit: suberror=0x1"),
        .init("fetch from no-access memory, kvm_pvm", ["--mem=32", "{exec_noaccess}"], environment: "pvm",
              "KVM: internal error exit: suberror=0x1"),

        // solo5-hvt-debug's modules (hvt_module_dumpcore.c, hvt_module_gdb.c).
        .init("dumpcore directory missing", ["solo5-hvt-debug", "--mem=32", "--dumpcore={input}", "{hello}"], input: .missing,
              "dumpcore: cannot open dir"),
        .init("dumpcore directory a file", ["solo5-hvt-debug", "--mem=32", "--dumpcore={input}", "{hello}"],
              input: .file([]), "dumpcore: cannot open dir"),
        .init("gdb port not a number", ["solo5-hvt-debug", "--gdb-port=x", "{hello}"], "Malformed argument to --gdb-port"),
        .init("gdb port out of range", ["solo5-hvt-debug", "--gdb-port=70000", "{hello}"], "Malformed argument to --gdb-port"),
    ]
}

/// Runs our built tender through the table: each row's status, and each of
/// its messages at the start of a line of stderr, after the program name.
/// The rows hold for the reference too: run the suite with TENDER_PRODUCTS
/// naming a directory that holds its `solo5-hvt` and `solo5-hvt-debug` and
/// a `guests` link to ours (the tests themselves never need it).
@Suite("The reference's messages")
struct ReferenceMessageTests {
    @Test func tableIsWellFormed() {
        let table = ReferenceMessage.table
        #expect(table.count >= 60)
        #expect(Set(table.map(\.name)).count == table.count, "row names are unique")
        for row in table {
            #expect(["any", "pvm", "real"].contains(row.environment), "\(row.name)")
            #expect(row.status != 1 || !row.messages.isEmpty, "\(row.name): a failure the reference reports says what")
            #expect((try? row.arguments.map(CaseRun.scan)) != nil, "\(row.name): bad placeholder")
        }
    }

    @Test(arguments: ReferenceMessage.table.filter(\.applies))
    func row(_ row: ReferenceMessage) throws {
        try Harness.requireKVM()
        let directory = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("input").path
        try row.input.make(at: input)
        let run = try CaseRun(arguments: row.arguments.map { $0.replacingOccurrences(of: "{input}", with: input) },
                              needsNamespace: row.needsNamespace)
        defer { run.close() }
        let outcome = try run.startTender().wait(timeout: 60)
        #expect(!outcome.signaled && outcome.status == row.status, "\(outcome)")
        if row.messages.isEmpty { #expect(outcome.stderr.isEmpty, "the reference prints nothing:\n\(outcome)") }
        // Each message at the start of a line, after the ones before it.
        var rest = Substring("\n" + outcome.stderr)
        for message in row.messages {
            let line = "\n\(run.tender): " + message.replacingOccurrences(of: "{input}", with: input)
            guard let found = rest.range(of: line) else {
                Issue.record("must print, in this order: \(line.dropFirst())\n\(outcome)")
                break
            }
            rest = rest[found.upperBound...]
        }
    }
}
