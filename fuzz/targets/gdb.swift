// The GDB remote protocol of solo5-hvt-debug: the bytes a debugger sends
// (packets, acks, noise, interrupts) read by RemoteConnection and served by
// GdbStub against a real vCPU and guest memory until the stub resumes the
// guest, ends the run or the debugger goes away. Replies go to a
// non-blocking socket nobody reads (a full buffer is a debugger gone).
@testable import GDB
import Glibc
@testable import Tender

let guestSize: UInt64 = 1 << 20

let machine: Machine = {
    let machine = try! Machine(guestSize: guestSize, mappedSize: guestSize,
                               accessMap: GuestAccessMap(noAccess: [0..<0x1000], readOnly: [0x1000..<0x2_0000]))
    try! machine.setUpVCPU(entry: 0x100000, abi: .v2)
    return machine
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    var pair: [Int32] = [0, 0]
    guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0 else { return 0 }
    defer { close(pair[0]); close(pair[1]) }
    var big: Int32 = 1 << 20
    setsockopt(pair[1], SOL_SOCKET, SO_SNDBUF, &big, socklen_t(MemoryLayout<Int32>.size))
    setsockopt(pair[0], SOL_SOCKET, SO_RCVBUF, &big, socklen_t(MemoryLayout<Int32>.size))
    // The debugger's bytes, then its end of the connection.
    var offset = 0
    while offset < size {
        let n = write(pair[0], data + offset, size - offset)
        guard n > 0 else { return 0 }
        offset += n
    }
    shutdown(pair[0], Int32(SHUT_WR))
    _ = fcntl(pair[1], F_SETFL, O_NONBLOCK)
    let stub = GdbStub(connection: RemoteConnection(socket: FileDescriptor(rawValue: pair[1])),
                       vcpu: machine.vcpu, memory: machine.memory)
    // Served until a resume (then again, as the run loop would after the
    // next stop) or until the bytes run out.
    for _ in 0..<64 {
        guard (try? stub.stopped(signal: 5, announce: false)) != nil else { break }
    }
    // Writable guest memory back to zero (the guest's own view: the
    // no-access and read-only pages below 0x20000 are protected on the host).
    memset(machine.memory.base + 0x2_0000, 0, Int(guestSize) - 0x2_0000)
    return 0
}
