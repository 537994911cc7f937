import HvtABI

/// Builds `struct hvt_boot_info` in guest low memory: the boot info itself,
/// then a copy of the manifest, then the command line.
enum BootInfo {
    /// Joins the guest's arguments with single spaces, checking the limit.
    static func commandLine(_ arguments: ArraySlice<String>) throws(TenderError) -> [UInt8] {
        // Byte by byte rather than joined(separator:), whose generic code
        // costs more at start-up than the rest of the boot info.
        var bytes: [UInt8] = []
        for index in arguments.indices {
            if index != arguments.startIndex { bytes.append(UInt8(ascii: " ")) }
            bytes.append(contentsOf: arguments[index].utf8)
        }
        guard bytes.count < Int(HVT_CMDLINE_SIZE) else {
            throw TenderError("Guest command line too long (max=\(HVT_CMDLINE_SIZE - 1) characters)")
        }
        bytes.append(0)
        return bytes
    }

    /// Before 0.6: `struct hvt_v0_boot_info` at 0x5000 and the command line
    /// at 0x6000; no manifest.
    static func writeV0(into memory: GuestMemory, kernelEnd: UInt64, cpuCycleFrequency: UInt64,
                        commandLine: [UInt8]) throws(TenderError) {
        let info = hvt_v0_boot_info(mem_size: memory.size, kernel_end: kernelEnd,
                                    cmdline: X86Layout.V0.commandLineBase, tsc_freq: cpuCycleFrequency)
        try memory.hostStore(info, at: X86Layout.V0.bootInfoBase)
        try memory.hostCopy(commandLine, to: X86Layout.V0.commandLineBase)
    }

    static func write(into memory: GuestMemory, abi: ABIVersion = .v2, kernelEnd: UInt64, cpuCycleFrequency: UInt64,
                      manifest: [UInt8], commandLine: [UInt8], hostFeatures: UInt32 = 0,
                      netRing: GuestAddress = 0) throws(TenderError) {
        if abi == .v0 {
            return try writeV0(into: memory, kernelEnd: kernelEnd, cpuCycleFrequency: cpuCycleFrequency,
                               commandLine: commandLine)
        }
        let base = X86Layout.bootInfoBase
        let manifestAddress = base + UInt64(MemoryLayout<hvt_boot_info>.size)
        let commandLineAddress = manifestAddress + UInt64(manifest.count)
        var info = hvt_boot_info()
        info.mem_size = memory.size
        info.kernel_end = kernelEnd
        info.cpu_cycle_freq = cpuCycleFrequency
        info.cmdline = commandLineAddress
        info.mft = manifestAddress
        // Ring I/O (HVT_FEATURE_RING_IO) when the net module offers it. The
        // boot info page is read-only to the guest, so guest_features stays
        // zero: a guest accepts the feature by using the ring.
        info.host_features = hostFeatures
        info.net_ring = netRing
        try memory.hostStore(info, at: base)
        try memory.hostCopy(manifest, to: manifestAddress)
        try memory.hostCopy(commandLine, to: commandLineAddress)
    }
}
