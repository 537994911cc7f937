/*
 * urunc_net: net_ping on the interface urunc attaches, "service"
 * (10.0.0.2). Same arguments.
 */
#define NET_NAME "service"
#include "net_ping.c"
