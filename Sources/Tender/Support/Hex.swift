/// Formats integers the way the C reference prints them, without Foundation.
@inlinable
public func hex<T: BinaryInteger>(_ value: T) -> String { "0x" + String(value, radix: 16) }
