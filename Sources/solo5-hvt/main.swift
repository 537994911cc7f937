import Block
import Console
import Net
import Tender

// The modules compiled into solo5-hvt, in --help order.
TenderProgram.main(modules: [ConsoleModule.self, BlockModule.self, NetModule.self])
