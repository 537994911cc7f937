/// A decimal number at the start of an option's value, read as the
/// reference reads it with sscanf's `%zd`, `%d` or `%hu`: white space
/// skipped, an optional sign, at least one digit, and whatever follows
/// ignored; the value is strtol's or strtoul's, stored in the C integer the
/// reference stores it in, overflow and all. A command line the reference
/// runs must run: these are the numbers it takes.
public struct ScannedNumber {
    private let negative: Bool
    /// The digits' value; `overflow` when it does not fit 64 bits.
    private let magnitude: UInt64
    private let overflow: Bool
    /// Where the value began and where the number ends, in its option.
    private let start: String.Index
    private let end: String.Index

    /// Nil when `value` (a slice of its option) does not start with a
    /// number: what sscanf does not match.
    public init?(_ value: Substring) {
        let bytes = value.utf8
        var i = bytes.startIndex
        func at(_ test: (UInt8) -> Bool) -> Bool { i != bytes.endIndex && test(bytes[i]) }
        // C's isspace: space, \t, \n, \v, \f, \r.
        while at({ $0 == 0x20 || (0x09...0x0d).contains($0) }) { i = bytes.index(after: i) }
        var negative = false
        if at({ $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "-") }) {
            negative = bytes[i] == UInt8(ascii: "-")
            i = bytes.index(after: i)
        }
        var magnitude: UInt64 = 0, overflow = false, digits = 0
        while at({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) {
            let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(bytes[i] - UInt8(ascii: "0")))
            magnitude = sum
            overflow = overflow || o1 || o2
            digits += 1
            i = bytes.index(after: i)
        }
        guard digits > 0 else { return nil }
        self.negative = negative
        self.magnitude = magnitude
        self.overflow = overflow
        self.start = value.startIndex
        self.end = i
    }

    /// strtol's result: out of range saturates.
    private var signed: Int64 {
        if negative { return overflow || magnitude > UInt64(Int64.max) + 1 ? .min : Int64(truncatingIfNeeded: 0 &- magnitude) }
        return overflow || magnitude > UInt64(Int64.max) ? .max : Int64(magnitude)
    }

    /// strtoul's result: out of range saturates, a negative number wraps.
    private var unsigned: UInt64 {
        overflow ? .max : negative ? 0 &- magnitude : magnitude
    }

    /// Whether a `T` holds the number as written.
    private func fits<T: FixedWidthInteger>(_: T.Type) -> Bool {
        guard !overflow else { return false }
        if negative { return magnitude == 0 || (T.isSigned && magnitude - 1 <= UInt64(truncatingIfNeeded: T.max)) }
        return magnitude <= UInt64(truncatingIfNeeded: T.max)
    }

    /// The number as sscanf stores it in a `T` (strtol's result for a
    /// signed `T`, strtoul's for an unsigned one, truncated). When that is
    /// not what `option` says (text after the number, or a number a `T`
    /// cannot hold), a warning says what is read.
    public func read<T: FixedWidthInteger>(as type: T.Type, in option: String) -> T {
        let value = T.isSigned ? T(truncatingIfNeeded: signed) : T(truncatingIfNeeded: unsigned)
        if end != option.endIndex || !fits(type) {
            Diagnostics.warnReadAs(option, String(option[..<start]) + "\(value)")
        }
        return value
    }
}
