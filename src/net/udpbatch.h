/* Datagrams queued, then sent together: one sendmmsg per socket, and
 * datagrams of the same size to the same destination joined into one UDP GSO
 * send (UDP_SEGMENT), so the kernel walks its IP stack once for the lot
 * instead of once a datagram. On loopback that walk, the receiver's delivery
 * included, is most of what a small answer costs its sender.
 *
 * Datagrams may leave in another order than they were queued (UDP promises
 * none): same-size datagrams to one destination are gathered from the whole
 * batch. */
#ifndef SLUICE_NET_UDPBATCH_H
#define SLUICE_NET_UDPBATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* A GSO send needs each segment to fit the path's MTU, where a datagram alone
 * could be fragmented; 1232 bytes fits any IPv6 path (1280), which is why DNS
 * uses it as its UDP size. Longer datagrams go alone. At most 64 segments and
 * 65000 bytes a send (the kernel's limits). */
enum { UDPBATCH_GSO_LEN_MAX = 1232, UDPBATCH_GSO_SEGS_MAX = 64,
       UDPBATCH_GSO_BYTES_MAX = 65000 };

struct udpbatch;

/* cap datagrams of at most max_len bytes each. NULL when out of memory. */
struct udpbatch *udpbatch_new(unsigned cap, size_t max_len);
void udpbatch_free(struct udpbatch *b);

/* Copies msg in. addr NULL: fd is connected. -EMSGSIZE when len > max_len or
 * addrlen is larger than a sockaddr_storage, -ENOBUFS when full (flush first). */
int udpbatch_add(struct udpbatch *b, int fd, const void *msg, size_t len,
		 const struct sockaddr *addr, socklen_t addrlen);
unsigned udpbatch_count(const struct udpbatch *b);

/* Sends every queued datagram and empties the batch. Returns how many could
 * not be sent (each lost, as a failed sendto would lose it); *err gets the
 * errno of the last failure. A GSO send the kernel refuses (EIO, EINVAL,
 * EMSGSIZE: no checksum offload on the route, a segment over the MTU) is sent
 * again one by one, and if those go through, GSO is off for this batch from
 * then on. */
unsigned udpbatch_flush(struct udpbatch *b, int *err);

/* The control message that makes one send a GSO send of size-byte segments,
 * for callers that build their own messages (wg/tx.c). */
union udpbatch_cmsg {
	char buf[CMSG_SPACE(sizeof(uint16_t))];
	struct cmsghdr align;
};
void udpbatch_cmsg_segment(struct msghdr *h, union udpbatch_cmsg *c, uint16_t size);

/* Sends n messages a caller built itself (wg/tx.c seals into slots of its own)
 * on fd, as udpbatch_flush sends its own: a GSO message (one with a control
 * message) that the kernel refuses goes out again one datagram at a time, and
 * if any of those leaves, *gso turns false: the caller builds no more GSO
 * messages. A message that fails otherwise is lost. Returns the datagrams
 * lost; *err gets the errno of the last failure. */
unsigned udpbatch_sendmmsg(int fd, struct mmsghdr *mm, unsigned n, bool *gso, int *err);

/* False once the kernel refused GSO (see udpbatch_flush). */
bool udpbatch_gso(const struct udpbatch *b);
/* Test and benchmark knob: on (the default) or off. */
void udpbatch_set_gso(struct udpbatch *b, bool on);

#endif
