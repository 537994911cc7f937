/*
 * net_mtu: prints the MTU and MAC address the tender gave network
 * "service0" ("MTU is N", "MAC is xx:xx:xx:xx:xx:xx") and SUCCESS.
 */
#include "devices.h"

KIT_MANIFEST(1, KIT_MFT_NET("service0"));

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    int64_t h = dev_lookup("service0", MFT_DEV_NET_BASIC);
    if (h < 0) {
        kit_println("FAILURE: service0 not attached");
        return 1;
    }
    const struct mft_entry *e = kit_manifest_entry(h);
    kit_puts("MTU is ");
    kit_put_udec(e->u.net_basic.mtu);
    kit_println("");
    kit_puts("MAC is ");
    for (int i = 0; i < 6; i++) {
        kit_putc("0123456789abcdef"[e->u.net_basic.mac[i] >> 4]);
        kit_putc("0123456789abcdef"[e->u.net_basic.mac[i] & 15]);
        if (i < 5)
            kit_putc(':');
    }
    kit_println("");
    kit_println("SUCCESS");
    return 0;
}
