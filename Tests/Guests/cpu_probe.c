/*
 * cpu_probe: what a guest may learn and touch of the host CPU.
 *
 *   cpu_probe cpuid        prints what CPUID shows; FAILURE if it shows
 *                          VMX, SVM, SGX, Intel PT, a hypervisor leaf
 *                          (0x40000000), an SGX (0x12), PMU (0xA) or SVM
 *                          (0x8000000A) leaf, or lacks what our guests and
 *                          OCaml need (FPU, TSC, CMPXCHG8B, CMOV, FXSR,
 *                          SSE, SSE2, long mode, NX).
 *   cpu_probe msr-allowed  writes and reads back FS_BASE, GS_BASE and
 *                          KERNEL_GS_BASE (the TLS base Solo5 sets).
 *   cpu_probe msr-denied   reads and writes MSRs a unikernel has no use for
 *                          (SYSENTER, APIC base, feature control, VMX, VM_CR,
 *                          KVM paravirtual clocks, STAR, PAT...); each must
 *                          raise #GP (caught by our own IDT).
 *   cpu_probe msr-read MSR / msr-write MSR VALUE
 *                          one access with no IDT: a denied one ends in a
 *                          triple fault; if it comes back the guest says
 *                          FAILURE (the MSRs our cases name are ones KVM
 *                          lets a guest touch when nothing filters them).
 */
#include "kit.h"

static int failures;

static void fail(const char *what)
{
    kit_puts("FAILURE: ");
    kit_println(what);
    failures++;
}

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ volatile("cpuid"
                     : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                     : "a"(leaf), "c"(sub));
}

/* A #GP handler that skips the faulting 2-byte rdmsr/wrmsr and counts. */
volatile uint64_t gp_count;
extern char gp_entry[];
__asm__(".text\n"
        ".globl gp_entry\n"
        "gp_entry:\n"
        "    addq $8, %rsp\n"          /* the error code */
        "    addq $2, (%rsp)\n"        /* rip past rdmsr/wrmsr */
        "    incq gp_count(%rip)\n"
        "    iretq\n");

struct idt_gate {
    uint16_t offset0, selector;
    uint8_t ist, type;
    uint16_t offset1;
    uint32_t offset2, reserved;
} __attribute__((packed));

static struct idt_gate idt[32] __attribute__((aligned(16)));

/* Our own GDT with the selectors the tender set up (code 0x8, data 0x10),
 * as Solo5's bindings load their own: exception delivery reads the code
 * descriptor through the page tables, and the tender's GDT lies below the
 * boot info, in memory they leave unmapped. */
static const uint64_t gdt[3] __attribute__((aligned(16))) = {
    0, 0x00af9b000000ffffULL, 0x00cf93000000ffffULL
};

static void install_gp_handler(void)
{
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) gdtr = { sizeof gdt - 1, (uint64_t)gdt };
    __asm__ volatile("lgdt %0" : : "m"(gdtr));
    uint64_t handler = (uint64_t)gp_entry;
    uint16_t cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    idt[13] = (struct idt_gate){
        .offset0 = (uint16_t)handler, .selector = cs, .ist = 0,
        .type = 0x8e, /* present, DPL 0, 64-bit interrupt gate */
        .offset1 = (uint16_t)(handler >> 16),
        .offset2 = (uint32_t)(handler >> 32),
    };
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) idtr = { sizeof idt - 1, (uint64_t)idt };
    __asm__ volatile("lidt %0" : : "m"(idtr));
}

/* Returns true when the access raised #GP. */
static bool rdmsr(uint32_t msr, uint64_t *value)
{
    uint64_t before = gp_count;
    uint32_t lo = 0, hi = 0;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr) : "memory");
    *value = ((uint64_t)hi << 32) | lo;
    return gp_count != before;
}

static bool wrmsr(uint32_t msr, uint64_t value)
{
    uint64_t before = gp_count;
    __asm__ volatile("wrmsr"
                     :
                     : "c"(msr), "a"((uint32_t)value),
                       "d"((uint32_t)(value >> 32))
                     : "memory");
    return gp_count != before;
}

static void show_msr(const char *what, uint32_t msr, bool faulted)
{
    kit_puts("MSR ");
    kit_put_hex(msr);
    kit_puts(" ");
    kit_puts(what);
    kit_println(faulted ? ": #GP" : ": allowed");
}

static int probe_cpuid(void)
{
    uint32_t r[4];
    cpuid(0, 0, r);
    uint32_t max_basic = r[0];
    cpuid(0x80000000, 0, r);
    uint32_t max_extended = r[0];
    kit_puts("cpuid: max basic leaf ");
    kit_put_hex(max_basic);
    kit_puts(", max extended leaf ");
    kit_put_hex(max_extended);
    kit_putc('\n');

    cpuid(1, 0, r);
    uint32_t ecx1 = r[2], edx1 = r[3];
    kit_puts("cpuid 1: ecx ");
    kit_put_hex(ecx1);
    kit_puts(" edx ");
    kit_put_hex(edx1);
    kit_putc('\n');
    if (ecx1 & (1U << 5))
        fail("CPUID.1:ECX.VMX is set");
    if (ecx1 & (1U << 6))
        fail("CPUID.1:ECX.SMX is set");
    if (ecx1 & (1U << 15))
        fail("CPUID.1:ECX.PDCM is set");
    const uint32_t needed = (1U << 0) | (1U << 4) | (1U << 8) | (1U << 15) |
                            (1U << 24) | (1U << 25) | (1U << 26);
    if ((edx1 & needed) != needed)
        fail("CPUID.1:EDX lacks FPU, TSC, CX8, CMOV, FXSR, SSE or SSE2");

    if (max_basic >= 7) {
        cpuid(7, 0, r);
        kit_puts("cpuid 7: ebx ");
        kit_put_hex(r[1]);
        kit_puts(" ecx ");
        kit_put_hex(r[2]);
        kit_putc('\n');
        if (r[1] & (1U << 2))
            fail("CPUID.7:EBX.SGX is set");
        if (r[1] & (1U << 25))
            fail("CPUID.7:EBX.Intel PT is set");
        if (r[2] & (1U << 30))
            fail("CPUID.7:ECX.SGX_LC is set");
    }
    static const uint32_t gone[] = { 0xa, 0x12, 0x14 };
    for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++) {
        if (gone[i] > max_basic)
            continue;
        cpuid(gone[i], 0, r);
        if (r[0] | r[1] | r[2] | r[3]) {
            kit_puts("cpuid ");
            kit_put_hex(gone[i]);
            kit_println(" is not empty");
            fail("a filtered basic leaf is visible");
        }
    }

    cpuid(0x40000000, 0, r);
    char signature[13];
    __builtin_memcpy(signature, &r[1], 4);
    __builtin_memcpy(signature + 4, &r[2], 4);
    __builtin_memcpy(signature + 8, &r[3], 4);
    signature[12] = 0;
    for (int i = 0; i < 12; i++)
        if (signature[i] < 0x20 || signature[i] > 0x7e)
            signature[i] = '.';
    kit_puts("cpuid 0x40000000: eax ");
    kit_put_hex(r[0]);
    kit_puts(" signature ");
    kit_println(signature);
    if (__builtin_memcmp(signature, "KVMKVMKVM", 9) == 0)
        fail("the KVM hypervisor leaves are visible");

    if (max_extended >= 0x80000001) {
        cpuid(0x80000001, 0, r);
        kit_puts("cpuid 0x80000001: ecx ");
        kit_put_hex(r[2]);
        kit_puts(" edx ");
        kit_put_hex(r[3]);
        kit_putc('\n');
        if (r[2] & (1U << 2))
            fail("CPUID.80000001:ECX.SVM is set");
        if ((r[3] & ((1U << 29) | (1U << 20))) != ((1U << 29) | (1U << 20)))
            fail("CPUID.80000001:EDX lacks long mode or NX");
    } else {
        fail("no extended leaf 0x80000001");
    }
    if (max_extended >= 0x8000000a) {
        cpuid(0x8000000a, 0, r);
        if (r[0] | r[1] | r[2] | r[3])
            fail("the SVM leaf 0x8000000A is visible");
    }
    if (failures)
        return 1;
    kit_println("SUCCESS");
    return 0;
}

static int probe_allowed(void)
{
    static const uint32_t msrs[] = { 0xc0000100, 0xc0000101, 0xc0000102 };
    for (size_t i = 0; i < sizeof msrs / sizeof msrs[0]; i++) {
        uint64_t value = 0x1000 + i * 0x10, back = 0;
        bool faulted = wrmsr(msrs[i], value);
        show_msr("write", msrs[i], faulted);
        if (faulted)
            fail("an allowed MSR write raised #GP");
        faulted = rdmsr(msrs[i], &back);
        show_msr("read", msrs[i], faulted);
        if (faulted || back != value)
            fail("an allowed MSR did not read back what was written");
    }
    /* Leave FS/GS as they were: zero. */
    wrmsr(0xc0000100, 0);
    wrmsr(0xc0000101, 0);
    if (failures)
        return 1;
    kit_println("SUCCESS");
    return 0;
}

static int probe_denied(void)
{
    static const uint32_t msrs[] = {
        0x10,       /* TSC */
        0x1b,       /* APIC_BASE */
        0x3a,       /* FEATURE_CONTROL */
        0x174,      /* SYSENTER_CS */
        0x175,      /* SYSENTER_ESP */
        0x1a0,      /* MISC_ENABLE */
        0x277,      /* PAT */
        0x480,      /* VMX_BASIC */
        0xc0000080, /* EFER (a guest may not turn off long mode) */
        0xc0000081, /* STAR */
        0xc0000082, /* LSTAR */
        0xc0010114, /* AMD VM_CR */
        0xc0010117, /* AMD VM_HSAVE_PA */
        0x4b564d00, /* KVM wall clock */
        0x4b564d01, /* KVM system time */
        0x4b564d02, /* KVM async page fault */
        0x4b564d03, /* KVM steal time */
        0x11,       /* KVM wall clock (old) */
        0x12,       /* KVM system time (old) */
    };
    unsigned denied = 0, total = 0;
    for (size_t i = 0; i < sizeof msrs / sizeof msrs[0]; i++) {
        uint64_t value = 0;
        bool faulted = rdmsr(msrs[i], &value);
        show_msr("read", msrs[i], faulted);
        denied += faulted;
        total++;
        if (!faulted)
            fail("a denied MSR could be read");
        /* Write a value that would matter (enable a paravirtual clock at
         * guest address 0x100000, a bogus TSC...); the filter must stop it
         * before KVM looks at the value. */
        faulted = wrmsr(msrs[i], 0x100001);
        show_msr("write", msrs[i], faulted);
        denied += faulted;
        total++;
        if (!faulted)
            fail("a denied MSR could be written");
    }
    kit_put_udec(denied);
    kit_puts(" of ");
    kit_put_udec(total);
    kit_println(" MSR accesses denied");
    if (failures)
        return 1;
    kit_println("SUCCESS");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        kit_println("FAILURE: usage: cpu_probe cpuid|msr-allowed|msr-denied");
        return 1;
    }
    int64_t msr = 0, written = 0;
    if (argc >= 3 && kit_parse_int(argv[2], &msr)) {
        uint64_t value = 0;
        if (strcmp(argv[1], "msr-read") == 0) {
            kit_puts("reading MSR ");
            kit_put_hex((uint32_t)msr);
            kit_putc('\n');
            rdmsr((uint32_t)msr, &value);
            kit_puts("FAILURE: MSR read allowed, value ");
            kit_put_hex(value);
            kit_putc('\n');
            return 1;
        }
        if (strcmp(argv[1], "msr-write") == 0 && argc == 4 &&
            kit_parse_int(argv[3], &written)) {
            kit_puts("writing MSR ");
            kit_put_hex((uint32_t)msr);
            kit_putc('\n');
            wrmsr((uint32_t)msr, (uint64_t)written);
            kit_println("FAILURE: MSR write allowed");
            return 1;
        }
    }
    install_gp_handler();
    if (strcmp(argv[1], "cpuid") == 0)
        return probe_cpuid();
    if (strcmp(argv[1], "msr-allowed") == 0)
        return probe_allowed();
    if (strcmp(argv[1], "msr-denied") == 0)
        return probe_denied();
    kit_println("FAILURE: usage: cpu_probe cpuid|msr-allowed|msr-denied");
    return 1;
}
