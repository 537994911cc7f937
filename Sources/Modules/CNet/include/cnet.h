/*
 * cnet.h: what the net module needs from C. TAP devices and interface
 * queries: struct ifreq is a union of unions; these helpers fill in one
 * named request, run the ioctl and hand back the one field the caller
 * wants. `name` is NUL-terminated and shorter than IFNAMSIZ (the caller
 * checks). And the ring thread's spin hint and CPU count.
 */
#ifndef CNET_H
#define CNET_H

#include <net/if.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <linux/ethtool.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>

static inline void cnet_ifreq_init(struct ifreq *ifr, const char *name)
{
    memset(ifr, 0, sizeof *ifr);
    if (name != NULL)
        strncpy(ifr->ifr_name, name, IFNAMSIZ - 1);
}

/* TUNSETIFF: attaches tun/tap descriptor `fd` to interface `name` with
 * `flags`; the name the kernel attached is copied to `attached`
 * (IFNAMSIZ bytes). */
static inline int cnet_tun_set_iff(int fd, const char *name, short flags, char *attached)
{
    struct ifreq ifr;
    cnet_ifreq_init(&ifr, name);
    ifr.ifr_flags = flags;
    if (ioctl(fd, TUNSETIFF, &ifr) == -1)
        return -1;
    memcpy(attached, ifr.ifr_name, IFNAMSIZ);
    return 0;
}

/* TUNGETIFF: the interface name (IFNAMSIZ bytes) of tun/tap descriptor `fd`. */
static inline int cnet_tun_get_iff(int fd, char *name)
{
    struct ifreq ifr;
    cnet_ifreq_init(&ifr, NULL);
    if (ioctl(fd, TUNGETIFF, &ifr) == -1)
        return -1;
    memcpy(name, ifr.ifr_name, IFNAMSIZ);
    return 0;
}

/* SIOCGIFFLAGS on socket `sock`. */
static inline int cnet_if_flags(int sock, const char *name, short *flags)
{
    struct ifreq ifr;
    cnet_ifreq_init(&ifr, name);
    if (ioctl(sock, SIOCGIFFLAGS, &ifr) == -1)
        return -1;
    *flags = ifr.ifr_flags;
    return 0;
}

/* SIOCGIFMTU on socket `sock`. */
static inline int cnet_if_mtu(int sock, const char *name, int *mtu)
{
    struct ifreq ifr;
    cnet_ifreq_init(&ifr, name);
    if (ioctl(sock, SIOCGIFMTU, &ifr) == -1)
        return -1;
    *mtu = ifr.ifr_mtu;
    return 0;
}

/* SIOCETHTOOL with a struct ethtool_value (e.g. ETHTOOL_SGRO, 0). */
static inline int cnet_if_ethtool_set(int sock, const char *name, uint32_t cmd, uint32_t value)
{
    struct ethtool_value eval;
    struct ifreq ifr;
    memset(&eval, 0, sizeof eval);
    eval.cmd = cmd;
    eval.data = value;
    cnet_ifreq_init(&ifr, name);
    ifr.ifr_data = (void *)&eval;
    return ioctl(sock, SIOCETHTOOL, &ifr);
}

/* Spin-wait hint. */
static inline void cnet_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* CPUs this process may run on: its affinity mask (which taskset and
 * cpusets narrow), not merely those online. 1 if it cannot be read. */
int cnet_usable_cpus(void);

#endif
