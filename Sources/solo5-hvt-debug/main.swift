import Block
import Console
import Dumpcore
import GDB
import Net
import Tender

// The modules compiled into solo5-hvt-debug, in --help order: those of
// solo5-hvt plus the debugging ones. Its seccomp policy is sealed too.
TenderProgram.main(modules: [ConsoleModule.self, BlockModule.self, NetModule.self, GdbModule.self, DumpcoreModule.self])
