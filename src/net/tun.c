#include "net/tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int tun_open(const char *name, unsigned flags, char out_name[IFNAMSIZ])
{
	struct ifreq ifr = { 0 };
	int fd, oflags = O_RDWR | O_CLOEXEC;

	if (name && strlen(name) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	if (flags & TUN_NONBLOCK)
		oflags |= O_NONBLOCK;
	fd = open("/dev/net/tun", oflags);
	if (fd < 0)
		return -errno;
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	if (flags & TUN_MULTI_QUEUE)
		ifr.ifr_flags |= IFF_MULTI_QUEUE;
	if (flags & TUN_VNET_HDR)
		ifr.ifr_flags |= IFF_VNET_HDR;
	if (name)
		snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	if (out_name)
		snprintf(out_name, IFNAMSIZ, "%s", ifr.ifr_name);
	return fd;
}

int tun_set_offload(int fd, unsigned tun_f_flags)
{
	int hdrlen = 10; /* sizeof(struct virtio_net_hdr): no mergeable buffers on TUN */

	if (ioctl(fd, TUNSETVNETHDRSZ, &hdrlen) < 0)
		return -errno;
	if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)tun_f_flags) < 0)
		return -errno;
	return 0;
}

int tun_set_persist(int fd, int persist)
{
	if (ioctl(fd, TUNSETPERSIST, (unsigned long)(persist != 0)) < 0)
		return -errno;
	return 0;
}
