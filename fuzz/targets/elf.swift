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
    guard (try? elf.checkABI()) != nil else { return 0 }
    _ = try? elf.manifest()
    let memorySize: UInt64 = 4 << 20
    guard let plan = try? LoadPlan.make(for: elf, memorySize: memorySize, minimumBase: X86Layout.guestMinBase) else {
        return 0
    }
    // A fresh mapping each time a plan passes: the plan sets protections.
    guard let memory = try? GuestMemory(size: memorySize, mappedSize: memorySize,
                                        accessMap: X86Layout.accessMap(for: plan)) else { return 0 }
    _ = try? memory.load(plan, from: elf)
    // (The tender never unmaps guest memory: it lives as long as the process.)
    munmap(memory.base, Int(memory.mappedSize))
    return 0
}
