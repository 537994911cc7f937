#define _GNU_SOURCE
#include "cactivate.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/ethtool.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

extern char **environ;

int act_move_high(int fd)
{
    if (fd >= 10)
        return fd;
    int high = fcntl(fd, F_DUPFD_CLOEXEC, 10);
    int saved = errno;
    close(fd);
    return high < 0 ? -saved : high;
}

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
    int fd = tap_open(pattern, name);
    return fd < 0 ? fd : act_move_high(fd);
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

pid_t act_spawn(const char *path, char *const argv[], int tap, int start, int out)
{
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
    /* The child starts with default signal dispositions and an empty mask
     * (the launcher blocks SIGTERM/SIGCHLD for its signalfd). */
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSID);
    if (out >= 0) {
        posix_spawn_file_actions_adddup2(&actions, out, 1);
        posix_spawn_file_actions_adddup2(&actions, out, 2);
    }
    if (tap >= 0)
        posix_spawn_file_actions_adddup2(&actions, tap, 3);
    if (start >= 0)
        posix_spawn_file_actions_adddup2(&actions, start, 4);
    pid_t pid;
    int r = posix_spawn(&pid, path, &actions, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    return r ? -r : pid;
}

int act_connect(const char *device, uint32_t addr, uint16_t port)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -errno;
    int one = 1;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = port, .sin_addr.s_addr = addr };
    if (setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, device, (socklen_t)strlen(device) + 1) < 0 ||
        (connect(s, (struct sockaddr *)&sin, sizeof sin) < 0 && errno != EINPROGRESS)) {
        int saved = errno;
        close(s);
        return -saved;
    }
    return s;
}

int act_listen(uint32_t addr, uint16_t port, int backlog)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -errno;
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = port, .sin_addr.s_addr = addr };
    if (bind(s, (struct sockaddr *)&sin, sizeof sin) < 0 || listen(s, backlog) < 0) {
        int saved = errno;
        close(s);
        return -saved;
    }
    return s;
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
