#if canImport(Glibc)
import Glibc
#endif

extension GuestMemory {
    /// For a core dump: lends each run of guest pages, in address order,
    /// that the host has backed (mincore: pages never touched read as zero,
    /// so a sparse file holds them for free) and may read (not the ranges
    /// mapped with no access, which would fault). `body` returns false to
    /// stop. Returns the number of pages lent and the total, or the errno
    /// of mincore.
    public func forEachResidentRun(_ body: (GuestAddress, UnsafeRawBufferPointer) -> Bool)
        -> Result<(lent: Int, total: Int), Errno> {
        let page = 4096
        let pages = Int(size) / page
        var resident = [UInt8](repeating: 0, count: pages)
        // SAFETY: base..<base+size is our own mapping; mincore only reads
        // the page tables.
        guard resident.withUnsafeMutableBufferPointer({ mincore(base, Int(size), $0.baseAddress) }) == 0 else {
            return .failure(.current)
        }
        func readable(_ index: Int) -> Bool {
            let range = UInt64(index * page)..<UInt64((index + 1) * page)
            return resident[index] & 1 != 0 && !hostNoAccess.contains { $0.overlaps(range) }
        }
        var lent = 0
        var index = 0
        while index < pages {
            guard readable(index) else { index += 1; continue }
            var end = index + 1
            while end < pages, readable(end) { end += 1 }
            // SAFETY: whole pages inside guest memory, readable on the host.
            let run = UnsafeRawBufferPointer(start: base + index * page, count: (end - index) * page)
            guard body(UInt64(index * page), run) else { break }
            lent += end - index
            index = end
        }
        return .success((lent, pages))
    }
}

extension GuestMemory {
    /// For a debugger: writes `bytes` at `address` inside guest memory on
    /// the user's behalf, also where the guest itself may not write (its
    /// text, for a breakpoint's int3): a read-only page is made writable for
    /// the write and read-only again after. Never the ranges the host maps
    /// with no access, nor the tender's low memory. Returns false when the
    /// range is refused.
    public func debuggerWrite(_ bytes: [UInt8], at address: GuestAddress) -> Bool {
        let (end, overflow) = address.addingReportingOverflow(UInt64(bytes.count))
        guard !overflow, end <= size, allowed(address..<end, for: .read) else { return false }
        let page: UInt64 = 4096
        let pages = (address & ~(page - 1))..<((end + page - 1) & ~(page - 1))
        let readOnly = accessMap.readOnly.contains { $0.overlaps(address..<end) }
        // SAFETY: inside guest memory (checked above), whole pages for mprotect.
        if readOnly, mprotect(base + Int(pages.lowerBound), Int(pages.count), PROT_READ | PROT_WRITE) != 0 {
            return false
        }
        UnsafeMutableRawBufferPointer(start: base + Int(address), count: bytes.count).copyBytes(from: bytes)
        if readOnly {
            // Back to what the load plan set (its ranges are page aligned).
            for at in stride(from: pages.lowerBound, to: pages.upperBound, by: Int(page))
            where accessMap.readOnly.contains(where: { $0.lowerBound <= at && $0.upperBound >= at + page }) {
                _ = mprotect(base + Int(at), Int(page), PROT_READ)
            }
        }
        return true
    }
}
