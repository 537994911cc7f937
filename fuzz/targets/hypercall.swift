// Hypercall argument decoding: each input is a hypercall number, an
// argument address and bytes placed at that address in guest memory; the
// handler the real modules registered (core WALLTIME/POLL, console PUTS,
// block READ/WRITE on a scratch file, net READ/WRITE on a socket pair given
// as `--net:service0=@NN`) or the run loop's HALT (with the modules' halt
// hooks) runs on it. Any access outside guest memory
// would be an address-sanitizer report (the memory is a real mmap, with
// the access map of a real guest: no-access and read-only ranges).
//
// Input: [number % 9][address: u32 LE][bytes...]
import Block
import Console
import Glibc
import HvtABI
import Net
@testable import Tender

let guestSize: UInt64 = 1 << 20

/// The manifest of a guest with one block and one net device.
func makeManifest() -> Manifest {
    var bytes = [UInt8](repeating: 0, count: Manifest.headerSize + 3 * Manifest.entrySize)
    bytes.withUnsafeMutableBytes { raw in
        raw.storeBytes(of: mft(version: UInt32(MFT_VERSION), entries: 3), as: mft.self)
        for (index, (name, type)) in [("", MFT_RESERVED_FIRST), ("storage", MFT_DEV_BLOCK_BASIC),
                                      ("service0", MFT_DEV_NET_BASIC)].enumerated() {
            var entry = mft_entry()
            entry.type = type
            withUnsafeMutableBytes(of: &entry.name) { out in
                for (i, byte) in name.utf8.enumerated() { out[i] = byte }
            }
            raw.storeBytes(of: entry, toByteOffset: Manifest.headerSize + index * Manifest.entrySize, as: mft_entry.self)
        }
    }
    return try! Manifest(descriptor: bytes)
}

struct Setup {
    let machine: Machine
    let handlers: [Hypercall?]
    let hooks: RunHooks
}

let setup: Setup = {
    // Console output goes nowhere.
    let null = open("/dev/null", O_WRONLY)
    dup2(null, 1)
    let disk = "/tmp/tender-fuzz-disk-\(getpid())"
    let diskFD = open(disk, O_RDWR | O_CREAT | O_TRUNC, 0o600)
    ftruncate(diskFD, 64 * 1024)
    close(diskFD)
    var pair: [Int32] = [0, 0]
    socketpair(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0, &pair)

    let manifest = makeManifest()
    let accessMap = GuestAccessMap(noAccess: [0..<0x1000, 0xf_0000..<0xf_1000], readOnly: [0x1000..<0x2_0000])
    let machine = try! Machine(guestSize: guestSize, mappedSize: guestSize, accessMap: accessMap)
    let modules: [any TenderModule] = [CoreModule(), ConsoleModule(), BlockModule(), NetModule()]
    precondition(try! modules[2].handleOption("--block:storage=\(disk)", manifest: manifest))
    precondition(try! modules[3].handleOption("--net:service0=@\(pair[0])", manifest: manifest))
    unlink(disk)
    let moduleSetup = ModuleSetup(machine: machine, manifest: manifest, abi: .v2, hypercalls: HypercallTable(abi: .v2),
                                  waitset: try! Waitset())
    for module in modules { try! module.setup(moduleSetup) }
    return Setup(machine: machine, handlers: moduleSetup.hypercalls.handlers, hooks: moduleSetup.hooks)
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size >= 5 else { return 0 }
    let memory = setup.machine.memory
    let number = Int(data[0]) % 9
    let address = UInt64(data[1]) | UInt64(data[2]) << 8 | UInt64(data[3]) << 16 | UInt64(data[4]) << 24
    let image = UnsafeBufferPointer(start: data + 5, count: size - 5)
    let start = address % guestSize
    let placed = image.prefix(Int(guestSize - start))
    try! memory.hostCopy(placed, to: start)
    // POLL waits up to its timeout: keep it short (the field is decoded
    // all the same).
    if number == Int(HVT_HYPERCALL_POLL.rawValue), address + 8 <= guestSize {
        let timeout = memory.base.loadUnaligned(fromByteOffset: Int(address), as: UInt64.self)
        memory.base.storeBytes(of: timeout % 1000, toByteOffset: Int(address), as: UInt64.self)
    }
    if number == ABIVersion.v2.haltNumber {
        _ = try? RunLoop.halt(address, memory: memory, hooks: setup.hooks)
    } else if number < setup.handlers.count, let handler = setup.handlers[number] {
        _ = try? handler(address)
    }
    // The next input starts from zeroed memory (crashes must reproduce).
    memset(memory.base, 0, Int(guestSize))
    return 0
}
