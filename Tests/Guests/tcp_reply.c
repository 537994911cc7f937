/*
 * tcp_reply [IP [PORT [OPTION...]]]: a TCP server on network "service0" for
 * the launcher's tests (tender-activate). It answers ARP for IP (default
 * 10.0.0.2) and, on PORT (default 80), accepts every connection: after the
 * handshake it sends a short fixed HTTP reply and a FIN, acknowledges what
 * the client sends and its FIN. Other ports get a RST. It announces itself
 * with a gratuitous ARP when it starts, so a host waiting to resolve it
 * sends its queued SYN at once. Each connection it accepts (the handshake's
 * ACK arrived: what an application's accept() returns) is logged as
 * "tcp_reply: connection from A.B.C.D:PORT"; a handshake ended by a RST
 * before its ACK (a readiness probe) is not.
 *
 * Options: "crash" (below); "delay=MS": it starts as real unikernels do,
 * MS milliseconds of timers (the OCaml runtime, a network stack's address
 * configuration) before its network is up: until then nothing is read or
 * answered.
 *
 * The server keeps no per-connection state: its initial sequence number is
 * a hash of the connection's addresses and ports, and what to send follows
 * from the client's acknowledgement number (ISN + 1: the reply is not yet
 * acknowledged, so (re)send it with the FIN; anything else: just ACK).
 *
 * With "crash" it sends the first half of the reply, without FIN, and
 * aborts (exit status 255): a guest dying mid-connection.
 */
#include "devices.h"

KIT_MANIFEST(1, KIT_MFT_NET("service0"));

#define ETH_HLEN 14
#define SEC 1000000000ULL

static const char reply[] = "HTTP/1.0 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello\n";
#define REPLY_LEN (sizeof reply - 1)

static uint8_t ip_addr[4] = { 10, 0, 0, 2 };
static uint16_t port = 80;
static bool crash;
static int64_t delay_ms;
static uint64_t handle;
static uint8_t mac[6];
static uint64_t mtu;
static uint8_t frame[65536 + ETH_HLEN];
static uint8_t out[1600];

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
    for (; n > 1; p += 2, n -= 2)
        sum += get16(p);
    if (n)
        sum += (uint32_t)p[0] << 8;
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static bool parse_ip(const char *s, uint8_t ip[4])
{
    for (int i = 0; i < 4; i++) {
        unsigned v = 0, digits = 0;
        for (; *s >= '0' && *s <= '9' && digits < 4; s++, digits++)
            v = v * 10 + (unsigned)(*s - '0');
        if (digits == 0 || v > 255 || *s != (i < 3 ? '.' : '\0'))
            return false;
        ip[i] = (uint8_t)v;
        if (i < 3)
            s++;
    }
    return true;
}

static void send_frame(size_t len)
{
    if (len < 60) {
        memset(out + len, 0, 60 - len);
        len = 60;
    }
    if (kit_net_write(handle, out, len) != SOLO5_R_OK)
        kit_println("tcp_reply: write failed");
}

static void send_garp(void)
{
    memset(out, 0xff, 6);
    memcpy(out + 6, mac, 6);
    put16(out + 12, 0x0806);
    put16(out + 14, 1);
    put16(out + 16, 0x0800);
    out[18] = 6;
    out[19] = 4;
    put16(out + 20, 1);
    memcpy(out + 22, mac, 6);
    memcpy(out + 28, ip_addr, 4);
    memset(out + 32, 0, 6);
    memcpy(out + 38, ip_addr, 4);
    send_frame(42);
}

static void arp(const uint8_t *f, size_t len)
{
    if (len < ETH_HLEN + 28 || get16(f + 14) != 1 || get16(f + 16) != 0x0800 ||
        f[18] != 6 || f[19] != 4 || get16(f + 20) != 1 || memcmp(f + 38, ip_addr, 4))
        return;
    memcpy(out, f + 6, 6);
    memcpy(out + 6, mac, 6);
    put16(out + 12, 0x0806);
    memcpy(out + 14, f + 14, 6);
    put16(out + 20, 2);
    memcpy(out + 22, mac, 6);
    memcpy(out + 28, ip_addr, 4);
    memcpy(out + 32, f + 22, 10);
    send_frame(42);
}

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

/* Sends a TCP segment answering the frame `f` (addresses swapped). */
static void send_tcp(const uint8_t *f, uint32_t seq, uint32_t ack, uint8_t flags,
                     const void *data, size_t data_len)
{
    const uint8_t *ip = f + ETH_HLEN;
    const uint8_t *tcp = ip + (ip[0] & 15) * 4;
    uint8_t *oip = out + ETH_HLEN, *otcp = oip + 20;
    memcpy(out, f + 6, 6);
    memcpy(out + 6, mac, 6);
    put16(out + 12, 0x0800);
    size_t total = 20 + 20 + data_len;
    oip[0] = 0x45;
    oip[1] = 0;
    put16(oip + 2, (uint16_t)total);
    put16(oip + 4, 0);
    put16(oip + 6, 0x4000); /* DF */
    oip[8] = 64;
    oip[9] = 6;
    put16(oip + 10, 0);
    memcpy(oip + 12, ip_addr, 4);
    memcpy(oip + 16, ip + 12, 4);
    put16(oip + 10, fold(sum16(oip, 20, 0)));
    put16(otcp, get16(tcp + 2));
    put16(otcp + 2, get16(tcp));
    put32(otcp + 4, seq);
    put32(otcp + 8, ack);
    otcp[12] = 5 << 4;
    otcp[13] = flags;
    put16(otcp + 14, 65535);
    put16(otcp + 16, 0);
    put16(otcp + 18, 0);
    memcpy(otcp + 20, data, data_len);
    uint32_t sum = sum16(oip + 12, 8, 0) + 6 + (uint32_t)(20 + data_len);
    put16(otcp + 16, fold(sum16(otcp, 20 + data_len, sum)));
    send_frame(ETH_HLEN + total);
}

static uint32_t isn_for(const uint8_t *ip, const uint8_t *tcp)
{
    uint32_t h = 2166136261u;
    const uint8_t *parts[2] = { ip + 12, tcp };
    for (int p = 0; p < 2; p++)
        for (int i = 0; i < 4; i++)
            h = (h ^ parts[p][i]) * 16777619u;
    return h;
}

/* Logs a connection once, however often its handshake's ACK comes (the
 * server keeps no state: the last few clients are remembered for this). */
static void log_connection(const uint8_t *ip, const uint8_t *t)
{
    static uint8_t seen[16][6];
    static unsigned next;
    uint8_t client[6];
    memcpy(client, ip + 12, 4);
    memcpy(client + 4, t, 2);
    for (unsigned i = 0; i < 16; i++)
        if (memcmp(seen[i], client, 6) == 0)
            return;
    memcpy(seen[next++ % 16], client, 6);
    /* One write for the line: other tenders may share the console. */
    char line[64] = "tcp_reply: connection from ";
    size_t n = strlen(line);
    unsigned parts[5] = { client[0], client[1], client[2], client[3], get16(client + 4) };
    for (int i = 0; i < 5; i++) {
        char digits[8];
        int d = 0;
        do
            digits[d++] = (char)('0' + parts[i] % 10);
        while ((parts[i] /= 10) != 0);
        while (d > 0)
            line[n++] = digits[--d];
        line[n++] = i < 3 ? '.' : i == 3 ? ':' : '\n';
    }
    kit_write(line, n);
}

static void tcp(const uint8_t *f, size_t len)
{
    const uint8_t *ip = f + ETH_HLEN;
    if (len < ETH_HLEN + 40 || (ip[0] >> 4) != 4 || ip[9] != 6 || memcmp(ip + 16, ip_addr, 4))
        return;
    size_t ihl = (size_t)(ip[0] & 15) * 4, total = get16(ip + 2);
    if (ihl < 20 || total > len - ETH_HLEN || total < ihl + 20)
        return;
    const uint8_t *t = ip + ihl;
    size_t thl = (size_t)(t[12] >> 4) * 4;
    if (thl < 20 || ihl + thl > total)
        return;
    uint32_t seq = get32(t + 4), ack = get32(t + 8);
    uint8_t flags = t[13];
    uint32_t data_len = (uint32_t)(total - ihl - thl);
    if (flags & F_RST)
        return;
    if (get16(t + 2) != port) {
        if (!(flags & F_ACK))
            send_tcp(f, 0, seq + data_len + 1, F_RST | F_ACK, NULL, 0);
        else
            send_tcp(f, ack, 0, F_RST, NULL, 0);
        return;
    }
    uint32_t isn = isn_for(ip, t);
    if (flags & F_SYN) {
        send_tcp(f, isn, seq + 1, F_SYN | F_ACK, NULL, 0);
        return;
    }
    if (!(flags & F_ACK))
        return;
    uint32_t client_next = seq + data_len + ((flags & F_FIN) ? 1 : 0);
    if (ack == isn + 1) {
        log_connection(ip, t);
        /* The reply is not acknowledged yet: send it (again). */
        if (crash) {
            send_tcp(f, isn + 1, client_next, F_ACK | F_PSH, reply, REPLY_LEN / 2);
            kit_println("tcp_reply: crashing mid-connection");
            abort();
        }
        send_tcp(f, isn + 1, client_next, F_ACK | F_PSH | F_FIN, reply, REPLY_LEN);
    } else if (data_len || (flags & F_FIN)) {
        send_tcp(f, isn + 1 + REPLY_LEN + 1, client_next, F_ACK, NULL, 0);
    }
}

static bool has_prefix(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++)
        if (*s != *prefix)
            return false;
    return true;
}

int main(int argc, char **argv)
{
    int64_t p = port;
    bool usage = (argc > 1 && !parse_ip(argv[1], ip_addr)) ||
                 (argc > 2 && (!kit_parse_int(argv[2], &p) || p < 1 || p > 65535));
    for (int i = 3; i < argc && !usage; i++) {
        if (strcmp(argv[i], "crash") == 0)
            crash = true;
        else if (!has_prefix(argv[i], "delay=") || !kit_parse_int(argv[i] + 6, &delay_ms) || delay_ms < 0)
            usage = true;
    }
    if (usage) {
        kit_println("FAILURE: usage: tcp_reply [IP [PORT [crash] [delay=MS]]]");
        return 1;
    }
    port = (uint16_t)p;
    int64_t h = dev_lookup("service0", MFT_DEV_NET_BASIC);
    if (h < 0) {
        kit_println("FAILURE: not attached: service0");
        return 1;
    }
    handle = (uint64_t)h;
    const struct mft_entry *e = kit_manifest_entry(handle);
    memcpy(mac, e->u.net_basic.mac, 6);
    mtu = e->u.net_basic.mtu;
    if (mtu + ETH_HLEN > sizeof frame || mtu < 68) {
        kit_println("FAILURE: implausible MTU");
        return 1;
    }
    if (delay_ms > 0) {
        /* Timers only: the network is not looked at. */
        uint64_t until = kit_monotonic_ns() + (uint64_t)delay_ms * 1000000ULL;
        for (uint64_t t; (t = kit_monotonic_ns()) < until;) {
            uint64_t ignored;
            kit_poll(until - t < 10000000ULL ? until - t : 10000000ULL, &ignored);
        }
        kit_println("tcp_reply: network up");
    }
    send_garp();
    for (;;) {
        uint64_t ready = 0;
        kit_poll(SEC, &ready);
        if (!(ready & (1ULL << handle)))
            continue;
        for (;;) {
            size_t len = mtu + ETH_HLEN;
            int r = kit_net_read(handle, frame, &len);
            if (r == SOLO5_R_AGAIN)
                break;
            if (r != SOLO5_R_OK) {
                kit_println("FAILURE: read");
                return 1;
            }
            if (len < ETH_HLEN || (memcmp(frame, mac, 6) && memcmp(frame, "\xff\xff\xff\xff\xff\xff", 6)))
                continue;
            switch (get16(frame + 12)) {
            case 0x0806: arp(frame, len); break;
            case 0x0800: tcp(frame, len); break;
            }
        }
    }
}
