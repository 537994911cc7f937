#if canImport(Glibc)
import Glibc
#endif
import CLinux
import Tender

/// The ELF core file: an ELF header (ET_CORE, x86_64), a PT_NOTE with one
/// NT_PRSTATUS note (the vCPU's registers, as a Linux process's would be),
/// and one PT_LOAD holding guest memory at virtual = physical address (hvt
/// guests run identity-mapped), page aligned in the file so untouched
/// guest pages stay holes.
enum CoreFile {
    static let page: UInt64 = 4096
    /// sizeof(struct elf_prstatus) on x86_64, and where its pr_reg
    /// (struct user_regs_struct, 27 words) starts.
    static let prstatusSize = 336
    static let registersOffset = 112

    /// Writes the core to `file`; nil, or what went wrong.
    static func write(to file: FileDescriptor, vcpu: VCPU, memory: GuestMemory, trapFrame: GuestAddress?,
                      signal: Int32, pid: Int32) -> String? {
        let registers: [UInt64]
        do { registers = try userRegisters(vcpu: vcpu, memory: memory, trapFrame: trapFrame) } catch { return error.message }
        let headers = self.headers(memorySize: memory.size, registers: registers, signal: signal, pid: pid)
        let written = headers.withUnsafeBytes { pwrite(file.rawValue, $0.baseAddress, $0.count, 0) }
        guard written == headers.count else { return "dumpcore: Error writing ELF headers: \(Errno.current)" }

        var failure: String?
        let result = memory.forEachResidentRun { address, bytes in
            var done = 0
            while done < bytes.count {
                let n = pwrite(file.rawValue, bytes.baseAddress! + done, bytes.count - done,
                               off_t(page + address) + off_t(done))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    // The reference's words, for the page (its number) the write stopped in.
                    let pageNumber = (address + UInt64(done)) / page
                    failure = n < 0 ? "dumpcore: Error dumping guest memory page \(pageNumber): \(Errno.current)"
                        : "dumpcore: Short write dumping guest memory page\(pageNumber): 0 bytes"
                    return false
                }
                done += n
            }
            return true
        }
        switch result {
        case .failure(let code): return "dumpcore: mincore() failed: \(code)"
        case .success(let counts):
            if let failure { return failure }
            // Pages never written to are holes that read as zero.
            guard ftruncate(file.rawValue, off_t(page + memory.size)) == 0 else {
                return "dumpcore: Error sizing the core file: \(Errno.current)"
            }
            Diagnostics.warn("dumpcore: dumped \(counts.lent) pages of total \(counts.total) pages")
            return nil
        }
    }

    /// struct user_regs_struct, from KVM; from the guest's trap frame
    /// (struct x86_trap_regs: cr2, ec, rip, cs, rflags, rsp, ss) when it
    /// passed one.
    static func userRegisters(vcpu: VCPU, memory: GuestMemory, trapFrame: GuestAddress?) throws(TenderError) -> [UInt64] {
        guard case .success(let s) = vcpu.getSpecialRegisters() else {
            throw .system("dumpcore: KVM: ioctl(KVM_GET_SREGS) failed")
        }
        guard case .success(let r) = vcpu.getRegisters() else {
            throw .system("dumpcore: KVM: ioctl(KVM_GET_REGS) failed")
        }
        var words: [UInt64] = [
            r.r15, r.r14, r.r13, r.r12, r.rbp, r.rbx, r.r11, r.r10, r.r9, r.r8,
            r.rax, r.rcx, r.rdx, r.rsi, r.rdi, /* orig_rax */ ~0,
            r.rip, UInt64(s.cs.selector), r.rflags, r.rsp, UInt64(s.ss.selector),
            s.fs.base, s.gs.base,
            UInt64(s.ds.selector), UInt64(s.es.selector), UInt64(s.fs.selector), UInt64(s.gs.selector),
        ]
        if let trapFrame {
            // Checked by the core to span HVT_HALT_COOKIE_MAX bytes.
            let frame: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
            do {
                frame = try memory.load((UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64).self, at: trapFrame)
            } catch {
                throw TenderError("dumpcore: Could not retrieve guest state")
            }
            words[16] = frame.2  // rip
            words[17] = frame.3  // cs
            words[18] = frame.4  // rflags
            words[19] = frame.5  // rsp
            words[20] = frame.6  // ss
        }
        return words
    }

    static func headers(memorySize: UInt64, registers: [UInt64], signal: Int32, pid: Int32) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(Int(page))
        func put<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) } }
        let ehdrSize = 64, phdrSize = 56
        let noteOffset = UInt64(ehdrSize + 2 * phdrSize)
        let noteSize = UInt64(12 + 8 + prstatusSize)

        // Elf64_Ehdr
        out += [0x7f, 0x45, 0x4c, 0x46, 2 /* ELFCLASS64 */, 1 /* LSB */, 1 /* EV_CURRENT */, 0 /* SYSV */]
        out += [UInt8](repeating: 0, count: 8)
        put(UInt16(4))            // e_type ET_CORE
        put(UInt16(62))           // e_machine EM_X86_64
        put(UInt32(1))            // e_version
        put(UInt64(0))            // e_entry
        put(UInt64(ehdrSize))     // e_phoff
        put(UInt64(0))            // e_shoff
        put(UInt32(0))            // e_flags
        put(UInt16(ehdrSize))     // e_ehsize
        put(UInt16(phdrSize))     // e_phentsize
        put(UInt16(2))            // e_phnum
        put(UInt16(0)); put(UInt16(0)); put(UInt16(0))  // e_shentsize, e_shnum, e_shstrndx

        // PT_NOTE
        put(UInt32(4)); put(UInt32(0))
        put(noteOffset); put(UInt64(0)); put(UInt64(0))
        put(noteSize); put(noteSize); put(UInt64(4))
        // PT_LOAD: all of guest memory, readable, writable, executable.
        put(UInt32(1)); put(UInt32(7))
        put(page); put(UInt64(0)); put(UInt64(0))
        put(memorySize); put(memorySize); put(page)

        // Elf64_Nhdr + "CORE" padded to 8 + struct elf_prstatus
        put(UInt32(5)); put(UInt32(prstatusSize)); put(UInt32(1))  // namesz, descsz, NT_PRSTATUS
        out += Array("CORE".utf8) + [0, 0, 0, 0]
        let prstatus = out.count
        out += [UInt8](repeating: 0, count: prstatusSize)
        out[prstatus + 12] = UInt8(truncatingIfNeeded: signal)             // pr_cursig
        withUnsafeBytes(of: pid.littleEndian) {                 // pr_pid
            out.replaceSubrange(prstatus + 32..<prstatus + 36, with: $0)
        }
        for (index, word) in registers.enumerated() {
            let at = prstatus + registersOffset + index * 8
            withUnsafeBytes(of: word.littleEndian) { out.replaceSubrange(at..<at + 8, with: $0) }
        }
        return out
    }
}
