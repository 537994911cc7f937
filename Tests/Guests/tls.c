/*
 * tls: thread-local storage as Solo5 guests use it. Builds TLS blocks from
 * the template the linker laid out (.tdata's initial values, .tbss zeroed),
 * points %fs at one block and then another (x86_64 variant II: the thread
 * pointer is the block's end and points at itself), and checks that each
 * block starts from the template and keeps its own values. ABI version 2
 * lays the template out as a read-only PT_LOAD and a PT_TLS, version 1
 * inside the data PT_LOAD: the guest is the same.
 */
#include "kit.h"

/* The template, from the linker script. */
extern const char kit_tls_image[], kit_tls_image_size[], kit_tls_size[];

#define TLS_ALIGN 64

static __thread volatile uint64_t t_value = 0x1122334455667788ULL;
static __thread volatile uint32_t t_array[4] __attribute__((aligned(TLS_ALIGN))) = { 1, 2, 3, 4 };
static __thread volatile uint64_t t_zero;
static __thread volatile uint8_t t_zero_block[300];

struct block {
    uint8_t bytes[8192] __attribute__((aligned(TLS_ALIGN)));
    void *self; /* the thread pointer points here, at itself */
};
static struct block blocks[2];

static int failures;

static void fail(const char *what)
{
    kit_puts("FAILURE: ");
    kit_println(what);
    failures++;
}

/* The TLS block of `b`, filled from the template; returns its thread pointer. */
static void *tls_init(struct block *b)
{
    uintptr_t size = ((uintptr_t)kit_tls_size + TLS_ALIGN - 1) & ~(uintptr_t)(TLS_ALIGN - 1);
    if (size > sizeof b->bytes) {
        kit_println("tls: template too large");
        abort();
    }
    uint8_t *start = b->bytes + sizeof b->bytes - size;
    for (uintptr_t i = 0; i < size; i++)
        start[i] = i < (uintptr_t)kit_tls_image_size ? (uint8_t)kit_tls_image[i] : 0;
    b->self = &b->self;
    return &b->self;
}

static void set_thread_pointer(void *tp)
{
    uint64_t value = (uint64_t)tp;
    /* IA32_FS_BASE */
    __asm__ volatile("wrmsr" ::"c"(0xc0000100U), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)) : "memory");
}

static void check_fresh(const char *which)
{
    bool ok = t_value == 0x1122334455667788ULL && t_array[0] == 1 && t_array[3] == 4 && t_zero == 0;
    for (unsigned i = 0; i < sizeof t_zero_block; i++)
        ok = ok && t_zero_block[i] == 0;
    if (!ok)
        fail(which);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    void *tp0 = tls_init(&blocks[0]);
    void *tp1 = tls_init(&blocks[1]);

    set_thread_pointer(tp0);
    check_fresh("block 0 does not start from the template");
    t_value = 100;
    t_array[2] = 30;
    t_zero_block[299] = 7;

    set_thread_pointer(tp1);
    check_fresh("block 1 does not start from the template");
    t_value = 200;

    set_thread_pointer(tp0);
    if (t_value != 100 || t_array[2] != 30 || t_zero_block[299] != 7)
        fail("block 0 lost its values");
    set_thread_pointer(tp1);
    if (t_value != 200 || t_array[2] != 3 || t_zero_block[299] != 0)
        fail("block 1 lost its values");

    kit_puts("tls: template ");
    kit_put_udec((uint64_t)(uintptr_t)kit_tls_size);
    kit_println(" bytes");
    kit_println(failures ? "FAILURE" : "SUCCESS");
    return failures ? 1 : 0;
}
