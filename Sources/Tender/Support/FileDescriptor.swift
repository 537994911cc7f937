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

    public static func open(_ path: String, _ flags: Int32, permissions: mode_t = 0) -> Result<FileDescriptor, Errno> {
        let fd = Glibc.open(path, flags | O_CLOEXEC, permissions)
        return fd < 0 ? .failure(.current) : .success(FileDescriptor(rawValue: fd))
    }

    public func close() { _ = Glibc.close(rawValue) }

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
