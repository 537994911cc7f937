/*
 * curunc.h: the Linux requests urunc-exec makes that Swift cannot spell
 * (ioctl numbers are function-like macros; struct ifreq is a union).
 */
#ifndef CURUNC_H
#define CURUNC_H

#include <sys/types.h>

/* Creates persistent TAP `name` as urunc's network set-up leaves it:
 * IFF_TAP|IFF_ONE_QUEUE|IFF_VNET_HDR (packet information left on, no
 * IFF_NO_PI), owned by `uid`/`gid`. 0, or -1 with errno set. */
int curunc_tap_create(const char *name, uid_t uid, gid_t gid);

/* Deletes persistent TAP `name` (clears its persist flag). */
int curunc_tap_delete(const char *name);

/* Gives interface `name` the IPv4 address `address` with a `prefix`-bit
 * netmask (both in host order) and brings it up. */
int curunc_if_up(const char *name, unsigned int address, unsigned int prefix);

/* Makes character device `path` (major, minor) with mode 0666, as
 * urunc's mknod leaves /dev/kvm, /dev/net/tun, /dev/null, /dev/urandom. */
int curunc_mknod_char(const char *path, unsigned int major, unsigned int minor);

/* A mount namespace of the caller's own, with every mount private (so
 * nothing mounted in it reaches the parent's). */
int curunc_private_mounts(void);

/* Closes every descriptor from `first` on. */
void curunc_close_from(int first);

#endif
