/*
 * blk: exercises the block device "storage" at the block size the tender
 * reports: writes a distinct pattern to a spread of blocks (and a 2-block
 * request), reads everything back, then checks that malformed requests
 * (misaligned offset, partial or empty length, beyond capacity, offset
 * overflow, bad handles) each return SOLO5_R_EINVAL without changing data.
 * Prints SUCCESS.
 */
#include "devices.h"

KIT_MANIFEST(1, KIT_MFT_BLOCK("storage"));

#define MAX_BLOCK 32768
/* At most this many blocks are patterned, spread across the device. */
#define MAX_CHECKED 32

static uint64_t wbuf[2 * MAX_BLOCK / 8], rbuf[2 * MAX_BLOCK / 8];
static int failures;
static uint64_t h, capacity, bs;

static void fail(const char *what, uint64_t v)
{
    kit_puts("FAILURE: ");
    kit_puts(what);
    kit_puts(" (");
    kit_put_hex(v);
    kit_println(")");
    failures++;
}

static void fill(uint64_t *buf, uint64_t off, uint64_t len, uint64_t seed)
{
    for (uint64_t i = 0; i < len / 8; i++)
        buf[i] = dev_pattern(off + 8 * i, seed);
}

static bool matches(const uint64_t *buf, uint64_t off, uint64_t len, uint64_t seed)
{
    for (uint64_t i = 0; i < len / 8; i++)
        if (buf[i] != dev_pattern(off + 8 * i, seed))
            return false;
    return true;
}

static void expect_einval(const char *what, uint64_t handle, uint64_t off, uint64_t len)
{
    if (len > sizeof wbuf)
        len = sizeof wbuf;
    int w = kit_block_write(handle, off, wbuf, len);
    if (w != SOLO5_R_EINVAL)
        fail(what, (uint64_t)w);
    int r = kit_block_read(handle, off, rbuf, len);
    if (r != SOLO5_R_EINVAL)
        fail(what, (uint64_t)r);
}

/* Writes then reads back block `off` with `seed`. */
static void roundtrip(uint64_t off, uint64_t len, uint64_t seed)
{
    fill(wbuf, off, len, seed);
    memset(rbuf, 0, len);
    int w = kit_block_write(h, off, wbuf, len);
    if (w != SOLO5_R_OK) {
        fail("write failed at", off);
        return;
    }
    int r = kit_block_read(h, off, rbuf, len);
    if (r != SOLO5_R_OK)
        fail("read failed at", off);
    else if (!matches(rbuf, off, len, seed))
        fail("read back wrong data at", off);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    int64_t handle = dev_lookup("storage", MFT_DEV_BLOCK_BASIC);
    if (handle < 0) {
        kit_println("FAILURE: storage not attached");
        return 1;
    }
    h = (uint64_t)handle;
    capacity = kit_manifest_entry(h)->u.block_basic.capacity;
    bs = kit_manifest_entry(h)->u.block_basic.block_size;
    kit_puts("blk: capacity ");
    kit_put_udec(capacity);
    kit_puts(" block_size ");
    kit_put_udec(bs);
    kit_println("");
    if (bs < 512 || bs > MAX_BLOCK || (bs & (bs - 1)) || capacity < bs || capacity % bs) {
        kit_println("FAILURE: implausible geometry");
        return 1;
    }

    /* A spread of single blocks, always including the first and last. */
    uint64_t blocks = capacity / bs;
    uint64_t stride = blocks > MAX_CHECKED ? blocks / MAX_CHECKED : 1;
    for (uint64_t b = 0; b < blocks; b += stride)
        roundtrip(b * bs, bs, 1);
    roundtrip(capacity - bs, bs, 1);
    /* Read the spread back again: no write clobbered another block. */
    for (uint64_t b = 0; b < blocks; b += stride) {
        if (kit_block_read(h, b * bs, rbuf, bs) != SOLO5_R_OK || !matches(rbuf, b * bs, bs, 1))
            fail("second read back wrong at", b * bs);
    }
    /* A two-block request. */
    if (blocks >= 2)
        roundtrip(0, 2 * bs, 2);

    /* Malformed requests. */
    uint64_t last = capacity - bs;
    expect_einval("misaligned offset", h, 1, bs);
    expect_einval("offset bs-1", h, bs - 1, bs);
    expect_einval("offset bs/2", h, bs / 2, bs);
    expect_einval("length bs-1", h, 0, bs - 1);
    expect_einval("length bs+1", h, 0, bs + 1);
    expect_einval("length 0", h, 0, 0);
    expect_einval("offset == capacity", h, capacity, bs);
    expect_einval("past the end", h, last, 2 * bs);
    expect_einval("offset overflow", h, ~0ULL - bs + 1, bs);
    expect_einval("handle 0 (reserved)", 0, 0, bs);
    expect_einval("handle past the manifest", h + 1, 0, bs);
    expect_einval("handle out of range", 64, 0, bs);
    expect_einval("huge handle", ~0ULL, 0, bs);
    /* The last block still holds what was written there. */
    if (kit_block_read(h, last, rbuf, bs) != SOLO5_R_OK || !matches(rbuf, last, bs, 1))
        fail("last block changed by rejected requests", last);

    if (failures)
        return 1;
    kit_println("SUCCESS");
    return 0;
}
