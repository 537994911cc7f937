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
