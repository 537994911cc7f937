#if canImport(Glibc)
import Glibc
#endif

/// A POSIX error number.
public struct Errno: Error, Equatable, CustomStringConvertible {
    public var rawValue: Int32
    public init(_ rawValue: Int32) { self.rawValue = rawValue }
    public static var current: Errno { Errno(errno) }
    public static let interrupted = Errno(EINTR)
    public static let badAddress = Errno(EFAULT)
    public var description: String { String(cString: strerror(rawValue)) }
}

/// A thin, typed file descriptor in the manner of swift-system: it does not
/// own the descriptor; `close()` is explicit.
public struct FileDescriptor: Equatable, Hashable, Sendable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let standardOutput = FileDescriptor(rawValue: 1)
    public static let standardError = FileDescriptor(rawValue: 2)

    /// open(2), close-on-exec. Files named on the command line go through
    /// the `kind:` variant below, which checks what they are.
    public static func open(_ path: String, _ flags: Int32) throws(Errno) -> FileDescriptor {
        let fd = Glibc.open(path, flags | O_CLOEXEC)
        guard fd >= 0 else { throw .current }
        return FileDescriptor(rawValue: fd)
    }

    /// What a file given on the command line must be.
    public enum Kind: Sendable {
        /// A regular file (a KERNEL).
        case regularFile
        /// A regular file or a block device (backing storage).
        case storage
        /// Anything that opens (/dev/kvm, /dev/net/tun).
        case any
    }

    /// Why `open(_:_:kind:)` failed: open(2) or fstat(2) did, or the file
    /// is not of the kind asked for (its S_IFMT type).
    public enum OpenFailure: Error {
        case system(Errno)
        case kind(mode_t)
    }

    /// Opens `path` as a file of `kind`. A file of another kind is closed
    /// again and refused before anything reads it. The open itself never
    /// blocks (a FIFO without a writer would hang a plain open).
    public static func open(_ path: String, _ flags: Int32, kind: Kind) throws(OpenFailure) -> FileDescriptor {
        let descriptor: FileDescriptor
        do { descriptor = try open(path, flags | O_NOCTTY | (kind == .any ? 0 : O_NONBLOCK)) } catch {
            throw .system(error)
        }
        guard kind != .any else { return descriptor }
        let fd = descriptor.rawValue
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            let code = Errno.current
            descriptor.close()
            throw .system(code)
        }
        let type = status.st_mode & S_IFMT
        if type != S_IFREG && !(kind == .storage && type == S_IFBLK) {
            descriptor.close()
            throw .kind(type)
        }
        if flags & O_NONBLOCK == 0 {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        }
        return descriptor
    }

    /// Opens `path` as a file of `kind`; every failure is a `TenderError`
    /// reading `message: reason`. A file of another kind is refused with a
    /// reason naming what it is ("Is a directory", "Is a FIFO"), not with
    /// whatever the first read would have said.
    public static func open(_ path: String, _ flags: Int32, kind: Kind,
                            failure message: String) throws(TenderError) -> FileDescriptor {
        do { return try open(path, flags, kind: kind) } catch { throw error.describe(message) }
    }

    /// Why a file of this type is refused, in the words of strerror where
    /// there are some.
    public static func describe(fileType type: mode_t) -> String {
        switch type {
        case S_IFDIR: return String(cString: strerror(EISDIR))
        case S_IFIFO: return "Is a FIFO (named pipe), not a regular file"
        case S_IFCHR: return "Is a character device, not a regular file"
        case S_IFBLK: return "Is a block device, not a regular file"
        case S_IFSOCK: return "Is a socket, not a regular file"
        default: return "Is not a regular file"
        }
    }

    public func close() { _ = Glibc.close(rawValue) }

    /// Makes sure descriptors 0, 1 and 2 are open, before anything else is:
    /// a tender started with one closed would otherwise get a KVM, block or
    /// tap descriptor there, and the guest's console output would go into
    /// it. A closed one becomes /dev/null opened read-only, so writes to it
    /// still fail (EBADF) as they would have.
    public static func reserveStandardDescriptors() {
        for fd: Int32 in 0...2 where fcntl(fd, F_GETFD) < 0 && errno == EBADF {
            let opened = Glibc.open("/dev/null", O_RDONLY)
            // Opens take the lowest free number: `fd` itself, the first time.
            if opened >= 0 && opened != fd { _ = Glibc.close(opened) }
        }
    }

    /// Writes all of `bytes`, retrying after short writes and EINTR.
    @discardableResult
    public func writeAll(_ bytes: UnsafeRawBufferPointer) -> Result<Void, Errno> {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(rawValue, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(.current)
            }
            offset += n
        }
        return .success(())
    }
}

/// Retries a system call that failed with EINTR; returns its result.
@inline(__always)
public func retryingInterrupts(_ call: () -> Int) -> Int {
    var result: Int
    repeat { result = call() } while result < 0 && errno == EINTR
    return result
}

extension FileDescriptor.OpenFailure {
    /// `message: reason`, as err(3) words a failed open.
    public func describe(_ message: String) -> TenderError {
        switch self {
        case .system(let code): .system(message, errno: code)
        case .kind(let type): TenderError("\(message): \(FileDescriptor.describe(fileType: type))")
        }
    }
}
