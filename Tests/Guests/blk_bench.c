/*
 * blk_bench [MIB [KIB]]: sequential throughput of block device "storage":
 * writes MIB MiB (default 64) in requests of KIB KiB (default 1024), then
 * reads them back, timing each pass with the TSC, and prints
 *   write: N MB/s
 *   read: N MB/s
 * (MB = 10^6 bytes). The data is a pattern; the first word of every block
 * read back is checked. The device must hold MIB MiB. Prints SUCCESS.
 */
#include "devices.h"

KIT_MANIFEST(1, KIT_MFT_BLOCK("storage"));

#define MAX_REQUEST (4u << 20)

static uint64_t data[MAX_REQUEST / 8];

static void report(const char *what, uint64_t bytes, uint64_t ns)
{
    kit_puts(what);
    kit_puts(": ");
    kit_put_udec(ns ? bytes * 1000 / ns : 0);
    kit_puts(" MB/s (");
    kit_put_udec(bytes);
    kit_puts(" bytes in ");
    kit_put_udec(ns / 1000);
    kit_println(" us)");
}

int main(int argc, char **argv)
{
    int64_t mib = 64, kib = 1024;
    if ((argc > 1 && (!kit_parse_int(argv[1], &mib) || mib <= 0)) ||
        (argc > 2 && (!kit_parse_int(argv[2], &kib) || kib <= 0 || (uint64_t)kib * 1024 > MAX_REQUEST))) {
        kit_println("FAILURE: usage: blk_bench [MIB [KIB]]");
        return 1;
    }
    int64_t handle = dev_lookup("storage", MFT_DEV_BLOCK_BASIC);
    if (handle < 0) {
        kit_println("FAILURE: storage not attached");
        return 1;
    }
    const struct mft_entry *e = kit_manifest_entry(handle);
    uint64_t total = (uint64_t)mib << 20, request = (uint64_t)kib << 10;
    uint64_t bs = e->u.block_basic.block_size;
    if (e->u.block_basic.capacity < total || request % bs) {
        kit_println("FAILURE: device too small or request not whole blocks");
        return 1;
    }
    /* One pattern word per block; the rest stays as is. */
    for (uint64_t off = 0; off < request; off += bs)
        data[off / 8] = dev_pattern(off, 1);

    uint64_t t0 = kit_monotonic_ns();
    for (uint64_t off = 0; off < total; off += request) {
        data[0] = dev_pattern(off, 1);
        if (kit_block_write((uint64_t)handle, off, data, request) != SOLO5_R_OK) {
            kit_println("FAILURE: write");
            return 1;
        }
    }
    uint64_t t1 = kit_monotonic_ns();
    report("write", total, t1 - t0);

    uint64_t bad = 0;
    t0 = kit_monotonic_ns();
    for (uint64_t off = 0; off < total; off += request) {
        if (kit_block_read((uint64_t)handle, off, data, request) != SOLO5_R_OK) {
            kit_println("FAILURE: read");
            return 1;
        }
        if (data[0] != dev_pattern(off, 1))
            bad++;
    }
    t1 = kit_monotonic_ns();
    report("read", total, t1 - t0);
    if (bad) {
        kit_println("FAILURE: data read back differs");
        return 1;
    }
    kit_println("SUCCESS");
    return 0;
}
