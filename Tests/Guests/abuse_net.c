/* abuse_net: the abuse guest with a net device "service0" declared. */
#define ABUSE_NET
#include "abuse.c"
