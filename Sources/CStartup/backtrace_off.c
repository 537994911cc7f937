/*
 * The Swift runtime's crash backtracer, off before the runtime looks for it.
 *
 * At start-up the runtime's backtracing initializer (a static constructor)
 * looks for its helper program, swift-backtrace, beside the executable: it
 * asks for its own path (dladdr, which a static executable cannot answer, then
 * readlink("/proc/self/exe")) and stats eight directories. With no /proc (a
 * container root as urunc builds it) it aborts with "Unable to obtain Swift
 * runtime path" before main; with /proc it reads paths nobody gave the tender.
 * The tender spawns no helper on a crash either way (seccomp would kill it).
 *
 * The runtime takes its settings from SWIFT_BACKTRACE, documented as
 * "enable=no" to turn backtracing off and "swift-backtrace=PATH" to name the
 * helper (a named helper is not searched for); "interactive=no,color=no"
 * spare the two isatty() calls it makes to pick their defaults. This
 * constructor runs first (priority 101; the runtime's are unprioritized) and
 * sets them, unless the user set SWIFT_BACKTRACE, whose settings then are
 * the runtime's as usual.
 */
#include <stdlib.h>

__attribute__((constructor(101)))
static void turn_off_swift_backtracer(void)
{
    setenv("SWIFT_BACKTRACE", "enable=no,interactive=no,color=no,swift-backtrace=", 0);
}
