import Console
import Tender

Tender.main(modules: [ConsoleModule.self])
