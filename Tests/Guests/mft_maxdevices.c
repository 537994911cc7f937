/*
 * mft_maxdevices: declares 63 block devices, storage0 ... storage62 (the most
 * a manifest holds), and checks that the tender attached every one.
 */
#include "devices.h"

KIT_MANIFEST(63,
    KIT_MFT_BLOCK("storage0"),
    KIT_MFT_BLOCK("storage1"),
    KIT_MFT_BLOCK("storage2"),
    KIT_MFT_BLOCK("storage3"),
    KIT_MFT_BLOCK("storage4"),
    KIT_MFT_BLOCK("storage5"),
    KIT_MFT_BLOCK("storage6"),
    KIT_MFT_BLOCK("storage7"),
    KIT_MFT_BLOCK("storage8"),
    KIT_MFT_BLOCK("storage9"),
    KIT_MFT_BLOCK("storage10"),
    KIT_MFT_BLOCK("storage11"),
    KIT_MFT_BLOCK("storage12"),
    KIT_MFT_BLOCK("storage13"),
    KIT_MFT_BLOCK("storage14"),
    KIT_MFT_BLOCK("storage15"),
    KIT_MFT_BLOCK("storage16"),
    KIT_MFT_BLOCK("storage17"),
    KIT_MFT_BLOCK("storage18"),
    KIT_MFT_BLOCK("storage19"),
    KIT_MFT_BLOCK("storage20"),
    KIT_MFT_BLOCK("storage21"),
    KIT_MFT_BLOCK("storage22"),
    KIT_MFT_BLOCK("storage23"),
    KIT_MFT_BLOCK("storage24"),
    KIT_MFT_BLOCK("storage25"),
    KIT_MFT_BLOCK("storage26"),
    KIT_MFT_BLOCK("storage27"),
    KIT_MFT_BLOCK("storage28"),
    KIT_MFT_BLOCK("storage29"),
    KIT_MFT_BLOCK("storage30"),
    KIT_MFT_BLOCK("storage31"),
    KIT_MFT_BLOCK("storage32"),
    KIT_MFT_BLOCK("storage33"),
    KIT_MFT_BLOCK("storage34"),
    KIT_MFT_BLOCK("storage35"),
    KIT_MFT_BLOCK("storage36"),
    KIT_MFT_BLOCK("storage37"),
    KIT_MFT_BLOCK("storage38"),
    KIT_MFT_BLOCK("storage39"),
    KIT_MFT_BLOCK("storage40"),
    KIT_MFT_BLOCK("storage41"),
    KIT_MFT_BLOCK("storage42"),
    KIT_MFT_BLOCK("storage43"),
    KIT_MFT_BLOCK("storage44"),
    KIT_MFT_BLOCK("storage45"),
    KIT_MFT_BLOCK("storage46"),
    KIT_MFT_BLOCK("storage47"),
    KIT_MFT_BLOCK("storage48"),
    KIT_MFT_BLOCK("storage49"),
    KIT_MFT_BLOCK("storage50"),
    KIT_MFT_BLOCK("storage51"),
    KIT_MFT_BLOCK("storage52"),
    KIT_MFT_BLOCK("storage53"),
    KIT_MFT_BLOCK("storage54"),
    KIT_MFT_BLOCK("storage55"),
    KIT_MFT_BLOCK("storage56"),
    KIT_MFT_BLOCK("storage57"),
    KIT_MFT_BLOCK("storage58"),
    KIT_MFT_BLOCK("storage59"),
    KIT_MFT_BLOCK("storage60"),
    KIT_MFT_BLOCK("storage61"),
    KIT_MFT_BLOCK("storage62"));

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const struct mft *m = kit_manifest();
    if (m->entries != 64) {
        kit_println("FAILURE: manifest does not have 64 entries");
        return 1;
    }
    char name[] = "storageNN";
    for (unsigned i = 0; i < 63; i++) {
        unsigned n = 7;
        if (i >= 10)
            name[n++] = (char)('0' + i / 10);
        name[n++] = (char)('0' + i % 10);
        name[n] = '\0';
        int64_t h = dev_lookup(name, MFT_DEV_BLOCK_BASIC);
        const struct mft_entry *e = h < 0 ? NULL : kit_manifest_entry(h);
        if (h != (int64_t)i + 1 || e->u.block_basic.capacity == 0 ||
            e->u.block_basic.block_size != 512) {
            kit_puts("FAILURE: not attached: ");
            kit_println(name);
            return 1;
        }
        /* Each device is its own: read back a block written through it. */
        static uint8_t wb[512], rb[512];
        memset(wb, (int)i, sizeof wb);
        if (kit_block_write(h, 0, wb, sizeof wb) != SOLO5_R_OK ||
            kit_block_read(h, 0, rb, sizeof rb) != SOLO5_R_OK || memcmp(wb, rb, sizeof rb)) {
            kit_puts("FAILURE: I/O failed: ");
            kit_println(name);
            return 1;
        }
    }
    kit_println("63 devices attached");
    kit_println("SUCCESS");
    return 0;
}
