/*
 * ring.c: the guest side of ring I/O (hvt_ring.h) for test guests. An
 * archive member: only guests that use the ring link it (and its 2 MiB of
 * per-slot buffers).
 */
#define KIT_INTERNAL
#include "kit.h"

static uint8_t slot_bufs[HVT_RING_SIZE][HVT_RING_BUF_SIZE] __attribute__((aligned(64)));
static uint32_t next_id;

volatile struct hvt_ring *kit_ring(void)
{
    const struct hvt_boot_info *bi = kit_boot_info;
    if (!(bi->host_features & HVT_FEATURE_RING_IO) || bi->net_ring == 0)
        return NULL;
    return (volatile struct hvt_ring *)bi->net_ring;
}

void kit_ring_submit(volatile struct hvt_ring *r)
{
    kit_wmb();                 /* the entry before the index */
    r->ent_tail = r->ent_tail + 1;
    kit_mb();                  /* the index before we look at needs_kick */
    if (r->needs_kick)
        kit_ring_kick();
}

uint32_t kit_ring_post(uint32_t operation, uint64_t handle, const void *data, uint32_t len)
{
    volatile struct hvt_ring *r = kit_ring();
    while (r->ent_tail - r->ent_head >= HVT_RING_SIZE - 1)
        kit_cpu_relax();
    uint32_t index = r->ent_tail;
    volatile struct hvt_ring_entry *e = &r->entries[index & HVT_RING_MASK];
    e->operation = operation;
    e->handle = (uint32_t)handle;
    e->data = (const void *)data;
    e->len = len;
    e->id = next_id++;
    kit_ring_submit(r);
    return index;
}

int kit_ring_wait_commit(size_t *len)
{
    volatile struct hvt_ring *r = kit_ring();
    uint32_t head = r->com_head;
    while (r->com_tail == head)
        kit_cpu_relax();
    kit_rmb();
    volatile struct hvt_ring_commit *c = &r->commits[head & HVT_RING_MASK];
    int ret = c->ret;
    if (len)
        *len = c->len;
    r->com_head = head + 1;
    return ret;
}

int kit_ring_net_write(uint64_t handle, const void *buf, size_t len)
{
    volatile struct hvt_ring *r = kit_ring();
    if (len > HVT_RING_BUF_SIZE)
        return kit_net_write(handle, buf, len);
    while (r->ent_tail - r->ent_head >= HVT_RING_SIZE - 1)
        kit_cpu_relax();
    uint8_t *slot = slot_bufs[r->ent_tail & HVT_RING_MASK];
    memcpy(slot, buf, len);
    kit_ring_post(HVT_RING_NET_WRITE, handle, slot, (uint32_t)len);
    return SOLO5_R_OK;
}

uint32_t kit_ring_net_write_nocopy(uint64_t handle, const void *buf, size_t len)
{
    return kit_ring_post(HVT_RING_NET_WRITE, handle, buf, (uint32_t)len);
}

bool kit_ring_consumed(uint32_t index)
{
    return (int32_t)(kit_ring()->ent_head - index) > 0;
}

int kit_ring_net_read(uint64_t handle, void *buf, size_t *len)
{
    kit_ring_post(HVT_RING_NET_READ, handle, buf, (uint32_t)*len);
    return kit_ring_wait_commit(len);
}
