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
        // BLKWRITE and BLKREAD take the same structure (layout_checks.c).
        typealias Transfer = (GuestAddress, UInt64, UInt64) throws(TenderError) -> solo5_result_t
        let transfers: [(hvt_v0_hypercall, Transfer)] = [
            (HVT_V0_HYPERCALL_BLKWRITE, { data, length, offset throws(TenderError) in
                try device.write(data, length: length, offset: offset, in: memory) }),
            (HVT_V0_HYPERCALL_BLKREAD, { data, length, offset throws(TenderError) in
                try device.read(data, length: length, offset: offset, in: memory) }),
        ]
        let resultOffset = GuestAddress(MemoryLayout<hvt_v0_hc_blkwrite>.offset(of: \.ret)!)
        for (number, transfer) in transfers {
            try tender.registerHypercall(number) { address throws(TenderError) in
                let call = try memory.load(hvt_v0_hc_blkwrite.self, at: address)
                let (offset, overflow) = call.sector.multipliedReportingOverflow(by: device.blockSize)
                let result = overflow ? SOLO5_R_EINVAL : try transfer(call.data, call.len, offset)
                try memory.store(Int32(result == SOLO5_R_OK ? 0 : -1), at: address &+ resultOffset)
            }
        }
    }
}
