import HvtABI

/// A device option `PREFIX NAME=VALUE` (`--block:NAME=PATH`,
/// `--net-mac:NAME=HWADDR`, ...): NAME is 1 to MFT_NAME_MAX ASCII letters
/// and digits, as the reference's `%67[A-Za-z0-9]=` reads it.
public struct DeviceOption {
    /// The whole option, as given.
    public let text: String
    /// PREFIX NAME, without the `=`: which option for which device.
    public let key: String
    public let name: String
    /// A slice of `text`.
    public let value: Substring

    /// Nil when `option` is not of that form.
    public init?(_ option: String, prefix: String) {
        guard option.hasPrefix(prefix) else { return nil }
        let rest = option.dropFirst(prefix.count)
        let name = rest.prefix { $0.isASCII && ($0.isLetter || $0.isNumber) }
        guard !name.isEmpty, name.count <= Int(MFT_NAME_MAX),
              rest.dropFirst(name.count).first == "=" else { return nil }
        self.text = option
        self.key = prefix + name
        self.name = String(name)
        self.value = rest.dropFirst(name.count + 1)
    }

    /// The value's first word, at most `maxLength` characters, as the
    /// reference's `%Ns` reads it (leading white space skipped). When that
    /// is not the whole value, a warning says what is read.
    public func word(maxLength: Int) -> Substring {
        let word = value.drop { $0 == " " || $0 == "\t" || $0 == "\n" }
            .prefix { $0 != " " && $0 != "\t" && $0 != "\n" }.prefix(maxLength)
        if !word.isEmpty && word != value { Diagnostics.warnReadAs(text, String(text[..<value.startIndex]) + word) }
        return word
    }
}

extension Manifest {
    /// The index of the entry of `type` that `option` names. An undeclared
    /// name is an error: the reference's warning, then the devices of that
    /// type the manifest does declare (no usage text to bury it under).
    public func declaredIndex(for option: DeviceOption, type: DeviceType) throws(TenderError) -> Int {
        if let index = entries.firstIndex(where: { $0.type == type && $0.name == option.name }) { return index }
        Diagnostics.warn("Resource not declared in manifest: '\(option.name)'")
        let declared = entries.filter { $0.type == type }.map { "'\($0.name)'" }
        let hint = declared.isEmpty ? "the manifest declares no \(type) device"
            : "\(type) devices the manifest declares: \(declared.joined(separator: ", "))"
        throw TenderError("Invalid option: `\(option.text)' (\(hint))")
    }
}

/// Options that may be given more than once, the last one winning as in
/// the reference (`--mem=`, a device option for the same device): a command
/// line the reference runs must run. It says nothing; we warn.
public struct LastOneWins {
    private var given: [String: String] = [:]

    public init() {}

    /// Records `text` as the option for `key` (`--mem`, `--block:NAME`);
    /// when one was given before, warns that this one is used instead.
    public mutating func record(_ text: String, key: String) {
        if let earlier = given[key] {
            Diagnostics.warning("\(key) given twice: using `\(text)', not `\(earlier)'")
        }
        given[key] = text
    }

    public mutating func record(_ option: DeviceOption) {
        record(option.text, key: option.key)
    }
}
