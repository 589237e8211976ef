/* Batched UDP sends with GSO. API and why: udpbatch.h. */
#include "net/udpbatch.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct dgram {
	int fd;
	bool taken;                    /* placed in a message of this flush */
	socklen_t addrlen;             /* 0: the socket is connected */
	size_t len;
	struct sockaddr_storage addr;
};

struct udpbatch {
	unsigned cap, n;
	size_t max_len;
	bool gso;
	uint8_t *data;                 /* cap slots of max_len bytes */
	struct dgram *d;
	struct mmsghdr *mm;            /* the messages of one socket */
	struct iovec *iov;             /* their datagrams, a message's side by side */
	union udpbatch_cmsg *cm;
};

struct udpbatch *udpbatch_new(unsigned cap, size_t max_len)
{
	struct udpbatch *b;

	if (!cap || !max_len)
		return NULL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->cap = cap;
	b->max_len = max_len;
	b->gso = true;
	b->data = malloc((size_t)cap * max_len);
	b->d = calloc(cap, sizeof(*b->d));
	b->mm = calloc(cap, sizeof(*b->mm));
	b->iov = calloc(cap, sizeof(*b->iov));
	b->cm = calloc(cap, sizeof(*b->cm));
	if (!b->data || !b->d || !b->mm || !b->iov || !b->cm) {
		udpbatch_free(b);
		return NULL;
	}
	return b;
}

void udpbatch_free(struct udpbatch *b)
{
	if (!b)
		return;
	free(b->cm);
	free(b->iov);
	free(b->mm);
	free(b->d);
	free(b->data);
	free(b);
}

int udpbatch_add(struct udpbatch *b, int fd, const void *msg, size_t len,
		 const struct sockaddr *addr, socklen_t addrlen)
{
	struct dgram *d;

	if (len > b->max_len || (addr && addrlen > sizeof(d->addr)))
		return -EMSGSIZE;
	if (b->n == b->cap)
		return -ENOBUFS;
	d = &b->d[b->n];
	d->fd = fd;
	d->taken = false;
	d->len = len;
	d->addrlen = addr ? addrlen : 0;
	if (addr)
		memcpy(&d->addr, addr, addrlen);
	memcpy(b->data + (size_t)b->n * b->max_len, msg, len);
	b->n++;
	return 0;
}

unsigned udpbatch_count(const struct udpbatch *b)
{
	return b->n;
}

bool udpbatch_gso(const struct udpbatch *b)
{
	return b->gso;
}

void udpbatch_set_gso(struct udpbatch *b, bool on)
{
	b->gso = on;
}

void udpbatch_cmsg_segment(struct msghdr *h, union udpbatch_cmsg *c, uint16_t size)
{
	h->msg_control = c->buf;
	h->msg_controllen = sizeof(c->buf);
	c->align.cmsg_level = SOL_UDP;
	c->align.cmsg_type = UDP_SEGMENT;
	c->align.cmsg_len = CMSG_LEN(sizeof(size));
	memcpy(CMSG_DATA(&c->align), &size, sizeof(size));
}

static bool same_dest(const struct dgram *a, const struct dgram *c)
{
	return a->fd == c->fd && a->addrlen == c->addrlen &&
	       memcmp(&a->addr, &c->addr, a->addrlen) == 0;
}

/* One sendmmsg after another until all n messages are out; a message that
 * fails is lost. Returns the datagrams lost. */
unsigned udpbatch_sendmmsg(int fd, struct mmsghdr *mm, unsigned n, bool *gso, int *err)
{
	unsigned done = 0, lost = 0;

	while (done < n) {
		struct msghdr *h = &mm[done].msg_hdr;
		int r = sendmmsg(fd, mm + done, n - done, MSG_DONTWAIT), e;
		unsigned bad = 0;

		if (r > 0) {
			done += (unsigned)r;
			continue;
		}
		e = r < 0 ? errno : EIO;
		if (e == EINTR)
			continue;
		if (h->msg_controllen && (e == EIO || e == EINVAL || e == EMSGSIZE)) {
			/* Refused as a GSO send (no checksum offload on the route, a
			 * segment over the MTU): the datagrams themselves may be fine. */
			for (size_t k = 0; k < h->msg_iovlen; k++) {
				if (sendto(fd, h->msg_iov[k].iov_base, h->msg_iov[k].iov_len,
					   MSG_DONTWAIT, h->msg_name, h->msg_namelen) < 0) {
					bad++;
					e = errno;
				}
			}
			if (bad < h->msg_iovlen)
				*gso = false;
		} else {
			bad = (unsigned)h->msg_iovlen;
		}
		if (bad) {
			lost += bad;
			*err = e;
		}
		done++;
	}
	return lost;
}

/* The messages for the socket of datagram first: each untaken datagram of that
 * socket starts one, joined (with GSO) by the later ones of its destination
 * and size. Returns the message count. */
static unsigned build_fd(struct udpbatch *b, unsigned first)
{
	unsigned nm = 0, niov = 0;

	for (unsigned i = first; i < b->n; i++) {
		struct dgram *d = &b->d[i];
		bool join = b->gso && d->len && d->len <= UDPBATCH_GSO_LEN_MAX;
		size_t bytes = d->len;
		struct mmsghdr *m;
		unsigned segs = 1;

		if (d->taken || d->fd != b->d[first].fd)
			continue;
		d->taken = true;
		m = &b->mm[nm];
		*m = (struct mmsghdr){ .msg_hdr = {
			.msg_name = d->addrlen ? &d->addr : NULL,
			.msg_namelen = d->addrlen,
			.msg_iov = &b->iov[niov],
		} };
		b->iov[niov++] = (struct iovec){ .iov_base = b->data + (size_t)i * b->max_len,
						 .iov_len = d->len };
		for (unsigned j = i + 1; join && j < b->n && segs < UDPBATCH_GSO_SEGS_MAX; j++) {
			struct dgram *o = &b->d[j];

			if (o->taken || o->len != d->len || !same_dest(o, d))
				continue;
			if (bytes + o->len > UDPBATCH_GSO_BYTES_MAX)
				break;
			o->taken = true;
			b->iov[niov++] = (struct iovec){
				.iov_base = b->data + (size_t)j * b->max_len, .iov_len = o->len };
			bytes += o->len;
			segs++;
		}
		m->msg_hdr.msg_iovlen = segs;
		if (segs > 1)
			udpbatch_cmsg_segment(&m->msg_hdr, &b->cm[nm], (uint16_t)d->len);
		nm++;
	}
	return nm;
}

unsigned udpbatch_flush(struct udpbatch *b, int *err)
{
	unsigned lost = 0;

	for (unsigned i = 0; i < b->n; i++) {
		unsigned nm;

		if (b->d[i].taken)
			continue;
		nm = build_fd(b, i);
		lost += udpbatch_sendmmsg(b->d[i].fd, b->mm, nm, &b->gso, err);
	}
	b->n = 0;
	return lost;
}
