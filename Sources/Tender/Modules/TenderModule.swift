#if canImport(Glibc)
import Glibc
#endif
import CLinux
import HvtABI

/// A hypercall handler: given the guest-physical address of its argument
/// structure. Handlers reach guest memory only through `GuestMemory`.
public typealias Hypercall = (GuestAddress) throws(TenderError) -> Void

/// Called when the guest halts, with its exit status and, if it passed one,
/// the address of a cookie already checked to span HVT_HALT_COOKIE_MAX bytes.
public typealias HaltHook = (_ status: Int32, _ cookie: GuestAddress?) -> Void

/// Called when the run ends on an error (a guest fault, an exit the tender
/// cannot serve, a refused hypercall), with the message about to be
/// printed, while the vCPU still holds the faulting state.
public typealias FaultHook = (_ message: String) -> Void

/// Called once the seccomp policy is sealed, before the first KVM_RUN: the
/// guest has not run an instruction yet.
public typealias StartHook = () throws(TenderError) -> Void

/// Called on a debug exit (asked for with `VCPU.setGuestDebug`); the guest
/// resumes when it returns.
public typealias DebugHook = (DebugEvent) throws(TenderError) -> Void

/// The hooks the run loop calls, as modules registered them.
struct RunHooks {
    var halt: [HaltHook] = []
    var fault: [FaultHook] = []
    var start: [StartHook] = []
    var debug: DebugHook?
}

/// A tender module: a plug-in that owns some devices or services. The core
/// owns the run loop; a module declares what it contributes and the core
/// wires it in. An executable lists its modules in one place (its main.swift).
public protocol TenderModule: AnyObject {
    /// The name listed under "Compiled-in modules".
    static var name: String { get }
    /// One usage line for `--help`, or nil when the module takes no options.
    static var usage: String? { get }

    init()

    /// Offered each option before KERNEL that the core does not own.
    /// Returns true when the option is this module's (and was valid).
    func handleOption(_ option: String, manifest: Manifest) throws(TenderError) -> Bool

    /// Bytes of memory this module shares with the guest outside the
    /// guest's `mem_size` (e.g. the net ring), 0 for none. Asked after the
    /// options are handled (the same answer each time), before guest memory
    /// exists and again at setup; each module's
    /// region sits above the guest's memory and `ModuleSetup.sharedRegion`
    /// hands it over.
    func sharedRegionSize() -> UInt64

    /// Attaches devices and registers hypercalls, poll descriptors and halt
    /// hooks. Runs after guest memory and the vCPU exist, before boot info
    /// is written and before the seccomp policy is sealed.
    func setup(_ setup: ModuleSetup) throws(TenderError)

    /// The system calls this module makes once the guest runs, with the
    /// arguments it makes them with. Asked after `setup`, so rules can name
    /// the descriptors the module opened.
    func seccompRules() -> [SeccompRule]
}

extension TenderModule {
    public static var usage: String? { nil }
    public func handleOption(_ option: String, manifest: Manifest) throws(TenderError) -> Bool { false }
    public func seccompRules() -> [SeccompRule] { [] }
    public func sharedRegionSize() -> UInt64 { 0 }
}

/// What a module may do while it is set up.
public final class ModuleSetup {
    public let memory: GuestMemory
    public let manifest: Manifest
    /// The ABI the guest speaks. Hypercalls whose number and structure are
    /// the same in every version need nothing more; where they differ, a
    /// module registers one handler per version (`hvt_v0_hypercall` ones for
    /// `.v0`).
    public let abi: ABIVersion
    let machine: Machine
    let hypercalls: HypercallTable
    let waitset: Waitset
    var hooks = RunHooks()
    private var debugHookOwner = ""
    var currentModule = ""
    /// The module being set up's shared region, if it asked for one.
    var currentRegion: SharedRegion?
    /// Boot info contributed by modules: feature bits and fields.
    private(set) var bootInfo = BootInfo.Offers()

    init(machine: Machine, manifest: Manifest, abi: ABIVersion, hypercalls: HypercallTable, waitset: Waitset) {
        self.machine = machine
        self.abi = abi
        self.memory = machine.memory
        self.manifest = manifest
        self.hypercalls = hypercalls
        self.waitset = waitset
    }

    /// This module's shared region (`sharedRegionSize()` bytes,
    /// zero-filled), or nil when it asked for none.
    public var sharedRegion: SharedRegion? { currentRegion }

    /// Makes a 4-byte guest `outl` to `port` signal a new eventfd inside KVM
    /// (KVM_IOEVENTFD): no exit reaches the tender. Returns the eventfd, or
    /// nil (with a warning) when KVM cannot do it.
    public func registerPortKick(port: UInt16) -> FileDescriptor? {
        guard machine.hasIoeventfd else { return nil }
        let raw = eventfd(0, Int32(EFD_CLOEXEC))
        guard raw >= 0 else {
            Diagnostics.warn("eventfd() failed, falling back to hypercalls: \(Errno.current)")
            return nil
        }
        let descriptor = FileDescriptor(rawValue: raw)
        if case .failure(let code) = machine.vm.registerPortEventfd(port: port, eventfd: descriptor) {
            Diagnostics.warn("KVM_IOEVENTFD failed, falling back to hypercalls: \(code)")
            descriptor.close()
            return nil
        }
        return descriptor
    }

    /// Offers `feature` (an HVT_FEATURE_* bit) in the boot info's
    /// `host_features`. A bit can be offered by one module only.
    public func offerFeature(_ feature: UInt32) throws(TenderError) {
        try bootInfo.offer(feature, by: currentModule)
    }

    /// Sets the 64-bit boot info field at byte `offset` (e.g. where a
    /// feature's shared region is: `MemoryLayout<hvt_boot_info>.offset(of:
    /// \.net_ring)`). One module per field; the core's fields are its own.
    public func setBootInfoField(_ offset: Int, to value: UInt64) throws(TenderError) {
        try bootInfo.set(field: offset, to: value, by: currentModule)
    }

    /// Claims hypercall `number` of ABI versions 1 and 2; a number can be
    /// claimed once. For a `.v0` guest only WALLTIME and PUTS, the same
    /// there, are registered (at their v0 numbers); the others' v0
    /// counterparts are registered with `hvt_v0_hypercall` numbers.
    public func registerHypercall(_ number: hvt_hypercall, _ handler: @escaping Hypercall) throws(TenderError) {
        guard let port = abi.hypercallNumber(for: number) else { return }
        try hypercalls.register(port, owner: currentModule, handler)
    }

    /// Claims hypercall `number` of a `.v0` guest (nothing for other versions).
    public func registerHypercall(_ number: hvt_v0_hypercall, _ handler: @escaping Hypercall) throws(TenderError) {
        guard abi == .v0 else { return }
        try hypercalls.register(Int(number.rawValue), owner: currentModule, handler)
    }

    /// Makes HVT_HYPERCALL_POLL report manifest entry `handle` as ready
    /// whenever `descriptor` is readable.
    public func registerPollDescriptor(_ descriptor: FileDescriptor, handle: Int) throws(TenderError) {
        try waitset.add(descriptor, handle: handle)
    }

    public func registerHaltHook(_ hook: @escaping HaltHook) {
        hooks.halt.append(hook)
    }

    // Hooks for debugging modules (any module may use them).

    /// The vCPU, to read or change its registers and debug state.
    public var vcpu: VCPU { machine.vcpu }

    public func registerFaultHook(_ hook: @escaping FaultHook) {
        hooks.fault.append(hook)
    }

    public func registerStartHook(_ hook: @escaping StartHook) {
        hooks.start.append(hook)
    }

    /// Claims the vCPU's debug exits; one module may.
    public func registerDebugHook(_ hook: @escaping DebugHook) throws(TenderError) {
        guard hooks.debug == nil else {
            throw TenderError("Debug exits claimed by both `\(debugHookOwner)' and `\(currentModule)'")
        }
        hooks.debug = hook
        debugHookOwner = currentModule
    }
}

/// Hypercall number → handler, filled during setup, read on every exit;
/// as many numbers as the guest's ABI has.
final class HypercallTable {
    private(set) var handlers: [Hypercall?]
    private var owners: [String]
    private let halt: Int

    init(abi: ABIVersion) {
        handlers = [Hypercall?](repeating: nil, count: abi.hypercallCount)
        owners = [String](repeating: "", count: abi.hypercallCount)
        halt = abi.haltNumber
    }

    func register(_ number: Int, owner: String, _ handler: @escaping Hypercall) throws(TenderError) {
        guard number > 0, number < handlers.count, number != halt else {
            throw TenderError("Module `\(owner)' registers invalid hypercall \(number)")
        }
        guard handlers[number] == nil else {
            throw TenderError("Hypercall \(number) claimed by both `\(owners[number])' and `\(owner)'")
        }
        handlers[number] = handler
        owners[number] = owner
    }
}
