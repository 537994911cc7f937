#if canImport(Glibc)
import Glibc
#endif
import HvtABI

/// The tender: loads an hvt unikernel, sets up its machine and modules, and
/// runs it until it halts.
public enum TenderProgram {
    public static let version = "0.1.0"

    /// Runs the tender with `modules` (plus the core) and exits with the
    /// guest's status, or 1 with a message.
    public static func main(modules: [any TenderModule.Type]) -> Never {
        FileDescriptor.reserveStandardDescriptors()
        let argv = CommandLine.arguments
        Diagnostics.programName = argv.first.map(Diagnostics.basename) ?? "solo5-hvt"
        // _exit, not exit: everything is written already (no stdio buffers),
        // a ring thread may still be running, and atexit handlers and C++
        // destructors have nothing to do but cost time.
        do {
            _exit(try run(arguments: Array(argv.dropFirst()), modules: [CoreModule.self] + modules))
        } catch {
            Diagnostics.warn(error.message)
            if let trailer = error.trailer { Diagnostics.writeStandardError(trailer) }
            _exit(error.status)
        }
    }

    static func run(arguments: [String], modules moduleTypes: [any TenderModule.Type]) throws(TenderError) -> Int32 {
        let program = Diagnostics.programName
        // Built only when printed: it costs more than a whole boot's other
        // start-up work.
        var usage: String { Options.usage(program: program, modules: moduleTypes) }

        let kernelIndex: Int
        switch Options.firstPass(arguments) {
        case .help:
            Diagnostics.writeStandardError(usage)
            return 1
        case .version:
            Diagnostics.writeStandardError(Options.version(program: program))
            return 0
        case .missingKernel:
            throw TenderError("Missing KERNEL operand", trailer: usage)
        case .run(let index):
            kernelIndex = index
        }

        let elf = try ElfFile.open(path: arguments[kernelIndex])
        // The one choice of ABI version: it decides how the executable is
        // laid out and loaded; nothing after loading depends on it.
        let abi = try elf.checkABI()
        let manifest = try abi.manifest(of: elf)

        let modules = moduleTypes.map { $0.init() }
        var requestedMemory = Options.defaultMemoryMiB << 20
        var memoryGiven = LastOneWins()
        var dumpPolicy = false
        for option in Options.options(arguments, kernelIndex: kernelIndex) {
            if option.hasPrefix("--mem=") {
                requestedMemory = try Options.memory(option)
                memoryGiven.record(option, key: "--mem")
                continue
            }
            if option == Options.seccompDump {
                dumpPolicy = true
                continue
            }
            var claimed = false
            let moduleOption = abi.moduleOption(option)
            for module in modules where !claimed {
                claimed = try module.handleOption(moduleOption, manifest: manifest)
            }
            guard claimed else { throw TenderError("Invalid option: `\(option)'", trailer: usage) }
        }
        let commandLine = try BootInfo.commandLine(arguments[(kernelIndex + 1)...])

        ExitSignals.install()

        // In the reference's order: the rounding is said before the limit.
        let (requestedSize, adjusted) = X86Layout.guestMemorySize(requested: requestedMemory)
        if adjusted { Diagnostics.warn("adjusting memory to \(requestedSize) bytes") }
        try X86Layout.checkMemorySize(requestedSize, abi: abi)
        // Modules may share regions with the guest above its memory (the net
        // ring, when a net device is attached): stacked, one per module, in
        // ABIs that have them. (A plain loop: an array of the sizes costs a
        // metadata lookup at start-up.)
        func regionSize(_ module: any TenderModule) -> UInt64 { abi.hasSharedRegion ? module.sharedRegionSize() : 0 }
        var regionsSize: UInt64 = 0
        for module in modules { regionsSize += SharedRegion.footprint(regionSize(module)) }
        let layout = try X86Layout.reserving(regionsSize, above: requestedSize)
        // The executable must fit in the guest's own memory, below the region.
        let plan = try LoadPlan.make(for: elf, abi: abi, memorySize: layout.guest, minimumBase: X86Layout.guestMinBase)
        let machine = try Machine(guestSize: layout.guest, mappedSize: layout.mapped,
                                  accessMap: X86Layout.accessMap(for: plan, abi: abi))
        try plan.load(from: elf, into: machine.memory)
        elf.close()
        try machine.setUpVCPU(entry: plan.entry, abi: abi)

        let setup = ModuleSetup(machine: machine, manifest: manifest, abi: abi, hypercalls: HypercallTable(abi: abi),
                                waitset: try Waitset())
        var regionAddress = layout.region ?? 0
        for (module, type) in zip(modules, moduleTypes) {
            setup.currentModule = type.name
            setup.currentRegion = nil
            let size = regionSize(module)
            if size > 0 {
                setup.currentRegion = try SharedRegion(memory: machine.memory, address: regionAddress, size: size)
                regionAddress += SharedRegion.footprint(size)
            }
            try module.setup(setup)
        }
        // Before 0.6 devices are there when given: the guest asks BLKINFO/NETINFO.
        if abi.declaresDevices { try checkAllAttached(manifest) }

        try BootInfo.write(into: machine.memory, abi: abi, kernelEnd: plan.end, cpuCycleFrequency: machine.cpuCycleFrequency,
                           manifest: manifest.encoded(), commandLine: commandLine,
                           offers: setup.bootInfo)

        // Seal the syscall policy: from here on the tender can do only what
        // the modules said they would.
        let policy = [ModuleRules(module: "process", rules: ProcessRules.rules(vcpu: machine.vcpu.fd))]
            + zip(modules, moduleTypes).map { ModuleRules(module: $1.name, rules: $0.seccompRules()) }
        if dumpPolicy {
            writeStandardOutput(SeccompFilter.describe(policy) + machine.msrPolicy.summary)
            return 0
        }
        try SeccompFilter(policy).load()

        let loop = RunLoop(vcpu: machine.vcpu, memory: machine.memory,
                           hypercalls: setup.hypercalls.handlers, haltNumber: abi.haltNumber, hooks: setup.hooks,
                           noAccess: plan.accessMap.noAccess)
        return try loop.run()
    }

    private static func checkAllAttached(_ manifest: Manifest) throws(TenderError) {
        let missing = manifest.unattached
        guard missing.isEmpty else {
            for entry in missing {
                Diagnostics.warn("Device '\(entry.name)' of type \(entry.type) declared but not attached.")
            }
            throw TenderError("All declared devices must be attached. See --help for syntax.")
        }
    }
}

private func writeStandardOutput(_ text: String) {
    var text = text
    text.withUTF8 { _ = FileDescriptor.standardOutput.writeAll(UnsafeRawBufferPointer($0)) }
}
