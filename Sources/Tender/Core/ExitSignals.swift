#if canImport(Glibc)
import Glibc
#endif

/// SIGINT and SIGTERM end the tender with "Exiting on signal N" and status 1.
/// The handler only uses async-signal-safe calls on memory prepared here.
enum ExitSignals {
    nonisolated(unsafe) private static var prefix = UnsafeMutableBufferPointer<UInt8>(start: nil, count: 0)

    static func install() {
        let text = Array("\(Diagnostics.programName): Exiting on signal ".utf8)
        // SAFETY: allocated once and never freed: the handler may read it
        // until the process ends.
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: text.count)
        _ = buffer.initialize(from: text)
        prefix = buffer

        var action = sigaction()
        action.__sigaction_handler.sa_handler = { signal in
            // "NN\n" for the signal number, formatted without allocating.
            var digits: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
            // SAFETY: i stays in 0...3, inside the 4 bytes of `digits`.
            withUnsafeMutableBytes(of: &digits) { out in
                var n = Int(signal), i = 3
                out[i] = UInt8(ascii: "\n")
                repeat { i -= 1; out[i] = UInt8(ascii: "0") + UInt8(n % 10); n /= 10 } while n > 0 && i > 0
                _ = write(2, ExitSignals.prefix.baseAddress, ExitSignals.prefix.count)
                _ = write(2, out.baseAddress! + i, 4 - i)
            }
            // Never returns: no rt_sigreturn, nothing else runs.
            _exit(1)
        }
        sigfillset(&action.sa_mask)
        sigaction(SIGINT, &action, nil)
        sigaction(SIGTERM, &action, nil)
        // Console output to a pipe nobody reads fails with EPIPE and ends the
        // run with a message and status 1, not with a silent SIGPIPE death.
        signal(SIGPIPE, SIG_IGN)
        // A parent may have started us with these blocked (the mask is
        // inherited); a tender that cannot be stopped is worse.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }
}
