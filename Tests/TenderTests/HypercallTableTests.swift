import HvtABI
import Testing
@testable import Tender

@Suite("Hypercall table (unit)")
struct HypercallTableTests {
    @Test func registeredHandlerIsAtItsNumber() throws {
        let table = HypercallTable(abi: .v2)
        let puts = Int(HVT_HYPERCALL_PUTS.rawValue)
        #expect(table.handlers.allSatisfy { $0 == nil })
        try table.register(puts, owner: "console") { _ in }
        #expect(table.handlers.indices.filter { table.handlers[$0] != nil } == [puts])
    }

    @Test func numberClaimedOnce() throws {
        let table = HypercallTable(abi: .v2)
        try table.register(2, owner: "console") { _ in }
        #expect(rejection { try table.register(2, owner: "test") { _ in } }
                == "Hypercall 2 claimed by both `console' and `test'")
    }

    /// 0, HALT (the run loop's own) and numbers past the table are refused.
    @Test(arguments: [0, Int(HVT_HYPERCALL_HALT.rawValue), Int(HVT_HYPERCALL_MAX.rawValue), -1, 1000])
    func invalidNumbers(_ number: Int) {
        let table = HypercallTable(abi: .v2)
        #expect(rejection { try table.register(number, owner: "m") { _ in } } == "Module `m' registers invalid hypercall \(number)")
    }

    /// A pre-0.6 executable's table has that ABI's numbers.
    @Test func v0TableHasV0Numbers() throws {
        let table = HypercallTable(abi: .v0)
        #expect(table.handlers.count == Int(HVT_V0_HYPERCALL_MAX.rawValue))
        let halt = Int(HVT_V0_HYPERCALL_HALT.rawValue)
        #expect(rejection { try table.register(halt, owner: "m") { _ in } } == "Module `m' registers invalid hypercall \(halt)")
        try table.register(Int(HVT_V0_HYPERCALL_PUTS.rawValue), owner: "console") { _ in }
    }
}
