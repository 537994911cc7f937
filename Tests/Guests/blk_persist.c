/*
 * blk_persist MODE [SEED]: writes the pattern dev_pattern(offset, SEED) over
 * the whole block device "storage", prints "WRITTEN", then per MODE:
 *   halt  - exits 0;
 *   abort - aborts (exit 255);
 *   sleep - waits in POLL until the tender is killed.
 * The test then reads the backing file to prove nothing was lost.
 */
#include "devices.h"

KIT_MANIFEST(1, KIT_MFT_BLOCK("storage"));

static uint64_t buf[32768 / 8];

int main(int argc, char **argv)
{
    int64_t seed = 0x5eed;
    if (argc < 2 || (argc > 2 && !kit_parse_int(argv[2], &seed))) {
        kit_println("FAILURE: usage: blk_persist halt|abort|sleep [SEED]");
        return 1;
    }
    int64_t h = dev_lookup("storage", MFT_DEV_BLOCK_BASIC);
    if (h < 0) {
        kit_println("FAILURE: storage not attached");
        return 1;
    }
    uint64_t capacity = kit_manifest_entry(h)->u.block_basic.capacity;
    uint64_t bs = kit_manifest_entry(h)->u.block_basic.block_size;
    if (bs > sizeof buf) {
        kit_println("FAILURE: block size too large");
        return 1;
    }
    for (uint64_t off = 0; off < capacity; off += bs) {
        for (uint64_t i = 0; i < bs / 8; i++)
            buf[i] = dev_pattern(off + 8 * i, (uint64_t)seed);
        if (kit_block_write(h, off, buf, bs) != SOLO5_R_OK) {
            kit_println("FAILURE: write failed");
            return 1;
        }
    }
    kit_println("WRITTEN");
    if (strcmp(argv[1], "halt") == 0)
        return 0;
    if (strcmp(argv[1], "abort") == 0)
        abort();
    if (strcmp(argv[1], "sleep") == 0) {
        for (;;)
            kit_poll(1000000000ULL, NULL);
    }
    kit_println("FAILURE: usage: blk_persist halt|abort|sleep [SEED]");
    return 1;
}
