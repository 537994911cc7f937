/*
 * start.c: guest entry point and the ABI1 note.
 *
 * The tender enters _start in long mode with %rdi = &boot info and
 * %rsp = mem_size - 8, so a plain C function works as the entry.
 */
#define KIT_INTERNAL
#include "kit.h"

const struct hvt_boot_info *kit_boot_info;

/* Defined by each guest (kit.h with KIT_GUEST_NAME); "guest" if absent. */
extern const char kit_progname[] __attribute__((weak));

/*
 * The manifest note: a guest's own KIT_MANIFEST, or else the default one
 * from the kit archive, which this reference pulls in.
 */
extern const unsigned char kit_mft_note[];
__attribute__((used)) static const void *const kit_mft_ref = kit_mft_note;

/* The ABI1 note: which target and ABI version this executable is for
 * (the Makefile builds ABI version 1 guests with KIT_ABI_VERSION=1, and
 * pre-0.6 ones, which have no note, with 0). */
#if KIT_ABI_VERSION != 0
__attribute__((section(".note.solo5.abi"), aligned(4), used))
const struct abi1_note kit_abi1_note = {
    .h = { .n_namesz = SOLO5_NOTE_NAME_SIZE,
           .n_descsz = sizeof(struct abi1_info),
           .n_type = ABI1_NOTE_TYPE,
           .n_name = SOLO5_NOTE_NAME },
    .i = { .abi_target = HVT_ABI_TARGET, .abi_version = KIT_ABI_VERSION },
};
#endif

#define KIT_MAX_ARGS 126

static char cmdline_copy[HVT_CMDLINE_SIZE];
static char *argv_buf[KIT_MAX_ARGS + 2];

/* Splits the writable copy in place; returns argc (argv[0] = progname). */
static int split_cmdline(const char *cmdline)
{
    int argc = 0;
    size_t n = 0;

    argv_buf[argc++] = (char *)(kit_progname ? kit_progname : "guest");
    if (cmdline != NULL) {
        while (n < sizeof cmdline_copy - 1 && cmdline[n] != '\0') {
            cmdline_copy[n] = cmdline[n];
            n++;
        }
    }
    cmdline_copy[n] = '\0';

    char *p = cmdline_copy;
    while (*p) {
        while (*p == ' ')
            *p++ = '\0';
        if (*p == '\0')
            break;
        if (argc == KIT_MAX_ARGS + 1) {
            kit_println("kit: too many arguments");
            abort();
        }
        argv_buf[argc++] = p;
        while (*p && *p != ' ')
            p++;
    }
    argv_buf[argc] = NULL;
    return argc;
}

#if KIT_ABI_VERSION == 0
const struct hvt_boot_info *kit_v0_boot(const void *bi);
#endif

__attribute__((noreturn, used)) void _start(const struct hvt_boot_info *bi)
{
#if KIT_ABI_VERSION == 0
    bi = kit_v0_boot(bi);
#endif
    kit_boot_info = bi;
    /* Keep a zero low byte so string overflows cannot reproduce the guard. */
    __stack_chk_guard ^= (kit_rdtsc() << 8);
    int argc = split_cmdline(bi->cmdline);
    kit_exit(main(argc, argv_buf));
}
