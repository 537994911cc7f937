import Testing
@testable import Tender

@Suite("Boot info (unit)")
struct BootInfoTests {
    @Test func commandLine() throws {
        #expect(try BootInfo.commandLine(["a", "b c", ""]) == Array("a b c \0".utf8))
        #expect(try BootInfo.commandLine([]) == [0])
        #expect(try BootInfo.commandLine([String(repeating: "x", count: 8191)]).count == 8192)
        #expect(throws: TenderError.self) { try BootInfo.commandLine([String(repeating: "x", count: 8192)]) }
    }
}
