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

    /// What modules offer in the boot info: HVT_FEATURE_* bits in
    /// `host_features`, and the 64-bit fields past the features words that
    /// go with them (the net ring's address). Each bit and field is offered
    /// once; the core's fields cannot be. No allocation: it is filled in at
    /// every boot with a net device.
    struct Offers {
        private(set) var features: UInt32 = 0
        /// The boot info as modules filled it in (their fields only).
        private(set) var fields = hvt_boot_info()
        /// Bit i: the 64-bit field at byte offset 8 * i is taken.
        private var taken: UInt64 = 0

        /// Module fields start past the core's fields and the features words.
        static let firstField = MemoryLayout<hvt_boot_info>.offset(of: \hvt_boot_info.guest_features)! + 4

        mutating func offer(_ feature: UInt32, by module: String) throws(TenderError) {
            guard feature != 0, feature & (feature &- 1) == 0 else {
                throw TenderError("Module `\(module)' offers an invalid feature \(hex(UInt64(feature)))")
            }
            guard features & feature == 0 else {
                throw TenderError("Module `\(module)' offers feature \(hex(UInt64(feature))), already offered")
            }
            features |= feature
        }

        mutating func set(field offset: Int, to value: UInt64, by module: String) throws(TenderError) {
            guard offset >= Offers.firstField, offset % 8 == 0, offset + 8 <= MemoryLayout<hvt_boot_info>.size else {
                throw TenderError("Module `\(module)' sets boot info offset \(offset), not a field of its own")
            }
            let bit: UInt64 = 1 << (offset / 8)
            guard taken & bit == 0 else {
                throw TenderError("Module `\(module)' sets boot info offset \(offset), already set")
            }
            taken |= bit
            withUnsafeMutableBytes(of: &fields) { $0.storeBytes(of: value, toByteOffset: offset, as: UInt64.self) }
        }
    }

    static func write(into memory: GuestMemory, abi: ABIVersion = .v2, kernelEnd: UInt64, cpuCycleFrequency: UInt64,
                      manifest: [UInt8], commandLine: [UInt8], offers: Offers = Offers()) throws(TenderError) {
        if abi == .v0 {
            return try writeV0(into: memory, kernelEnd: kernelEnd, cpuCycleFrequency: cpuCycleFrequency,
                               commandLine: commandLine)
        }
        let base = X86Layout.bootInfoBase
        let manifestAddress = base + UInt64(MemoryLayout<hvt_boot_info>.size)
        let commandLineAddress = manifestAddress + UInt64(manifest.count)
        var info = offers.fields
        info.mem_size = memory.size
        info.kernel_end = kernelEnd
        info.cpu_cycle_freq = cpuCycleFrequency
        info.cmdline = commandLineAddress
        info.mft = manifestAddress
        // Features modules offer (ring I/O by the net module). The boot info
        // page is read-only to the guest, so guest_features stays zero: a
        // guest accepts a feature by using it.
        info.host_features = offers.features
        try memory.hostStore(info, at: base)
        try memory.hostCopy(manifest, to: manifestAddress)
        try memory.hostCopy(commandLine, to: commandLineAddress)
    }
}
