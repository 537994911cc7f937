/*
 * net_ping [nocheck] [COUNT [PATTERN]]: answers ARP and ICMP echo requests on network
 * "service0" as 10.0.0.2 (built as net_2if, also on "service1" as
 * 10.1.0.2). Once every interface answered COUNT echo requests it prints its
 * counts and SUCCESS; COUNT 0 (the default) serves until killed.
 *
 * Each echo request's ICMP checksum is verified, and so is its payload past
 * ping's 16-byte timestamp: PATTERN repeated (hex, as given to `ping -p`),
 * or by default ping's own fill (byte k = k). A request that fails either
 * check is not answered and counted as bad; bad requests make the run fail.
 *
 * Before serving it checks that malformed NET requests (bad handles, a frame
 * larger than MTU + 14 or shorter than 14, a receive buffer smaller than
 * MTU + 14) return SOLO5_R_EINVAL, unless the first argument is "nocheck"
 * (for tenders that leave those checks to the guest's bindings).
 *
 * Built as net_ring (RING defined), it moves every frame through the ring
 * (hvt_ring.h) and fails if the tender does not offer ring I/O. Frames are
 * received into a pool of buffers and each reply is sent from where it was
 * received (no copy); a buffer is reused once the host has consumed the
 * write that sends it. The checks of malformed requests become: bad writes
 * (dropped by the host, which has no way to report them) followed by reads
 * with a bad handle or a short buffer, which must commit SOLO5_R_EINVAL.
 */
#include "devices.h"

/* The first interface's name (urunc_net: "service", as urunc names it). */
#ifndef NET_NAME
#define NET_NAME "service0"
#endif

#ifdef TWO_INTERFACES
#define NIF 2
KIT_MANIFEST(2, KIT_MFT_NET(NET_NAME), KIT_MFT_NET("service1"));
#else
#define NIF 1
KIT_MANIFEST(1, KIT_MFT_NET(NET_NAME));
#endif

#define ETH_HLEN 14
#define MAX_FRAME (65535 + ETH_HLEN)
#define SEC 1000000000ULL
#define IDLE_LIMIT (30 * SEC)

struct netif {
    const char *name;
    uint8_t ip[4];
    uint64_t h;
    uint8_t mac[6];
    uint64_t mtu;
    uint64_t answered, arps, bad;
};

static struct netif ifs[NIF] = {
    { .name = NET_NAME, .ip = { 10, 0, 0, 2 } },
#ifdef TWO_INTERFACES
    { .name = "service1", .ip = { 10, 1, 0, 2 } },
#endif
};

static uint8_t frame[MAX_FRAME + 16] __attribute__((aligned(8)));

#ifdef RING
/* Receive buffers; pool_entry[i] is the ring entry that sends pool[i]. */
#define POOL 64
static uint8_t pool[POOL][HVT_RING_BUF_SIZE] __attribute__((aligned(64)));
static uint32_t pool_entry[POOL];
static bool pool_busy[POOL];
static unsigned pool_next;

static uint8_t *rx_buffer(void)
{
    while (pool_busy[pool_next] && !kit_ring_consumed(pool_entry[pool_next]))
        kit_cpu_relax();
    pool_busy[pool_next] = false;
    return pool[pool_next];
}

static int net_read(uint64_t h, uint8_t *buf, size_t *len) { return kit_ring_net_read(h, buf, len); }

/* Sends the frame in the current pool buffer, which is then in flight. */
static int net_reply(uint64_t h, uint8_t *buf, size_t len)
{
    pool_entry[pool_next] = kit_ring_net_write_nocopy(h, buf, len);
    pool_busy[pool_next] = true;
    pool_next = (pool_next + 1) % POOL;
    return SOLO5_R_OK;
}

static int net_send(uint64_t h, const uint8_t *buf, size_t len) { return kit_ring_net_write(h, buf, len); }
#else
static uint8_t *rx_buffer(void) { return frame; }
static int net_read(uint64_t h, uint8_t *buf, size_t *len) { return kit_net_read(h, buf, len); }
static int net_reply(uint64_t h, uint8_t *buf, size_t len) { return kit_net_write(h, buf, len); }
static int net_send(uint64_t h, const uint8_t *buf, size_t len) { return kit_net_write(h, buf, len); }
#endif
static uint8_t pattern[16];
static size_t pattern_len;
static int failures;

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

/* The Internet checksum's one's complement sum (not yet inverted). */
static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
    for (; n > 1; p += 2, n -= 2)
        sum += get16(p);
    if (n)
        sum += (uint32_t)p[0] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return sum;
}

static void put_mac(const uint8_t *mac)
{
    for (int i = 0; i < 6; i++) {
        kit_putc("0123456789abcdef"[mac[i] >> 4]);
        kit_putc("0123456789abcdef"[mac[i] & 15]);
        if (i < 5)
            kit_putc(':');
    }
}

static void expect(const char *what, int got, int want)
{
    if (got != want) {
        kit_puts("FAILURE: ");
        kit_puts(what);
        kit_puts(" returned ");
        kit_put_dec(got);
        kit_println("");
        failures++;
    }
}

static void check_invalid(struct netif *n)
{
    size_t len;
#ifdef RING
    uint64_t bad_handles[] = { 0, NIF + 1, 64, ~0ULL };
    kit_ring_net_write_nocopy(n->h, frame, n->mtu + ETH_HLEN + 1);
    kit_ring_net_write_nocopy(n->h, frame, ETH_HLEN - 1);
    for (unsigned i = 0; i < sizeof bad_handles / sizeof bad_handles[0]; i++)
        kit_ring_net_write_nocopy(bad_handles[i], frame, 60);
    len = n->mtu + ETH_HLEN - 1;
    expect("ring read into MTU + 13 bytes", net_read(n->h, frame, &len), SOLO5_R_EINVAL);
    for (unsigned i = 0; i < sizeof bad_handles / sizeof bad_handles[0]; i++) {
        len = MAX_FRAME;
        expect("ring read from a bad handle", net_read(bad_handles[i], frame, &len), SOLO5_R_EINVAL);
    }
#endif
    expect("write of MTU + 15 bytes", kit_net_write(n->h, frame, n->mtu + ETH_HLEN + 1), SOLO5_R_EINVAL);
    expect("write of 13 bytes", kit_net_write(n->h, frame, ETH_HLEN - 1), SOLO5_R_EINVAL);
    len = n->mtu + ETH_HLEN - 1;
    expect("read into MTU + 13 bytes", kit_net_read(n->h, frame, &len), SOLO5_R_EINVAL);
    uint64_t bad[] = { 0, NIF + 1, 64, ~0ULL };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        expect("write to a bad handle", kit_net_write(bad[i], frame, 60), SOLO5_R_EINVAL);
        len = MAX_FRAME;
        expect("read from a bad handle", kit_net_read(bad[i], frame, &len), SOLO5_R_EINVAL);
    }
}

static void send_garp(struct netif *n)
{
    uint8_t *f = frame;
    memset(f, 0, 60);
    memset(f, 0xff, 6);
    memcpy(f + 6, n->mac, 6);
    put16(f + 12, 0x0806);
    put16(f + 14, 1);      /* Ethernet */
    put16(f + 16, 0x0800); /* IPv4 */
    f[18] = 6;
    f[19] = 4;
    put16(f + 20, 1);      /* request */
    memcpy(f + 22, n->mac, 6);
    memcpy(f + 28, n->ip, 4);
    memcpy(f + 38, n->ip, 4);
    expect("gratuitous ARP", net_send(n->h, f, 60), SOLO5_R_OK);
}

/* ARP request for our address: turn it into the reply. */
static bool arp(struct netif *n, uint8_t *f, size_t len)
{
    if (len < ETH_HLEN + 28 || get16(f + 14) != 1 || get16(f + 16) != 0x0800 ||
        f[18] != 6 || f[19] != 4 || get16(f + 20) != 1 || memcmp(f + 38, n->ip, 4))
        return false;
    memcpy(f, f + 6, 6);
    memcpy(f + 6, n->mac, 6);
    put16(f + 20, 2);
    memcpy(f + 32, f + 22, 10); /* sender MAC + IP become the target's */
    memcpy(f + 22, n->mac, 6);
    memcpy(f + 28, n->ip, 4);
    n->arps++;
    return true;
}

/* ICMP echo request to our address: check it, turn it into the reply. */
static bool echo(struct netif *n, uint8_t *f, size_t len)
{
    uint8_t *ip = f + ETH_HLEN;
    if (len < ETH_HLEN + 28 || ip[0] != 0x45 || ip[9] != 1 || memcmp(ip + 16, n->ip, 4) ||
        (get16(ip + 6) & 0x3fff) != 0)
        return false;
    size_t total = get16(ip + 2);
    if (total < 28 || ETH_HLEN + total > len)
        return false;
    uint8_t *icmp = ip + 20;
    size_t icmp_len = total - 20;
    if (icmp[0] != 8 || icmp[1] != 0)
        return false;

    bool good = sum16(icmp, icmp_len, 0) == 0xffff;
    const uint8_t *data = icmp + 8;
    size_t data_len = icmp_len - 8;
    size_t k = data_len >= 16 ? 16 : 0;
    if (pattern_len) {
        for (size_t p = k % pattern_len; good && k < data_len; k++) {
            good = data[k] == pattern[p];
            if (++p == pattern_len)
                p = 0;
        }
    } else {
        for (; good && k < data_len; k++)
            good = data[k] == (uint8_t)k;
    }
    if (!good) {
        n->bad++;
        return false;
    }

    memcpy(f, f + 6, 6);
    memcpy(f + 6, n->mac, 6);
    uint8_t tmp[4];
    memcpy(tmp, ip + 12, 4); /* swapping the addresses keeps the IP checksum */
    memcpy(ip + 12, ip + 16, 4);
    memcpy(ip + 16, tmp, 4);
    /* Type 8 -> 0: update the checksum incrementally (RFC 1624). */
    icmp[0] = 0;
    uint32_t sum = (uint32_t)(uint16_t)~get16(icmp + 2) + 0xf7ff;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    put16(icmp + 2, (uint16_t)~sum);
    n->answered++;
    return true;
}

/* Handles every frame waiting on `n`; returns how many there were. */
static unsigned drain(struct netif *n)
{
    unsigned frames = 0;
    for (;;) {
        size_t len = n->mtu + ETH_HLEN;
        uint8_t *frame = rx_buffer();
        int r = net_read(n->h, frame, &len);
        if (r == SOLO5_R_AGAIN)
            return frames;
        if (r != SOLO5_R_OK || len > n->mtu + ETH_HLEN) {
            expect("read", r, SOLO5_R_OK);
            return frames;
        }
        frames++;
        if (len < ETH_HLEN || (memcmp(frame, n->mac, 6) && memcmp(frame, "\xff\xff\xff\xff\xff\xff", 6)))
            continue;
        bool reply = false;
        switch (get16(frame + 12)) {
        case 0x0806: reply = arp(n, frame, len); break;
        case 0x0800: reply = echo(n, frame, len); break;
        }
        if (reply && net_reply(n->h, frame, len) != SOLO5_R_OK) {
            expect("write", SOLO5_R_EUNSPEC, SOLO5_R_OK);
            return frames;
        }
    }
}

static bool parse_pattern(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n % 2 || n / 2 > sizeof pattern)
        return false;
    for (size_t i = 0; i < n; i += 2) {
        char byte[5] = { '0', 'x', s[i], s[i + 1], 0 };
        int64_t v;
        if (!kit_parse_int(byte, &v))
            return false;
        pattern[pattern_len++] = (uint8_t)v;
    }
    return true;
}

int main(int argc, char **argv)
{
    int64_t count = 0;
    bool check = true;
    if (argc > 1 && strcmp(argv[1], "nocheck") == 0) {
        check = false;
        argc--;
        argv++;
    }
    if ((argc > 1 && (!kit_parse_int(argv[1], &count) || count < 0)) ||
        (argc > 2 && !parse_pattern(argv[2]))) {
        kit_println("FAILURE: usage: net_ping [nocheck] [COUNT [PATTERN]]");
        return 1;
    }
#ifdef RING
    if (kit_ring() == NULL) {
        kit_println("FAILURE: the tender does not offer ring I/O");
        return 1;
    }
#endif
    for (int i = 0; i < NIF; i++) {
        struct netif *n = &ifs[i];
        int64_t h = dev_lookup(n->name, MFT_DEV_NET_BASIC);
        if (h < 0) {
            kit_puts("FAILURE: not attached: ");
            kit_println(n->name);
            return 1;
        }
        const struct mft_entry *e = kit_manifest_entry(h);
        n->h = (uint64_t)h;
        memcpy(n->mac, e->u.net_basic.mac, 6);
        n->mtu = e->u.net_basic.mtu;
        if (n->mtu + ETH_HLEN > MAX_FRAME || n->mtu < 68) {
            kit_println("FAILURE: implausible MTU");
            return 1;
        }
#ifdef RING
        if (n->mtu + ETH_HLEN > HVT_RING_BUF_SIZE) {
            kit_println("FAILURE: MTU too large for the ring's buffers");
            return 1;
        }
#endif
        kit_puts("[");
        kit_puts(n->name);
        kit_puts("] serving ping on ");
        for (int k = 0; k < 4; k++) {
            kit_put_udec(n->ip[k]);
            if (k < 3)
                kit_putc('.');
        }
        kit_puts(", MAC ");
        put_mac(n->mac);
        kit_puts(", MTU ");
        kit_put_udec(n->mtu);
#ifdef RING
        kit_puts(", ring I/O");
#endif
        kit_println("");
        if (check)
            check_invalid(n);
        send_garp(n);
    }
    if (failures)
        return 1;

    uint64_t last_frame = kit_monotonic_ns();
    for (;;) {
        uint64_t ready = 0;
        kit_poll(SEC, &ready);
        bool done = count > 0;
        for (int i = 0; i < NIF; i++) {
            if (ready & (1ULL << ifs[i].h)) {
                if (drain(&ifs[i]))
                    last_frame = kit_monotonic_ns();
            }
            if (ifs[i].answered < (uint64_t)count)
                done = false;
        }
        if (failures)
            return 1;
        if (done)
            break;
        if (kit_monotonic_ns() - last_frame > IDLE_LIMIT) {
            kit_println("FAILURE: no frames for 30 s");
            break;
        }
    }

    uint64_t bad = 0;
    for (int i = 0; i < NIF; i++) {
        kit_puts("[");
        kit_puts(ifs[i].name);
        kit_puts("] answered ");
        kit_put_udec(ifs[i].answered);
        kit_puts(" echo requests, ");
        kit_put_udec(ifs[i].arps);
        kit_puts(" ARP requests, ");
        kit_put_udec(ifs[i].bad);
        kit_println(" bad");
        bad += ifs[i].bad;
    }
    if (bad) {
        kit_println("FAILURE: bad echo requests");
        return 1;
    }
    kit_println("SUCCESS");
    return 0;
}
