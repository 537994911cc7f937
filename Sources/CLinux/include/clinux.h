/*
 * clinux.h: the Linux interfaces Swift's Glibc module does not give us:
 * KVM, epoll and timerfd declarations, ioctl request numbers (function-like
 * macros) and ioctl itself (variadic).
 */
#ifndef CLINUX_H
#define CLINUX_H

#include <linux/kvm.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>

static const unsigned long CKVM_GET_API_VERSION = KVM_GET_API_VERSION;
static const unsigned long CKVM_CREATE_VM = KVM_CREATE_VM;
static const unsigned long CKVM_CHECK_EXTENSION = KVM_CHECK_EXTENSION;
static const unsigned long CKVM_GET_VCPU_MMAP_SIZE = KVM_GET_VCPU_MMAP_SIZE;
static const unsigned long CKVM_GET_SUPPORTED_CPUID = KVM_GET_SUPPORTED_CPUID;
static const unsigned long CKVM_CREATE_VCPU = KVM_CREATE_VCPU;
static const unsigned long CKVM_SET_USER_MEMORY_REGION = KVM_SET_USER_MEMORY_REGION;
static const unsigned long CKVM_IOEVENTFD = KVM_IOEVENTFD;
static const uint32_t CKVM_IOEVENTFD_FLAG_PIO = KVM_IOEVENTFD_FLAG_PIO;
static const unsigned long CKVM_SET_CPUID2 = KVM_SET_CPUID2;
static const unsigned long CKVM_GET_SREGS = KVM_GET_SREGS;
static const unsigned long CKVM_SET_SREGS = KVM_SET_SREGS;
static const unsigned long CKVM_GET_REGS = KVM_GET_REGS;
static const unsigned long CKVM_SET_REGS = KVM_SET_REGS;
static const unsigned long CKVM_SET_FPU = KVM_SET_FPU;
static const unsigned long CKVM_GET_TSC_KHZ = KVM_GET_TSC_KHZ;
static const unsigned long CKVM_RUN = KVM_RUN;
/* solo5-hvt-debug */
static const unsigned long CKVM_SET_GUEST_DEBUG = KVM_SET_GUEST_DEBUG;

/* ioctl with a pointer argument (or none). */
static inline int ckvm_ioctl(int fd, unsigned long request, void *arg)
{
    return ioctl(fd, request, arg);
}

/* ioctl with an integer argument. */
static inline int ckvm_ioctl_value(int fd, unsigned long request, unsigned long value)
{
    return ioctl(fd, request, value);
}


/*
 * TAP devices and interface queries for the net module. struct ifreq is a
 * union of unions; these helpers fill in one named request, run the ioctl
 * and hand back the one field the caller wants. `name` is NUL-terminated and
 * shorter than IFNAMSIZ (the caller checks).
 */
#include <net/if.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <linux/ethtool.h>
#include <stdint.h>
#include <string.h>

static const unsigned long CTUNSETIFF = TUNSETIFF;
static const unsigned long CTUNGETIFF = TUNGETIFF;

static inline void clinux_ifreq_init(struct ifreq *ifr, const char *name)
{
    memset(ifr, 0, sizeof *ifr);
    if (name != NULL)
        strncpy(ifr->ifr_name, name, IFNAMSIZ - 1);
}

/* TUNSETIFF: attaches tun/tap descriptor `fd` to interface `name` with
 * `flags`; the name the kernel attached is copied to `attached`
 * (IFNAMSIZ bytes). */
static inline int clinux_tun_set_iff(int fd, const char *name, short flags, char *attached)
{
    struct ifreq ifr;
    clinux_ifreq_init(&ifr, name);
    ifr.ifr_flags = flags;
    if (ioctl(fd, TUNSETIFF, &ifr) == -1)
        return -1;
    memcpy(attached, ifr.ifr_name, IFNAMSIZ);
    return 0;
}

/* TUNGETIFF: the interface name (IFNAMSIZ bytes) of tun/tap descriptor `fd`. */
static inline int clinux_tun_get_iff(int fd, char *name)
{
    struct ifreq ifr;
    clinux_ifreq_init(&ifr, NULL);
    if (ioctl(fd, TUNGETIFF, &ifr) == -1)
        return -1;
    memcpy(name, ifr.ifr_name, IFNAMSIZ);
    return 0;
}

/* SIOCGIFFLAGS on socket `sock`. */
static inline int clinux_if_flags(int sock, const char *name, short *flags)
{
    struct ifreq ifr;
    clinux_ifreq_init(&ifr, name);
    if (ioctl(sock, SIOCGIFFLAGS, &ifr) == -1)
        return -1;
    *flags = ifr.ifr_flags;
    return 0;
}

/* SIOCGIFMTU on socket `sock`. */
static inline int clinux_if_mtu(int sock, const char *name, int *mtu)
{
    struct ifreq ifr;
    clinux_ifreq_init(&ifr, name);
    if (ioctl(sock, SIOCGIFMTU, &ifr) == -1)
        return -1;
    *mtu = ifr.ifr_mtu;
    return 0;
}

/* SIOCETHTOOL with a struct ethtool_value (e.g. ETHTOOL_SGRO, 0). */
static inline int clinux_if_ethtool_set(int sock, const char *name, uint32_t cmd, uint32_t value)
{
    struct ethtool_value eval;
    struct ifreq ifr;
    memset(&eval, 0, sizeof eval);
    eval.cmd = cmd;
    eval.data = value;
    clinux_ifreq_init(&ifr, name);
    ifr.ifr_data = (void *)&eval;
    return ioctl(sock, SIOCETHTOOL, &ifr);
}

/*
 * Atomic accesses to 32-bit words of guest memory shared with a running
 * guest (the net ring). Only GuestMemory calls these, with addresses it
 * checked; the guest may write the same words at any time.
 */
static inline uint32_t clinux_load_acquire32(const void *p)
{
    return __atomic_load_n((const uint32_t *)p, __ATOMIC_ACQUIRE);
}

static inline uint32_t clinux_load_relaxed32(const void *p)
{
    return __atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED);
}

static inline uint64_t clinux_load_relaxed64(const void *p)
{
    return __atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED);
}

static inline void clinux_store_release32(void *p, uint32_t v)
{
    __atomic_store_n((uint32_t *)p, v, __ATOMIC_RELEASE);
}

static inline void clinux_store_relaxed32(void *p, uint32_t v)
{
    __atomic_store_n((uint32_t *)p, v, __ATOMIC_RELAXED);
}

/* Full barrier (mfence on x86): orders a store before a later load. */
static inline void clinux_fence(void)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* Spin-wait hint. */
static inline void clinux_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* A flag shared between the tender's own threads. */
static inline uint32_t clinux_flag_get(const uint32_t *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void clinux_flag_set(uint32_t *p, uint32_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* CPUs this process may run on: its affinity mask (which taskset and
 * cpusets narrow), not merely those online. 1 if it cannot be read. */
int clinux_usable_cpus(void);

#endif
