#define _GNU_SOURCE
#include "cactivate.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;


/* Opens /dev/net/tun attached to TAP `name` (created if missing, a
 * pattern with %d picks a free name); the name it got goes into `got`. */
static int tap_open(const char *name, char got[IFNAMSIZ])
{
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int saved = errno;
        close(fd);
        return -saved;
    }
    memcpy(got, ifr.ifr_name, IFNAMSIZ);
    got[IFNAMSIZ - 1] = 0;
    return fd;
}

int act_tap_create(const char *pattern, char name[16])
{
    return tap_open(pattern, name);
}

/* A socket for interface ioctls, and `ifr` naming `name`. */
static int if_socket(const char *name, struct ifreq *ifr)
{
    memset(ifr, 0, sizeof *ifr);
    strncpy(ifr->ifr_name, name, IFNAMSIZ - 1);
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    return s < 0 ? -errno : s;
}

int act_if_up(const char *name, uint32_t addr, int prefix)
{
    struct ifreq ifr;
    int s = if_socket(name, &ifr);
    if (s < 0)
        return s;
    struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = addr;
    int r = ioctl(s, SIOCSIFADDR, &ifr);
    if (r == 0) {
        sin->sin_addr.s_addr = prefix ? htonl(~0u << (32 - prefix)) : 0;
        r = ioctl(s, SIOCSIFNETMASK, &ifr);
    }
    if (r == 0)
        r = ioctl(s, SIOCGIFFLAGS, &ifr);
    if (r == 0) {
        ifr.ifr_flags |= IFF_UP;
        r = ioctl(s, SIOCSIFFLAGS, &ifr);
    }
    int saved = errno;
    close(s);
    return r < 0 ? -saved : 0;
}

int act_neigh_add(const char *device, uint32_t addr, const uint8_t mac[6])
{
    struct arpreq req;
    memset(&req, 0, sizeof req);
    struct sockaddr_in *sin = (struct sockaddr_in *)&req.arp_pa;
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = addr;
    req.arp_ha.sa_family = ARPHRD_ETHER;
    memcpy(req.arp_ha.sa_data, mac, 6);
    req.arp_flags = ATF_PERM | ATF_COM;
    strncpy(req.arp_dev, device, sizeof req.arp_dev - 1);
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -errno;
    int r = ioctl(s, SIOCSARP, &req);
    int saved = errno;
    close(s);
    return r < 0 ? -saved : 0;
}

/* dup2 that also gives a descriptor already at `to` to the child (dup2 of
 * a descriptor onto itself would leave its close-on-exec flag set). */
static int give(int fd, int to)
{
    if (fd == to)
        return fcntl(fd, F_SETFD, 0);
    return dup2(fd, to) < 0 ? -1 : 0;
}

/* vfork rather than posix_spawn: the child must ask for SIGKILL when the
 * launcher dies (PR_SET_PDEATHSIG), so that a launcher killed with SIGKILL
 * leaves no tender running. Until execve the child shares our memory: it
 * makes system calls only, and reports a failed exec through `failed`. */
static pid_t spawn_now(const char *path, char *const argv[], int tap, int start, int out)
{
    pid_t parent = getpid();
    volatile int failed = 0;
    pid_t pid = vfork();
    if (pid == 0) {
        /* Default dispositions and an empty mask (the launcher blocks
         * SIGTERM/SIGCHLD for its signalfd); a session of its own. */
        struct sigaction dfl = { .sa_handler = SIG_DFL };
        for (int sig = 1; sig < NSIG; sig++)
            if (sig != SIGKILL && sig != SIGSTOP)
                sigaction(sig, &dfl, NULL);
        sigset_t none;
        sigemptyset(&none);
        if (sigprocmask(SIG_SETMASK, &none, NULL) < 0 || setsid() < 0 ||
            prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
            goto fail;
        /* The launcher may have died before the request took effect. */
        if (getppid() != parent)
            _exit(127);
        if ((out >= 0 && (give(out, 1) < 0 || give(out, 2) < 0)) ||
            (tap >= 0 && give(tap, 3) < 0) || (start >= 0 && give(start, 4) < 0))
            goto fail;
        execve(path, argv, environ);
    fail:
        failed = errno;
        _exit(127);
    }
    if (pid < 0)
        return -errno;
    if (failed) {
        /* Reaped here, as posix_spawn does for a child that never ran. */
        waitpid(pid, NULL, 0);
        return -failed;
    }
    return pid;
}

/* PR_SET_PDEATHSIG fires when the *thread* that created the child ends,
 * and connection threads end while their VM may run on: every child is
 * created by one thread that lives as long as the launcher. Callers take
 * turns (`callers`) and hand it one request at a time. */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int pending;
    const char *path;
    char *const *argv;
    int tap, start, out;
    pid_t result;
} request = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER };
static pthread_mutex_t callers = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t spawner_once = PTHREAD_ONCE_INIT;
static int spawner_error;

static void *spawner(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&request.lock);
    for (;;) {
        while (!request.pending)
            pthread_cond_wait(&request.changed, &request.lock);
        request.result = spawn_now(request.path, request.argv, request.tap, request.start, request.out);
        request.pending = 0;
        pthread_cond_broadcast(&request.changed);
    }
    return NULL;
}

static void start_spawner(void)
{
    pthread_t thread;
    spawner_error = pthread_create(&thread, NULL, spawner, NULL);
    if (spawner_error == 0)
        pthread_detach(thread);
}

pid_t act_spawn(const char *path, char *const argv[], int tap, int start, int out)
{
    pthread_once(&spawner_once, start_spawner);
    if (spawner_error)
        return -spawner_error;
    pthread_mutex_lock(&callers);
    pthread_mutex_lock(&request.lock);
    request.path = path;
    request.argv = argv;
    request.tap = tap;
    request.start = start;
    request.out = out;
    request.pending = 1;
    pthread_cond_broadcast(&request.changed);
    while (request.pending)
        pthread_cond_wait(&request.changed, &request.lock);
    pid_t result = request.result;
    pthread_mutex_unlock(&request.lock);
    pthread_mutex_unlock(&callers);
    return result;
}



ssize_t act_splice(int in, int out, size_t len)
{
    ssize_t r = splice(in, NULL, out, NULL, len, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    return r < 0 ? -errno : r;
}

int act_signalfd(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGCHLD);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
        return -EINVAL;
    int fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    return fd < 0 ? -errno : fd;
}

int act_read_signal(int fd)
{
    struct signalfd_siginfo info;
    ssize_t r = read(fd, &info, sizeof info);
    return r == (ssize_t)sizeof info ? (int)info.ssi_signo : -1;
}

int act_pipe(int fds[2], int nonblock)
{
    return pipe2(fds, O_CLOEXEC | (nonblock ? O_NONBLOCK : 0)) < 0 ? -errno : 0;
}

int act_accept(int fd)
{
    int s = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
    return s < 0 ? -errno : s;
}

int act_tap_persist(int fd, int on)
{
    return ioctl(fd, TUNSETPERSIST, on) < 0 ? -errno : 0;
}

int act_tap_delete(const char *name)
{
    char got[IFNAMSIZ];
    int fd = tap_open(name, got);
    if (fd < 0)
        return fd;
    int r = ioctl(fd, TUNSETPERSIST, 0) < 0 ? -errno : 0;
    close(fd);
    return r;
}

int act_if_carrier(const char *name)
{
    struct ifreq ifr;
    int s = if_socket(name, &ifr);
    if (s < 0)
        return s;
    /* The carrier itself (IFF_RUNNING follows it only through the
     * deferred link watch, and a new device reads as running). */
    struct ethtool_value link = { .cmd = ETHTOOL_GLINK };
    ifr.ifr_data = (void *)&link;
    int r = ioctl(s, SIOCETHTOOL, &ifr);
    int saved = errno;
    close(s);
    return r < 0 ? -saved : link.data != 0;
}

int act_packet_open(const char *device, int *ifindex)
{
    struct ifreq ifr;
    int s = if_socket(device, &ifr);
    if (s < 0)
        return s;
    int r = ioctl(s, SIOCGIFINDEX, &ifr);
    int saved = errno;
    close(s);
    if (r < 0)
        return -saved;
    /* Protocol 0 until bound: no other interface's packets queue meanwhile. */
    int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP), .sll_ifindex = ifr.ifr_ifindex };
    if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
        saved = errno;
        close(fd);
        return -saved;
    }
    *ifindex = ifr.ifr_ifindex;
    return fd;
}

int act_packet_send(int fd, int ifindex, const uint8_t mac[6], const void *packet, size_t len)
{
    struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP),
                               .sll_ifindex = ifindex, .sll_halen = 6 };
    memcpy(sll.sll_addr, mac, 6);
    ssize_t r = sendto(fd, packet, len, 0, (struct sockaddr *)&sll, sizeof sll);
    return r < 0 ? -errno : 0;
}
