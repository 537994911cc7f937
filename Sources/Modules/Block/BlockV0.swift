import HvtABI
import Tender

extension BlockModule {
    /// Before 0.6 (`hvt_abi_v0.h`): BLKINFO, and BLKWRITE/BLKREAD by sector
    /// number on the one block device, answering 0 or -1. The same device
    /// code checks and moves the bytes.
    func registerV0Hypercalls(_ tender: ModuleSetup, device: Device) throws(TenderError) {
        let memory = tender.memory
        let info = hvt_v0_hc_blkinfo(sector_size: device.blockSize, num_sectors: device.capacity / device.blockSize, rw: 1)
        try tender.registerHypercall(HVT_V0_HYPERCALL_BLKINFO) { address throws(TenderError) in
            try memory.store(info, at: address)
        }
        /// The byte offset of `sector`, or nil past the device.
        func offset(_ sector: UInt64) -> UInt64? {
            let (offset, overflow) = sector.multipliedReportingOverflow(by: device.blockSize)
            return overflow ? nil : offset
        }
        let writeResult = GuestAddress(MemoryLayout<hvt_v0_hc_blkwrite>.offset(of: \.ret)!)
        try tender.registerHypercall(HVT_V0_HYPERCALL_BLKWRITE) { address throws(TenderError) in
            let call = try memory.load(hvt_v0_hc_blkwrite.self, at: address)
            let result = try offset(call.sector).map { offset throws(TenderError) in
                try device.write(call.data, length: call.len, offset: offset, in: memory)
            } ?? SOLO5_R_EINVAL
            try memory.store(Int32(result == SOLO5_R_OK ? 0 : -1), at: address &+ writeResult)
        }
        let readResult = GuestAddress(MemoryLayout<hvt_v0_hc_blkread>.offset(of: \.ret)!)
        try tender.registerHypercall(HVT_V0_HYPERCALL_BLKREAD) { address throws(TenderError) in
            let call = try memory.load(hvt_v0_hc_blkread.self, at: address)
            let result = try offset(call.sector).map { offset throws(TenderError) in
                try device.read(call.data, length: call.len, offset: offset, in: memory)
            } ?? SOLO5_R_EINVAL
            try memory.store(Int32(result == SOLO5_R_OK ? 0 : -1), at: address &+ readResult)
        }
    }
}
