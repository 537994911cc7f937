@testable import Tender

/// The message `body` fails with, nil if it does not.
func rejection(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch {
        return (error as? TenderError)?.message ?? "\(error)"
    }
}
