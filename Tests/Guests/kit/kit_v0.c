/*
 * kit_v0.c: the kit's ABI-dependent calls for guests built the pre-0.6 way
 * (KIT_ABI_VERSION 0, hvt_abi_v0.h): no notes, the boot info at 0x5000, one
 * block and one net device addressed without handles, hypercalls 1-10.
 *
 * The guests themselves are the same as for the later ABIs: kit_v0_boot
 * turns the old boot info into the kit's usual one, with a manifest built
 * from the guest's own KIT_MANIFEST declaration (linked into .rodata, not a
 * note) and what BLKINFO and NETINFO report; the device calls map handles,
 * offsets and results onto the old calls.
 */
#define KIT_INTERNAL
#include "kit.h"
#include "hvt_abi_v0.h"

extern const unsigned char kit_mft_note[];

static struct hvt_boot_info info;
static union {
    struct mft m;
    unsigned char bytes[sizeof(struct mft) + MFT_MAX_ENTRIES * sizeof(struct mft_entry)];
} manifest;
/* POLL reports a count: the ready set is the net device's bit when it is not zero. */
static uint64_t net_ready_set;

const struct hvt_boot_info *kit_v0_boot(const void *boot)
{
    const struct hvt_v0_boot_info *bi = boot;
    info.mem_size = bi->mem_size;
    info.kernel_end = bi->kernel_end;
    info.cpu_cycle_freq = bi->tsc_freq;
    info.cmdline = bi->cmdline;

    const struct mft *declared =
        (const void *)(kit_mft_note + sizeof(struct solo5_nhdr) + MFT1_NOTE_DESC_PAD);
    memcpy(manifest.bytes, declared, sizeof(struct mft) + declared->entries * sizeof(struct mft_entry));
    struct mft_entry *e = (struct mft_entry *)(&manifest.m + 1);
    bool block = false, net = false;
    for (unsigned i = 1; i < manifest.m.entries; i++) {
        if (e[i].type == MFT_DEV_BLOCK_BASIC && !block) {
            volatile struct hvt_v0_hc_blkinfo b = { 0 };
            kit_hypercall(HVT_V0_HYPERCALL_BLKINFO, &b);
            e[i].u.block_basic.capacity = b.num_sectors * b.sector_size;
            e[i].u.block_basic.block_size = (uint16_t)b.sector_size;
            e[i].attached = block = true;
        } else if (e[i].type == MFT_DEV_NET_BASIC && !net) {
            volatile struct hvt_v0_hc_netinfo n = { 0 };
            kit_hypercall(HVT_V0_HYPERCALL_NETINFO, &n);
            for (int j = 0; j < 6; j++)
                e[i].u.net_basic.mac[j] = n.mac_address[j];
            e[i].u.net_basic.mtu = 1500;
            e[i].attached = net = true;
            net_ready_set = 1ULL << i;
        }
    }
    info.mft = &manifest.m;
    return &info;
}

/* ---- poll, exit ---- */

int kit_poll(uint64_t timeout_ns, uint64_t *ready_set)
{
    volatile struct hvt_v0_hc_poll p = { .timeout_nsecs = timeout_ns };
    kit_hypercall(HVT_V0_HYPERCALL_POLL, &p);
    if (ready_set)
        *ready_set = p.ret > 0 ? net_ready_set : 0;
    return p.ret;
}

void kit_halt(int status, void *cookie)
{
    volatile struct hvt_hc_halt h = { .cookie = cookie, .exit_status = status };
    kit_hypercall(HVT_V0_HYPERCALL_HALT, &h);
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* ---- devices ---- */

/* The attached device `handle` names, if it is of `type`. Block requests
 * are checked here as Solo5 0.4's bindings did (whole blocks from a block
 * boundary; the tender refuses what passes the end). */
static const struct mft_entry *device(uint64_t handle, mft_type_t type)
{
    if (handle == 0 || handle >= manifest.m.entries)
        return NULL;
    const struct mft_entry *e = kit_manifest_entry((unsigned)handle);
    return e->type == type && e->attached ? e : NULL;
}

static bool whole_blocks(const struct mft_entry *e, uint64_t offset, size_t len)
{
    uint64_t bs = e->u.block_basic.block_size;
    return offset % bs == 0 && len != 0 && len % bs == 0;
}

int kit_block_write(uint64_t handle, uint64_t offset, const void *buf, size_t len)
{
    const struct mft_entry *e = device(handle, MFT_DEV_BLOCK_BASIC);
    if (e == NULL || !whole_blocks(e, offset, len))
        return SOLO5_R_EINVAL;
    volatile struct hvt_v0_hc_blkwrite w = {
        .sector = offset / e->u.block_basic.block_size, .data = buf, .len = len, .ret = -1
    };
    kit_hypercall(HVT_V0_HYPERCALL_BLKWRITE, &w);
    return w.ret == 0 ? SOLO5_R_OK : SOLO5_R_EINVAL;
}

int kit_block_read(uint64_t handle, uint64_t offset, void *buf, size_t len)
{
    const struct mft_entry *e = device(handle, MFT_DEV_BLOCK_BASIC);
    if (e == NULL || !whole_blocks(e, offset, len))
        return SOLO5_R_EINVAL;
    volatile struct hvt_v0_hc_blkread r = {
        .sector = offset / e->u.block_basic.block_size, .data = buf, .len = len, .ret = -1
    };
    kit_hypercall(HVT_V0_HYPERCALL_BLKREAD, &r);
    return r.ret == 0 ? SOLO5_R_OK : SOLO5_R_EINVAL;
}

int kit_net_write(uint64_t handle, const void *buf, size_t len)
{
    if (device(handle, MFT_DEV_NET_BASIC) == NULL)
        return SOLO5_R_EINVAL;
    volatile struct hvt_v0_hc_netwrite w = { .data = buf, .len = len, .ret = -1 };
    kit_hypercall(HVT_V0_HYPERCALL_NETWRITE, &w);
    return w.ret == 0 ? SOLO5_R_OK : SOLO5_R_EINVAL;
}

int kit_net_read(uint64_t handle, void *buf, size_t *len)
{
    const struct mft_entry *e = device(handle, MFT_DEV_NET_BASIC);
    /* The old call has one failure (-1, nothing waiting): a buffer too
     * small for a frame is refused here. */
    if (e == NULL || *len < (size_t)e->u.net_basic.mtu + 14)
        return SOLO5_R_EINVAL;
    volatile struct hvt_v0_hc_netread r = { .data = buf, .len = *len, .ret = -1 };
    kit_hypercall(HVT_V0_HYPERCALL_NETREAD, &r);
    if (r.ret != 0)
        return SOLO5_R_AGAIN;
    *len = r.len;
    return SOLO5_R_OK;
}
