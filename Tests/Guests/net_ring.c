/*
 * net_ring: net_ping over the ring (hvt_ring.h) instead of the NET
 * hypercalls. Same arguments; fails unless the tender offers ring I/O.
 */
#define RING
#include "net_ping.c"
