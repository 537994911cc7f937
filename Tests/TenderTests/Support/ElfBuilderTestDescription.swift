import Testing
import Tender

/// A note argument of a parameterized test is named by its type and size,
/// not by its bytes (which would fill the test log).
extension ElfBuilder.Note: CustomTestStringConvertible {
    var testDescription: String { "note type \(hex(type)), \(descriptor.count) bytes" }
}
