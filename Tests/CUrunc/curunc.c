#define _GNU_SOURCE
#include "curunc.h"

#include <sched.h>
#include <sys/mount.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static int tap_open(const char *name, short flags)
{
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd == -1)
        return -1;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    ifr.ifr_flags = flags;
    if (ioctl(fd, TUNSETIFF, &ifr) == -1) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

static int finish(int fd, int rc)
{
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

int curunc_tap_create(const char *name, uid_t uid, gid_t gid)
{
    int fd = tap_open(name, IFF_TAP | IFF_ONE_QUEUE | IFF_VNET_HDR);
    if (fd == -1)
        return -1;
    if (ioctl(fd, TUNSETOWNER, (unsigned long)uid) == -1 ||
        ioctl(fd, TUNSETGROUP, (unsigned long)gid) == -1 ||
        ioctl(fd, TUNSETPERSIST, 1UL) == -1)
        return finish(fd, -1);
    return finish(fd, 0);
}

int curunc_tap_delete(const char *name)
{
    int fd = tap_open(name, IFF_TAP | IFF_ONE_QUEUE | IFF_VNET_HDR);
    if (fd == -1)
        return -1;
    return finish(fd, ioctl(fd, TUNSETPERSIST, 0UL) == -1 ? -1 : 0);
}

static void set_ipv4(struct sockaddr *sa, unsigned int address)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(address);
    memcpy(sa, &sin, sizeof sin);
}

int curunc_if_up(const char *name, unsigned int address, unsigned int prefix)
{
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock == -1)
        return -1;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    set_ipv4(&ifr.ifr_addr, address);
    if (ioctl(sock, SIOCSIFADDR, &ifr) == -1)
        return finish(sock, -1);
    set_ipv4(&ifr.ifr_netmask, prefix == 0 ? 0 : ~0U << (32 - prefix));
    if (ioctl(sock, SIOCSIFNETMASK, &ifr) == -1 || ioctl(sock, SIOCGIFFLAGS, &ifr) == -1)
        return finish(sock, -1);
    ifr.ifr_flags |= IFF_UP;
    return finish(sock, ioctl(sock, SIOCSIFFLAGS, &ifr) == -1 ? -1 : 0);
}

int curunc_mknod_char(const char *path, unsigned int major, unsigned int minor)
{
    if (mknod(path, S_IFCHR | 0666, makedev(major, minor)) == -1)
        return -1;
    return chmod(path, 0666); /* past the umask */
}

void curunc_close_from(int first)
{
    if (syscall(SYS_close_range, first, ~0U, 0) == 0)
        return;
    for (int fd = first; fd < 65536; fd++)
        close(fd);
}

int curunc_private_mounts(void)
{
    if (unshare(CLONE_NEWNS) == -1)
        return -1;
    return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
}
