// The ELF + notes + manifest + load-plan path, on untrusted bytes: what the
// tender does with a KERNEL before it runs anything. A load plan that
// passes is loaded into a real GuestMemory (where a wrong check would
// write outside it and the address sanitizer would say so).
import Glibc
@testable import Tender

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let elf = try? ElfFile.parse(bytes: bytes, name: "fuzz") else { return 0 }
    defer { elf.close() }
    // Every ABI version the tender accepts (0, 1, 2) decides the layout.
    guard let abi = try? elf.checkABI() else { return 0 }
    _ = try? abi.manifest(of: elf)
    let memorySize: UInt64 = 4 << 20
    guard let plan = try? LoadPlan.make(for: elf, abi: abi, memorySize: memorySize,
                                        minimumBase: X86Layout.guestMinBase) else {
        return 0
    }
    // A fresh mapping each time a plan passes: the plan sets protections.
    guard let memory = try? GuestMemory(size: memorySize, mappedSize: memorySize,
                                        accessMap: X86Layout.accessMap(for: plan, abi: abi)) else { return 0 }
    _ = try? plan.load(from: elf, into: memory)
    // (The tender never unmaps guest memory: it lives as long as the process.)
    munmap(memory.base, Int(memory.mappedSize))
    return 0
}
