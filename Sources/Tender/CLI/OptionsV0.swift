extension Options {
    /// Before 0.6 the tender had one block and one net device, attached
    /// with `--disk=IMAGE`, `--net=TAP|@FD` and `--net-mac=HWADDR`. Those,
    /// and the modern `--block:NAME=`, `--net:NAME=` and `--net-mac:NAME=`
    /// with any NAME, name the single devices (`Manifest.v0BlockName` and
    /// `v0NetName`); other options pass unchanged.
    static func v0Synonym(_ option: String) -> String {
        for (old, modern, name) in [("--disk=", "--block:", Manifest.v0BlockName), ("--net=", "--net:", Manifest.v0NetName),
                                    ("--net-mac=", "--net-mac:", Manifest.v0NetName)] {
            if option.hasPrefix(old) { return modern + name + "=" + option.dropFirst(old.count) }
            if let device = DeviceOption(option, prefix: modern) { return modern + name + "=" + device.value }
        }
        return option
    }
}
