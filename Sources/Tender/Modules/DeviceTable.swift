/// A module's attached devices by manifest index, which is also the handle
/// a guest names them by. Built during setup, read-only afterwards.
public struct DeviceTable<Device> {
    private var devices: [Device?]

    public init(entries: Int) {
        devices = [Device?](repeating: nil, count: entries)
    }

    public subscript(index: Int) -> Device? {
        get { devices[index] }
        set { devices[index] = newValue }
    }

    /// The device a guest's handle names, if any (any handle value is safe).
    @inlinable
    public func device(handle: UInt64) -> Device? {
        handle < UInt64(count) ? self[Int(handle)] : nil
    }

    public var count: Int { devices.count }

    /// The attached devices, in handle order.
    public var attached: [Device] { devices.compactMap { $0 } }
}
