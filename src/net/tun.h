/* TUN devices: open (or attach to) a layer-3 device and hand back its fd.
 * Configuration of the link (MTU, up, addresses, routes) is netlink's job. */
#ifndef SLUICE_NET_TUN_H
#define SLUICE_NET_TUN_H

#include <net/if.h>

enum {
	TUN_MULTI_QUEUE = 1 << 0, /* one fd per queue, for several data-path threads */
	TUN_VNET_HDR = 1 << 1,    /* virtio-net header in front of each packet (offloads) */
	TUN_NONBLOCK = 1 << 2,
};

/* Creates or attaches to the TUN device `name` ("" or NULL: the kernel picks
 * "tunN"), without packet-info header. Writes the device's name to out_name.
 * Returns the fd, or -errno. */
int tun_open(const char *name, unsigned flags, char out_name[IFNAMSIZ]);
/* Sets the virtio-net header size and the offloads (TUN_F_* bits) the reader
 * accepts; only for fds opened with TUN_VNET_HDR. 0 or -errno. */
int tun_set_offload(int fd, unsigned tun_f_flags);
/* Makes the device outlive its fds (or not). 0 or -errno. */
int tun_set_persist(int fd, int persist);

#endif
