/*
 * ring_hostile ATTACK: abuses the net ring (hvt_ring.h) of network
 * "service0". Needs a tender that offers ring I/O.
 *
 * Attacks the tender must survive (the guest then prints SUCCESS, exit 0):
 *   bad_handle   reads from bad handles commit SOLO5_R_EINVAL; writes to
 *                them are consumed and dropped
 *   huge_len     a write of 0xffffffff bytes (more than MTU + 14) is dropped;
 *                short writes too
 *   bad_op       entries with unknown operations are consumed, no commit
 *   scribble     garbage in the host's own words (ent_head, com_tail,
 *                needs_kick): the host ignores it and restores them
 * Attacks that must end the tender with exit status 1 and a message (the
 * guest prints FAILURE and exits 3 if it is still running 10 s later):
 *   bad_tail     ent_tail more than HVT_RING_SIZE entries ahead
 *   tail_behind  ent_tail behind ent_head
 *   gpa_out      write from data just past the guest's memory (the ring)
 *   gpa_ring     read into the ring itself
 *   gpa_wrap     data + len wraps around 2^64
 *   read_huge    read of 0xffffffff bytes into a small buffer at the top
 *   com_overrun  more than HVT_RING_SIZE reads without consuming commits
 * Either outcome is fine:
 *   race         random entries and indices rewritten while the host runs
 *                (SURVIVED, exit 0, or the tender ends with status 1)
 */
#include "devices.h"

KIT_MANIFEST(1, KIT_MFT_NET("service0"));

#define SEC 1000000000ULL

static uint8_t buf[2048] __attribute__((aligned(64)));
static uint8_t scratch[65536];
static volatile struct hvt_ring *r;
static uint64_t h;
static uint64_t mtu;
static int failures;

static void fail(const char *what, int64_t v)
{
    kit_puts("FAILURE: ");
    kit_puts(what);
    kit_puts(" (");
    kit_put_dec(v);
    kit_println(")");
    failures++;
}

/* Set while the host's words hold our garbage: no flow control then (the
 * guest knows the ring is empty). */
static bool scribbled;

/* Posts a raw entry, skipping the kit's checks. */
static uint32_t post(uint32_t op, uint64_t handle, uint64_t data, uint32_t len, uint32_t id)
{
    while (!scribbled && r->ent_tail - r->ent_head >= HVT_RING_SIZE - 1)
        kit_cpu_relax();
    uint32_t index = r->ent_tail;
    volatile struct hvt_ring_entry *e = &r->entries[index & HVT_RING_MASK];
    e->operation = op;
    e->handle = (uint32_t)handle;
    e->data = (const void *)data;
    e->len = len;
    e->id = id;
    kit_ring_submit(r);
    return index;
}

/* Waits (bounded) until the host consumed entry `index`. */
static bool consumed(uint32_t index)
{
    uint64_t deadline = kit_monotonic_ns() + 5 * SEC;
    while (!kit_ring_consumed(index)) {
        if (kit_monotonic_ns() > deadline)
            return false;
        kit_cpu_relax();
    }
    return true;
}

/* A read from a bad handle: must commit EINVAL with our id, and the host's
 * com_tail must be exactly one past `expected_head`. */
static void expect_einval_read(uint32_t id)
{
    uint32_t head = r->com_head;
    post(HVT_RING_NET_READ, 0, (uint64_t)buf, sizeof buf, id);
    uint64_t deadline = kit_monotonic_ns() + 5 * SEC;
    while (r->com_tail != head + 1) {
        if (kit_monotonic_ns() > deadline) {
            fail("no commit for a read from a bad handle; com_tail", r->com_tail);
            return;
        }
        kit_cpu_relax();
    }
    kit_rmb();
    volatile struct hvt_ring_commit *c = &r->commits[head & HVT_RING_MASK];
    if (c->id != id)
        fail("commit id", c->id);
    if (c->ret != SOLO5_R_EINVAL)
        fail("commit ret", c->ret);
    r->com_head = head + 1;
}

/* For attacks that must end the tender: wait to be ended. */
static int await_end(void)
{
    kit_ring_kick();
    uint64_t deadline = kit_monotonic_ns() + 10 * SEC;
    while (kit_monotonic_ns() < deadline)
        kit_poll(SEC / 10, NULL);
    kit_println("FAILURE: the tender is still running");
    return 3;
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        kit_println("FAILURE: usage: ring_hostile ATTACK");
        return 1;
    }
    int64_t handle = dev_lookup("service0", MFT_DEV_NET_BASIC);
    r = kit_ring();
    if (handle < 0 || r == NULL) {
        kit_println("FAILURE: service0 not attached or no ring I/O offered");
        return 1;
    }
    h = (uint64_t)handle;
    mtu = kit_manifest_entry(h)->u.net_basic.mtu;
    uint64_t mem = kit_boot_info->mem_size;
    const char *attack = argv[1];
    kit_puts("mem_size ");
    kit_put_hex(mem);
    kit_puts(", net_ring ");
    kit_put_hex((uint64_t)kit_boot_info->net_ring);
    kit_puts(", attack: ");
    kit_println(attack);

    if (strcmp(attack, "bad_handle") == 0) {
        uint64_t bad[] = { 0, 2, 64, 0xffffffffULL };
        uint32_t last = 0;
        for (unsigned i = 0; i < 4; i++)
            last = post(HVT_RING_NET_WRITE, bad[i], (uint64_t)buf, 60, i);
        if (!consumed(last))
            fail("writes to bad handles not consumed", last);
        for (unsigned i = 0; i < 4; i++) {
            uint32_t head = r->com_head;
            post(HVT_RING_NET_READ, bad[i], (uint64_t)buf, sizeof buf, 100 + i);
            size_t len = 0;
            int ret = kit_ring_wait_commit(&len);
            if (ret != SOLO5_R_EINVAL || len != 0)
                fail("read from a bad handle", ret);
            if (r->commits[head & HVT_RING_MASK].id != 100 + i)
                fail("commit id", r->commits[head & HVT_RING_MASK].id);
        }
    } else if (strcmp(attack, "huge_len") == 0) {
        post(HVT_RING_NET_WRITE, h, (uint64_t)buf, 0xffffffffU, 1);
        post(HVT_RING_NET_WRITE, h, (uint64_t)buf, (uint32_t)(mtu + 15), 2);
        post(HVT_RING_NET_WRITE, h, (uint64_t)buf, 13, 3);
        uint32_t last = post(HVT_RING_NET_WRITE, h, (uint64_t)buf, 0, 4);
        if (!consumed(last))
            fail("oversized writes not consumed", last);
        expect_einval_read(5);
    } else if (strcmp(attack, "bad_op") == 0) {
        uint32_t ops[] = { 0, 3, 0x80000001U, 0xffffffffU };
        uint32_t tail_before = r->com_tail, last = 0;
        for (unsigned i = 0; i < 4; i++)
            last = post(ops[i], h, (uint64_t)buf, sizeof buf, i);
        if (!consumed(last))
            fail("unknown operations not consumed", last);
        if (r->com_tail != tail_before)
            fail("unknown operations committed", r->com_tail - tail_before);
        expect_einval_read(9);
    } else if (strcmp(attack, "scribble") == 0) {
        for (uint32_t i = 0; i < 50; i++) {
            r->ent_head = (uint32_t)next_random();
            r->com_tail = (uint32_t)next_random();
            r->needs_kick = (uint32_t)next_random();
            scribbled = true;
            kit_ring_kick(); /* we may have hidden the host's request */
            expect_einval_read(1000 + i);
            if (failures)
                break;
        }
    } else if (strcmp(attack, "bad_tail") == 0) {
        r->ent_tail = r->ent_head + HVT_RING_SIZE + 5;
        return await_end();
    } else if (strcmp(attack, "tail_behind") == 0) {
        r->ent_tail = r->ent_head - 1;
        return await_end();
    } else if (strcmp(attack, "gpa_out") == 0) {
        post(HVT_RING_NET_WRITE, h, mem, 60, 1);
        return await_end();
    } else if (strcmp(attack, "gpa_ring") == 0) {
        post(HVT_RING_NET_READ, h, (uint64_t)kit_boot_info->net_ring, (uint32_t)(mtu + 14), 1);
        return await_end();
    } else if (strcmp(attack, "gpa_wrap") == 0) {
        post(HVT_RING_NET_WRITE, h, 0xffffffffffffffc0ULL, 128, 1);
        return await_end();
    } else if (strcmp(attack, "read_huge") == 0) {
        post(HVT_RING_NET_READ, h, mem - 4096, 0xffffffffU, 1);
        return await_end();
    } else if (strcmp(attack, "com_overrun") == 0) {
        for (uint32_t i = 0; i < HVT_RING_SIZE + 8; i++)
            post(HVT_RING_NET_READ, 0, (uint64_t)buf, sizeof buf, i);
        return await_end();
    } else if (strcmp(attack, "race") == 0) {
        rng ^= kit_rdtsc() << 1; /* a different race each run */
        /* Random entries (mostly in range), indices moved and rewritten
         * while the host works on them. */
        for (uint32_t i = 0; i < 3000; i++) {
            uint64_t x = next_random();
            volatile struct hvt_ring_entry *e = &r->entries[(r->ent_tail + (x & 7)) & HVT_RING_MASK];
            e->operation = 1 + (uint32_t)((x >> 3) & 1);
            e->handle = (uint32_t)((x >> 4) & 3);
            /* Reads land in scratch (so the guest itself survives), writes
             * come from anywhere; now and then a range outside memory. */
            if (((x >> 56) & 63) == 0)
                e->data = (const void *)(mem - 16 + ((x >> 8) & 31));
            else if (e->operation == HVT_RING_NET_READ)
                e->data = (const void *)(scratch + ((x >> 8) % (sizeof scratch - 2048)));
            else
                e->data = (const void *)((x >> 8) % (mem - 4096));
            e->len = (uint32_t)((x >> 20) % 2048);
            e->id = i;
            uint32_t what = (uint32_t)((x >> 40) & 1023);
            if (what == 0)
                r->ent_tail = (uint32_t)(x >> 32);            /* wild */
            else if (what == 1)
                r->com_head = (uint32_t)(x >> 32);            /* wild */
            else if (what < 64)
                r->ent_tail = r->ent_tail + (uint32_t)((x >> 44) & 31);
            else if (what < 128)
                r->com_head = r->com_tail;                    /* consume all */
            else
                r->ent_tail = r->ent_tail + 1;
            if (((x >> 50) & 3) == 0)
                kit_ring_kick();
        }
        kit_println("SURVIVED");
        return 0;
    } else {
        fail("unknown attack", 0);
        return 1;
    }
    if (failures)
        return 1;
    kit_println("SUCCESS");
    return 0;
}
