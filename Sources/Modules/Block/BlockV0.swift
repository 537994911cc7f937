import HvtABI
import Tender

extension BlockModule {
    /// Before 0.6 (`hvt_abi_v0.h`): BLKINFO, and BLKWRITE/BLKREAD by sector
    /// number on the one block device, answering 0 or -1. The same device
    /// code checks and moves the bytes.
    func registerV0Hypercalls(_ setup: ModuleSetup, device: Device) throws(TenderError) {
        let memory = setup.memory
        let info = hvt_v0_hc_blkinfo(sector_size: device.blockSize, num_sectors: device.capacity / device.blockSize, rw: 1)
        try setup.registerHypercall(HVT_V0_HYPERCALL_BLKINFO) { address throws(TenderError) in
            try memory.store(info, at: address)
        }
        // BLKWRITE and BLKREAD take the same structure (layout_checks.c).
        let resultOffset = GuestMemory.offset(of: \hvt_v0_hc_blkwrite.ret)
        for (number, transfer) in [(HVT_V0_HYPERCALL_BLKWRITE, Device.Transfer.write), (HVT_V0_HYPERCALL_BLKREAD, .read)] {
            try setup.registerHypercall(number) { address throws(TenderError) in
                let call = try memory.load(hvt_v0_hc_blkwrite.self, at: address)
                let (offset, overflow) = call.sector.multipliedReportingOverflow(by: device.blockSize)
                let result = overflow ? SOLO5_R_EINVAL
                    : try device.transfer(transfer, call.data, length: call.len, offset: offset, in: memory)
                try memory.store(Int32(result == SOLO5_R_OK ? 0 : -1), at: address &+ resultOffset)
            }
        }
    }
}
