/*
 * tender-activate's Linux calls that Swift cannot make: ioctl requests
 * (function-like macros, on unions: TUN*, SIOCSIF*, SIOCSARP, ETHTOOL),
 * vfork, GNU calls its Glibc module does not declare (pipe2, accept4,
 * splice, signalfd) and sockaddr_ll. Every descriptor returned is
 * close-on-exec. Errors: -errno.
 */
#ifndef CACTIVATE_H
#define CACTIVATE_H

#include <stdint.h>
#include <sys/types.h>

/* Creates a TAP interface (no packet info) named from `pattern` (e.g.
 * "act%d"); its name goes into `name` (16 bytes). The interface lives as
 * long as a descriptor to it is open. */
int act_tap_create(const char *pattern, char name[16]);

/* Gives `name` the IPv4 address `addr` (network order) with `prefix`,
 * and sets it up. */
int act_if_up(const char *name, uint32_t addr, int prefix);

/* A permanent neighbour entry on `device`: addr (network order) is at
 * `mac`, so the host sends to the guest without asking for its address. */
int act_neigh_add(const char *device, uint32_t addr, const uint8_t mac[6]);

/* Starts `path` with `argv` (NULL-terminated) and the environment; `tap`
 * becomes descriptor 3 and `start` (if >= 0) descriptor 4 in the child.
 * `out` (if >= 0) becomes its standard output and error. The child is
 * killed (SIGKILL) if the launcher dies. Returns the pid, or -errno. */
pid_t act_spawn(const char *path, char *const argv[], int tap, int start, int out);

/* splice(2) between descriptors (one of them a pipe), non-blocking. */
ssize_t act_splice(int in, int out, size_t len);

/* A signalfd for SIGTERM, SIGINT and SIGCHLD, after blocking them in the
 * calling thread (call before starting threads: they inherit the mask). */
int act_signalfd(void);

/* Reads one signal from the signalfd; returns its number. */
int act_read_signal(int fd);

/* pipe2 with O_CLOEXEC (and O_NONBLOCK if asked). */
int act_pipe(int fds[2], int nonblock);

/* accept4 with SOCK_CLOEXEC; the client socket is blocking. */
int act_accept(int fd);

/* TUNSETPERSIST: a persistent tap outlives its descriptors (for tenders
 * that attach by name: Solo5 0.12.1's `@NN' attach leaves the MTU unset). */
int act_tap_persist(int fd, int on);

/* Removes persistent tap `name` (attaches to it and clears persistence). */
int act_tap_delete(const char *name);

/* 1 when interface `name` has carrier (a tap: some descriptor is attached
 * to it), 0 when not, -errno. */
int act_if_carrier(const char *name);

/* A packet socket on interface `device` for IPv4 datagrams (the kernel
 * adds and strips the Ethernet header), non-blocking; its interface index
 * goes into `ifindex`. For the readiness probe's hand-made segments. */
int act_packet_open(const char *device, int *ifindex);

/* Sends IPv4 packet `packet` (`len` bytes) on packet socket `fd` to the
 * station with Ethernet address `mac` on interface `ifindex`. */
int act_packet_send(int fd, int ifindex, const uint8_t mac[6], const void *packet, size_t len);

#endif
