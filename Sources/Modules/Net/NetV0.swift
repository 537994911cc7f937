import HvtABI
import Tender

extension NetModule {
    /// Before 0.6 (`hvt_abi_v0.h`): NETINFO (the MAC), and NETWRITE/NETREAD
    /// on the one interface, answering 0 or -1. The same device code checks
    /// and moves the frames.
    func registerV0Hypercalls(_ setup: ModuleSetup, device: Device, mac: [UInt8]) throws(TenderError) {
        let memory = setup.memory
        var info = hvt_v0_hc_netinfo()
        withUnsafeMutableBytes(of: &info.mac_address) { $0.copyBytes(from: mac.prefix(6)) }
        try setup.registerHypercall(HVT_V0_HYPERCALL_NETINFO) { [info] address throws(TenderError) in
            try memory.store(info, at: address)
        }
        let writeResult = GuestMemory.offset(of: \hvt_v0_hc_netwrite.ret)
        try setup.registerHypercall(HVT_V0_HYPERCALL_NETWRITE) { address throws(TenderError) in
            let call = try memory.load(hvt_v0_hc_netwrite.self, at: address)
            let result = try device.send(call.data, length: call.len, in: memory, by: .hypercall)
            try memory.store(Int32(result == SOLO5_R_OK ? 0 : -1), at: address &+ writeResult)
        }
        let readLength = GuestMemory.offset(of: \hvt_v0_hc_netread.len)
        let readResult = GuestMemory.offset(of: \hvt_v0_hc_netread.ret)
        try setup.registerHypercall(HVT_V0_HYPERCALL_NETREAD) { address throws(TenderError) in
            let call = try memory.load(hvt_v0_hc_netread.self, at: address)
            let received = try device.receive(call.data, capacity: call.len, in: memory)
            if received.result == SOLO5_R_OK { try memory.store(received.length, at: address &+ readLength) }
            try memory.store(Int32(received.result == SOLO5_R_OK ? 0 : -1), at: address &+ readResult)
        }
    }
}
