import Console
import Dumpcore
import GDB
import Tender

// A tender with a test-only module, so the tests can drive every part of
// the module API through the real binary.
// The debug modules are in too, to show a syscall outside the policy
// still kills a tender that has them.
TenderProgram.main(modules: [ConsoleModule.self, TestModule.self, GdbModule.self, DumpcoreModule.self])
