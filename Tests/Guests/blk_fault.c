/*
 * blk_fault MODE: block storage under faults (the test host arranges them).
 *
 *   fill SEED  writes dev_pattern(offset, SEED) block by block over the
 *              device "storage". At the first write that fails it prints
 *              "write failed at offset N: result R", reads back and checks
 *              every block written before ("earlier data intact: N bytes")
 *              and exits 2. If every write succeeds: "WRITTEN", exit 0.
 *   churn      writes forever, block by block, round and round: the k-th
 *              write (k = 1, 2, ...) fills its block with the 64-bit word k.
 *              Each write is acknowledged before the next is issued, so
 *              whenever the run ends the file holds a run of consecutive
 *              numbers (the test checks it). Exits 2 if a write fails.
 *   reread     writes the word 0x5245524541440000 ("REREAD") to block 0,
 *              then reads the whole device round and round until a read
 *              fails: "read failed at offset N: result R", exit 2.
 */
#include "devices.h"

KIT_MANIFEST(1, KIT_MFT_BLOCK("storage"));

static uint64_t buf[4096 / 8];

static void report(const char *what, uint64_t offset, int result)
{
    kit_puts(what);
    kit_puts(" at offset ");
    kit_put_udec(offset);
    kit_puts(": result ");
    kit_put_dec(result);
    kit_putc('\n');
}

int main(int argc, char **argv)
{
    int64_t h = dev_lookup("storage", MFT_DEV_BLOCK_BASIC);
    if (argc < 2 || h < 0) {
        kit_println("FAILURE: usage: blk_fault fill SEED|churn|reread "
                    "(with storage attached)");
        return 1;
    }
    uint64_t capacity = kit_manifest_entry(h)->u.block_basic.capacity;
    uint64_t bs = kit_manifest_entry(h)->u.block_basic.block_size;
    if (bs > sizeof buf) {
        kit_println("FAILURE: block size too large");
        return 1;
    }

    if (strcmp(argv[1], "fill") == 0 && argc == 3) {
        int64_t seed;
        if (!kit_parse_int(argv[2], &seed)) {
            kit_println("FAILURE: bad seed");
            return 1;
        }
        uint64_t off;
        for (off = 0; off < capacity; off += bs) {
            for (uint64_t i = 0; i < bs / 8; i++)
                buf[i] = dev_pattern(off + 8 * i, (uint64_t)seed);
            int r = kit_block_write(h, off, buf, bs);
            if (r != SOLO5_R_OK) {
                report("write failed", off, r);
                break;
            }
        }
        if (off == capacity) {
            kit_println("WRITTEN");
            return 0;
        }
        for (uint64_t back = 0; back < off; back += bs) {
            int r = kit_block_read(h, back, buf, bs);
            if (r != SOLO5_R_OK) {
                report("FAILURE: read back failed", back, r);
                return 1;
            }
            for (uint64_t i = 0; i < bs / 8; i++) {
                if (buf[i] != dev_pattern(back + 8 * i, (uint64_t)seed)) {
                    report("FAILURE: earlier data lost", back + 8 * i, 0);
                    return 1;
                }
            }
        }
        kit_puts("earlier data intact: ");
        kit_put_udec(off);
        kit_println(" bytes");
        return 2;
    }

    if (strcmp(argv[1], "churn") == 0) {
        for (uint64_t k = 1;; k++) {
            uint64_t off = ((k - 1) * bs) % capacity;
            for (uint64_t i = 0; i < bs / 8; i++)
                buf[i] = k;
            int r = kit_block_write(h, off, buf, bs);
            if (r != SOLO5_R_OK) {
                report("write failed", off, r);
                return 2;
            }
        }
    }

    if (strcmp(argv[1], "reread") == 0) {
        buf[0] = 0x5245524541440000ULL;
        for (uint64_t i = 1; i < bs / 8; i++)
            buf[i] = 0;
        if (kit_block_write(h, 0, buf, bs) != SOLO5_R_OK) {
            kit_println("FAILURE: marker write failed");
            return 1;
        }
        for (;;) {
            for (uint64_t off = 0; off < capacity; off += bs) {
                int r = kit_block_read(h, off, buf, bs);
                if (r != SOLO5_R_OK) {
                    report("read failed", off, r);
                    return 2;
                }
            }
        }
    }

    kit_println("FAILURE: usage: blk_fault fill SEED|churn|reread");
    return 1;
}
