/*
 * net_2if: net_ping serving two interfaces, service0 (10.0.0.2) and
 * service1 (10.1.0.2). Same arguments.
 */
#define TWO_INTERFACES
#include "net_ping.c"
