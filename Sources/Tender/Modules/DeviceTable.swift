/// A module's attached devices by manifest index, which is also the handle
/// a guest names them by. Built during setup, read-only afterwards.
///
/// Inlinable, so that each module gets it specialized for its own device type
/// (unspecialized generic code looks types up by name at run time).
public struct DeviceTable<Device> {
    @usableFromInline var devices: [Device?]

    @inlinable
    public init(entries: Int) {
        devices = [Device?](repeating: nil, count: entries)
    }

    @inlinable
    public subscript(index: Int) -> Device? {
        get { devices[index] }
        set { devices[index] = newValue }
    }

    /// The device a guest's handle names, if any (any handle value is safe).
    @inlinable
    public func device(handle: UInt64) -> Device? {
        handle < UInt64(count) ? self[Int(handle)] : nil
    }

    @inlinable
    public var count: Int { devices.count }

    /// The attached devices, in handle order.
    @inlinable
    public var attached: [Device] { devices.compactMap { $0 } }
}
