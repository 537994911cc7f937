#if canImport(Glibc)
import Glibc
#endif
import CLibELF

/// An x86_64 ELF executable opened through libelf, with its header and
/// program headers validated and read.
public final class ElfFile {
    /// The file name, used in every message about it.
    public let name: String
    public let header: Elf64_Ehdr
    public let programHeaders: [Elf64_Phdr]

    private let elf: OpaquePointer
    private var image: UnsafeRawBufferPointer
    private var release: (() -> Void)?

    /// Opens `path` (mapped read-only by libelf). Its header is read and
    /// checked first, as the reference reads it.
    public static func open(path: String) throws(TenderError) -> ElfFile {
        let fd: FileDescriptor
        do { fd = try FileDescriptor.open(path, O_RDONLY, kind: .regularFile) } catch {
            // The reference opens a directory and fails to read it: its
            // words, with the -1 its read returned printed unsigned (%zu).
            if case .kind(S_IFDIR) = error {
                throw TenderError("\(path): pread_in_full for elf header while loading note returned "
                    + "\(UInt64.max) < 0: \(Errno(EISDIR))")
            }
            throw error.describe("\(path): Could not open")
        }
        do throws(TenderError) {
            try validatedHeader(try readHeader(fd, name: path), name: path)
        } catch {
            fd.close()
            throw error
        }
        guard elf_version(UInt32(EV_CURRENT)) != UInt32(EV_NONE),
              let elf = elf_begin(fd.rawValue, ELF_C_READ_MMAP, nil) else {
            fd.close()
            throw TenderError("\(path): invalid executable: \(libelfError())")
        }
        return try ElfFile(name: path, elf: elf) { elf_end(elf); fd.close() }
    }

    /// Parses an in-memory image (for tests of the parser).
    public static func parse(bytes: [UInt8], name: String) throws(TenderError) -> ElfFile {
        try validatedHeader(Array(bytes.prefix(MemoryLayout<Elf64_Ehdr>.size)), name: name)
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 8)
        copy.copyBytes(from: bytes)
        _ = elf_version(UInt32(EV_CURRENT))
        guard let elf = elf_memory(copy.baseAddress!.assumingMemoryBound(to: CChar.self), bytes.count) else {
            copy.deallocate()
            throw TenderError("\(name): invalid executable: \(libelfError())")
        }
        return try ElfFile(name: name, elf: elf) { elf_end(elf); copy.deallocate() }
    }

    private init(name: String, elf: OpaquePointer, release: @escaping () -> Void) throws(TenderError) {
        self.name = name
        self.elf = elf
        self.release = release
        do throws(TenderError) {
            var size = 0
            let raw = elf_rawfile(elf, &size)
            image = UnsafeRawBufferPointer(start: raw, count: raw == nil ? 0 : size)
            header = try ElfFile.validatedHeader(Array(image.prefix(MemoryLayout<Elf64_Ehdr>.size)), name: name)
            programHeaders = try ElfFile.readProgramHeaders(image: image, header: header, name: name)
        } catch {
            release()
            throw error
        }
    }

    /// Unmaps and closes the file now (the tender is done with it before
    /// the syscall policy is sealed); later reads find no bytes.
    public func close() {
        release?()
        release = nil
        image = UnsafeRawBufferPointer(start: nil, count: 0)
    }

    deinit { close() }

    /// How many of the `count` bytes at `offset` the file has: what a read
    /// of them returns.
    public func availableBytes(at offset: UInt64, count: UInt64) -> UInt64 {
        Self.available(in: image, at: offset, count: count)
    }

    private static func available(in image: UnsafeRawBufferPointer, at offset: UInt64, count: UInt64) -> UInt64 {
        offset < UInt64(image.count) ? min(count, UInt64(image.count) - offset) : 0
    }

    /// `count` bytes of the file at `offset`, or nil when the file is shorter.
    public func withBytes<R>(at offset: UInt64, count: UInt64, _ body: (UnsafeRawBufferPointer) -> R) -> R? {
        let (end, overflow) = offset.addingReportingOverflow(count)
        guard !overflow, end <= UInt64(image.count) else { return nil }
        return body(UnsafeRawBufferPointer(rebasing: image[Int(offset)..<Int(end)]))
    }

    /// The name of the first section holding thread-local data (SHF_TLS),
    /// or nil. Section headers are read only to tell the ABI versions'
    /// layouts apart, straight from the mapped file and bounds-checked; a
    /// file without them (or with a broken table) has no such section.
    func firstTLSSectionName() -> String? {
        let size = UInt64(MemoryLayout<Elf64_Shdr>.size)
        guard header.e_shentsize == UInt16(size), header.e_shoff != 0, header.e_shoff < 1 << 62 else { return nil }
        func section(_ index: UInt64) -> Elf64_Shdr? {
            withBytes(at: header.e_shoff &+ index &* size, count: size) { $0.loadUnaligned(as: Elf64_Shdr.self) }
        }
        for index in 0..<UInt64(header.e_shnum) {
            guard let shdr = section(index) else { return nil }
            guard shdr.sh_flags & UInt64(SHF_TLS) != 0 else { continue }
            var name = "(unnamed)"
            if let strings = section(UInt64(header.e_shstrndx)), UInt64(shdr.sh_name) < strings.sh_size,
               let bytes = withBytes(at: strings.sh_offset &+ UInt64(shdr.sh_name),
                                     count: min(64, strings.sh_size - UInt64(shdr.sh_name)), { Array($0) }) {
                name = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
            return name
        }
        return nil
    }

    /// The first bytes of the file, as many of the header's as it has.
    private static func readHeader(_ fd: FileDescriptor, name: String) throws(TenderError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: MemoryLayout<Elf64_Ehdr>.size)
        var count = 0
        while count < bytes.count {
            let n = bytes.withUnsafeMutableBytes { buffer in
                retryingInterrupts { pread(fd.rawValue, buffer.baseAddress! + count, buffer.count - count, off_t(count)) }
            }
            guard n >= 0 else {
                let code = Errno.current
                // The reference's words, its -1 printed unsigned (%zu).
                throw TenderError("\(name): pread_in_full for elf header while loading note returned \(UInt64.max) < 0: \(code)")
            }
            if n == 0 { break }
            count += n
        }
        return Array(bytes.prefix(count))
    }

    /// Checks the header as the reference does (`bytes`: the file's first
    /// bytes, up to a header's worth): its words, then which check failed.
    @discardableResult
    private static func validatedHeader(_ bytes: [UInt8], name: String) throws(TenderError) -> Elf64_Ehdr {
        func invalid(_ why: String) -> TenderError {
            TenderError("\(name): invalid executable: invalid or unsupported executable "
                + "(elf header invalid while loading note): \(why)")
        }
        let ehdrSize = MemoryLayout<Elf64_Ehdr>.size
        guard bytes.count >= ehdrSize else {
            throw TenderError("\(name): invalid executable: elf header does not match the expected size (\(bytes.count) != \(ehdrSize))")
        }
        let ident = Array(bytes[0..<Int(EI_NIDENT)])
        guard ident[0] == 0x7f, ident[1] == UInt8(ascii: "E"), ident[2] == UInt8(ascii: "L"),
              ident[3] == UInt8(ascii: "F") else { throw invalid("bad magic") }
        guard ident[Int(EI_CLASS)] == UInt8(ELFCLASS64) else { throw invalid("not ELFCLASS64") }
        guard ident[Int(EI_DATA)] == UInt8(ELFDATA2LSB) else { throw invalid("not little-endian") }
        // Little-endian, as the host: the fields load as they are.
        let ehdr = bytes.withUnsafeBytes { $0.loadUnaligned(as: Elf64_Ehdr.self) }
        guard ehdr.e_version == UInt32(EV_CURRENT) else { throw invalid("e_version \(ehdr.e_version)") }
        guard Int(ehdr.e_ehsize) == ehdrSize else { throw invalid("e_ehsize \(ehdr.e_ehsize)") }
        guard ehdr.e_phnum >= 1 else { throw invalid("no program headers") }
        guard Int(ehdr.e_phentsize) == MemoryLayout<Elf64_Phdr>.size else {
            throw invalid("e_phentsize \(ehdr.e_phentsize)")
        }
        guard ehdr.e_type == UInt16(ET_EXEC) else { throw invalid("not an executable, e_type \(ehdr.e_type)") }
        guard ehdr.e_machine == UInt16(EM_X86_64) else { throw invalid("not for x86_64, e_machine \(ehdr.e_machine)") }
        return ehdr
    }

    /// The program header table, all of it inside the file.
    private static func readProgramHeaders(image: UnsafeRawBufferPointer, header: Elf64_Ehdr,
                                           name: String) throws(TenderError) -> [Elf64_Phdr] {
        let count = Int(header.e_phnum), size = MemoryLayout<Elf64_Phdr>.size
        let tableSize = UInt64(count * size)
        let read = available(in: image, at: header.e_phoff, count: tableSize)
        guard read == tableSize else {
            throw TenderError("\(name): invalid executable: program header does not match the expected size "
                + "(\(read) != \(tableSize) while loading note)")
        }
        let table = Int(header.e_phoff)
        return (0..<count).map { image.loadUnaligned(fromByteOffset: table + $0 * size, as: Elf64_Phdr.self) }
    }
}

private func libelfError() -> String {
    guard let message = elf_errmsg(-1) else { return "libelf error" }
    return String(cString: message)
}
