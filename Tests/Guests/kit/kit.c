/*
 * kit.c: console, time, poll, exit and device wrappers for test guests.
 */
#define KIT_INTERNAL
#include "kit.h"

/* ---- freestanding string helpers ---- */

void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d == s || n == 0)
        return dst;
    if (d < s) {
        while (n--)
            *d++ = *s++;
    } else {
        d += n;
        s += n;
        while (n--)
            *--d = *--s;
    }
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++) {
        if (*x != *y)
            return *x < *y ? -1 : 1;
    }
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}

static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool kit_parse_int(const char *s, int64_t *out)
{
    bool neg = false;
    unsigned base = 10;
    uint64_t v = 0;

    if (s == NULL)
        return false;
    if (*s == '-' || *s == '+')
        neg = (*s++ == '-');
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (*s == '\0')
        return false;
    for (; *s; s++) {
        int d = digit_value(*s);
        if (d < 0 || (unsigned)d >= base)
            return false;
        v = v * base + (unsigned)d;
    }
    *out = neg ? -(int64_t)v : (int64_t)v;
    return true;
}

/* ---- console ---- */

void kit_write(const char *buf, size_t len)
{
    volatile struct hvt_hc_puts p = { .data = buf, .len = len };
    kit_hypercall(HVT_HYPERCALL_PUTS, &p);
}

void kit_puts(const char *s)
{
    kit_write(s, strlen(s));
}

void kit_println(const char *s)
{
    kit_puts(s);
    kit_write("\n", 1);
}

void kit_putc(char c)
{
    kit_write(&c, 1);
}

void kit_put_udec(uint64_t v)
{
    char buf[21];
    size_t i = sizeof buf;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    kit_write(buf + i, sizeof buf - i);
}

void kit_put_dec(int64_t v)
{
    if (v < 0) {
        kit_putc('-');
        kit_put_udec(-(uint64_t)v);
    } else {
        kit_put_udec((uint64_t)v);
    }
}

void kit_put_hex(uint64_t v)
{
    char buf[18];
    size_t i = sizeof buf;
    do {
        buf[--i] = "0123456789abcdef"[v & 0xf];
        v >>= 4;
    } while (v);
    buf[--i] = 'x';
    buf[--i] = '0';
    kit_write(buf + i, sizeof buf - i);
}

/* ---- time ---- */

uint64_t kit_walltime_ns(void)
{
    volatile struct hvt_hc_walltime w = { 0 };
    kit_hypercall(HVT_HYPERCALL_WALLTIME, &w);
    return w.nsecs;
}

uint64_t kit_rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

uint64_t kit_monotonic_ns(void)
{
    uint64_t freq = kit_boot_info->cpu_cycle_freq;
    uint64_t tsc = kit_rdtsc();
    if (freq == 0)
        return 0;
    /* Avoid 128-bit division (no libgcc): rem * 1e9 fits while freq < 18 GHz. */
    uint64_t secs = tsc / freq, rem = tsc % freq;
    return secs * 1000000000ULL + rem * 1000000000ULL / freq;
}

/* The calls below differ before 0.6: kit_v0.c has them for KIT_ABI_VERSION 0. */
#if KIT_ABI_VERSION != 0

/* ---- poll ---- */

int kit_poll(uint64_t timeout_ns, uint64_t *ready_set)
{
    volatile struct hvt_hc_poll p = { .timeout_nsecs = timeout_ns };
    kit_hypercall(HVT_HYPERCALL_POLL, &p);
    if (ready_set)
        *ready_set = p.ready_set;
    return p.ret;
}

/* ---- exit ---- */

void kit_halt(int status, void *cookie)
{
    volatile struct hvt_hc_halt h = { .cookie = cookie, .exit_status = status };
    kit_hypercall(HVT_HYPERCALL_HALT, &h);
    for (;;)
        __asm__ volatile("cli; hlt");
}

#endif /* KIT_ABI_VERSION != 0 */

void kit_exit(int status)
{
    kit_halt(status, NULL);
}

void exit(int status)
{
    kit_halt(status, NULL);
}

void abort(void)
{
    kit_println("kit: abort() called");
    kit_halt(255, NULL);
}

/* ---- stack protector ---- */

/* Re-seeded from the TSC by _start before main runs. */
uintptr_t __stack_chk_guard = 0x00c0ffee5eed1e55ULL;

void __stack_chk_fail(void)
{
    kit_println("kit: stack smashing detected");
    abort();
}

/* ---- devices ---- */
#if KIT_ABI_VERSION != 0

int kit_block_write(uint64_t handle, uint64_t offset, const void *buf,
                    size_t len)
{
    volatile struct hvt_hc_block_write w = {
        .handle = handle, .offset = offset, .data = buf, .len = len,
        .ret = SOLO5_R_EUNSPEC
    };
    kit_hypercall(HVT_HYPERCALL_BLOCK_WRITE, &w);
    return w.ret;
}

int kit_block_read(uint64_t handle, uint64_t offset, void *buf, size_t len)
{
    volatile struct hvt_hc_block_read r = {
        .handle = handle, .offset = offset, .data = buf, .len = len,
        .ret = SOLO5_R_EUNSPEC
    };
    kit_hypercall(HVT_HYPERCALL_BLOCK_READ, &r);
    return r.ret;
}

int kit_net_write(uint64_t handle, const void *buf, size_t len)
{
    volatile struct hvt_hc_net_write w = {
        .handle = handle, .data = buf, .len = len, .ret = SOLO5_R_EUNSPEC
    };
    kit_hypercall(HVT_HYPERCALL_NET_WRITE, &w);
    return w.ret;
}

int kit_net_read(uint64_t handle, void *buf, size_t *len)
{
    volatile struct hvt_hc_net_read r = {
        .handle = handle, .data = buf, .len = *len, .ret = SOLO5_R_EUNSPEC
    };
    kit_hypercall(HVT_HYPERCALL_NET_READ, &r);
    if (r.ret == SOLO5_R_OK)
        *len = r.len;
    return r.ret;
}
#endif /* KIT_ABI_VERSION != 0 */
