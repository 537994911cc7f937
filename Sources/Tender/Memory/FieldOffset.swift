extension GuestMemory {
    /// Where `field` lies inside a C struct the guest hands over: a byte
    /// count, not an address; added to the struct's guest address it gives
    /// the field's.
    public static func offset<Struct>(of field: PartialKeyPath<Struct>) -> UInt64 {
        UInt64(MemoryLayout<Struct>.offset(of: field)!)
    }
}
