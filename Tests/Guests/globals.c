/*
 * globals: checks that initialised .data, zeroed .bss and .rodata were
 * loaded correctly and sit in their own segments, then writes the writable
 * ones and reads them back.
 */
#include "kit.h"

extern char _etext[], _erodata[], _edata[], _ebss[];

static const uint64_t ro_value = 0x0123456789abcdefULL;
static const char ro_text[] = "rodata text";
static uint64_t data_value = 0xfeedfacecafebeefULL;
static char data_text[16] = "data text";
static uint64_t bss_value;
static uint8_t bss_block[3 * 4096 + 123];

static int failures;

static void fail(const char *what)
{
    kit_puts("FAILURE: ");
    kit_println(what);
    failures++;
}

static bool within(const volatile void *p, const char *lo, const char *hi)
{
    const char *c = (const char *)p;
    return c >= lo && c < hi;
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    /* Read through volatile pointers so nothing is folded at compile time. */
    const volatile uint64_t *ro = &ro_value;
    volatile uint64_t *dv = &data_value;
    volatile uint64_t *bv = &bss_value;
    volatile uint8_t *bb = bss_block;
    volatile char *dt = data_text;

    if (!within(ro, _etext, _erodata) || !within(ro_text, _etext, _erodata))
        fail("rodata not in the rodata segment");
    if (!within(dv, _erodata, _edata) || !within(dt, _erodata, _edata))
        fail("data not in the data segment");
    if (!within(bv, _edata, _ebss) || !within(bb, _edata, _ebss))
        fail("bss not in the bss segment");

    if (*ro != 0x0123456789abcdefULL)
        fail(".rodata value");
    if (memcmp((const void *)ro_text, "rodata text", sizeof ro_text) != 0)
        fail(".rodata string");
    if (*dv != 0xfeedfacecafebeefULL)
        fail(".data value");
    if (memcmp((const void *)dt, "data text\0\0\0\0\0\0\0", 16) != 0)
        fail(".data string");
    if (*bv != 0)
        fail(".bss value not zero");
    for (size_t i = 0; i < sizeof bss_block; i++) {
        if (bb[i] != 0) {
            fail(".bss block not zero");
            break;
        }
    }

    *dv = 0x1111222233334444ULL;
    *bv = 0x5555666677778888ULL;
    dt[0] = 'D';
    for (size_t i = 0; i < sizeof bss_block; i++)
        bb[i] = (uint8_t)(i * 7 + 1);

    if (*dv != 0x1111222233334444ULL)
        fail(".data reread");
    if (*bv != 0x5555666677778888ULL)
        fail(".bss reread");
    if (dt[0] != 'D' || dt[1] != 'a')
        fail(".data string reread");
    for (size_t i = 0; i < sizeof bss_block; i++) {
        if (bb[i] != (uint8_t)(i * 7 + 1)) {
            fail(".bss block reread");
            break;
        }
    }
    if (*ro != 0x0123456789abcdefULL)
        fail(".rodata changed");

    if (failures)
        return 1;
    kit_println("SUCCESS");
    return 0;
}
