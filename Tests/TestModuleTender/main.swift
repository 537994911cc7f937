import Console
import Tender

// A tender with a test-only module, so the tests can drive every part of
// the module API through the real binary.
Tender.main(modules: [ConsoleModule.self, TestModule.self])
