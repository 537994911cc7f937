import HvtABI

/// Builds `struct hvt_boot_info` in guest low memory: the boot info itself,
/// then a copy of the manifest, then the command line.
enum BootInfo {
    /// Joins the guest's arguments with single spaces, checking the limit.
    static func commandLine(_ arguments: ArraySlice<String>) throws(TenderError) -> [UInt8] {
        var bytes = Array(arguments.joined(separator: " ").utf8)
        guard bytes.count < Int(HVT_CMDLINE_SIZE) else {
            throw TenderError("Guest command line too long (max=\(HVT_CMDLINE_SIZE - 1) characters)")
        }
        bytes.append(0)
        return bytes
    }

    static func write(into memory: GuestMemory, kernelEnd: UInt64, cpuCycleFrequency: UInt64,
                      manifest: [UInt8], commandLine: [UInt8]) throws(TenderError) {
        let base = X86Layout.bootInfoBase
        let manifestAddress = base + UInt64(MemoryLayout<hvt_boot_info>.size)
        let commandLineAddress = manifestAddress + UInt64(manifest.count)
        var info = hvt_boot_info()
        info.mem_size = memory.size
        info.kernel_end = kernelEnd
        info.cpu_cycle_freq = cpuCycleFrequency
        info.cmdline = commandLineAddress
        info.mft = manifestAddress
        // host_features, guest_features and net_ring stay zero: no ring I/O offered.
        try memory.store(info, at: base)
        try memory.copy(manifest, to: manifestAddress)
        try memory.copy(commandLine, to: commandLineAddress)
    }
}
