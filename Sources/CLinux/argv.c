/*
 * argv for the Swift runtime, without its search for it.
 *
 * The runtime's CommandLine support finds argv at start-up by reading
 * /proc/self/maps for the stack's bounds and scanning the stack (a static
 * initializer, run whether or not CommandLine is used): ~56 K instructions
 * and a file read on every boot. glibc hands argc and argv to every
 * .init_array function, so we keep them here and define the two functions
 * the standard library asks for them. The linker then never pulls the
 * runtime's CommandLine object out of libswiftCore.a. (Should a toolchain
 * rename these functions, the runtime's own object comes back and ours go
 * unused: the arguments stay right either way.)
 */
#include <stddef.h>

static int saved_argc;
static char **saved_argv;
static char **override_argv;
static int override_argc;

static void capture_arguments(int argc, char **argv, char **envp)
{
    (void)envp;
    saved_argc = argc;
    saved_argv = argv;
}

__attribute__((section(".init_array"), used))
static void (*const capture_arguments_entry)(int, char **, char **) = capture_arguments;

char **_swift_stdlib_getUnsafeArgvArgc(int *outArgLen)
{
    if (override_argv) {
        *outArgLen = override_argc;
        return override_argv;
    }
    *outArgLen = saved_argc;
    return saved_argv;
}

void _swift_stdlib_overrideUnsafeArgvArgc(char **argv, int argc)
{
    override_argv = argv;
    override_argc = argc;
}
