// The net ring's validation: a ring (struct hvt_ring) full of fuzzed bytes
// in guest memory, served by NetRing.process() as the ring thread would
// after a kick, with one net device (a socket pair) at handle 1. The ring
// may name any data range: an access outside guest memory would be an
// address-sanitizer report; a rejected ring is a TenderError.
//
// Input: the ring's bytes (placed in the shared region above guest memory),
// then guest memory from its start.
import CLinux
import Glibc
import HvtABI
@testable import Net
@testable import Tender

let guestSize: UInt64 = 1 << 20
/// The ring is a shared region right above guest memory, as in the tender.
let ringAddress: GuestAddress = guestSize
let ringSize = MemoryLayout<hvt_ring>.size
let mappedSize = guestSize + (UInt64(ringSize) + 0xfff) & ~0xfff

struct Setup {
    let memory: GuestMemory
    let region: SharedRegion
    let devices: DeviceTable<NetModule.Device>
    let kick: FileDescriptor
}

let setup: Setup = {
    var pair: [Int32] = [0, 0]
    socketpair(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0, &pair)
    for fd in pair { _ = fcntl(fd, F_SETFL, O_NONBLOCK) }
    // A frame waiting to be read, so NET_READ entries find one.
    var frame = [UInt8](repeating: 0xab, count: 60)
    _ = write(pair[1], &frame, frame.count)
    var devices = DeviceTable<NetModule.Device>(entries: 3)
    devices[1] = NetModule.Device(descriptor: FileDescriptor(rawValue: pair[0]), maxFrame: 1514)
    let memory = try! GuestMemory(size: guestSize, mappedSize: mappedSize,
                                  accessMap: GuestAccessMap(noAccess: [0..<0x1000], readOnly: [0x1000..<0x2_0000]))
    let region = try! SharedRegion(memory: memory, address: ringAddress, size: UInt64(ringSize))
    return Setup(memory: memory, region: region, devices: devices, kick: FileDescriptor(rawValue: eventfd(0, 0)))
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let memory = setup.memory
    let input = UnsafeBufferPointer(start: data, count: size)
    try! memory.hostCopy(input.prefix(ringSize), to: ringAddress)
    if size > ringSize { try! memory.hostCopy(input.dropFirst(ringSize).prefix(Int(guestSize)), to: 0) }
    let ring = NetRing(memory: memory, region: setup.region, devices: setup.devices, kick: setup.kick)
    _ = try? ring.process()
    memset(memory.base, 0, Int(mappedSize))
    return 0
}
