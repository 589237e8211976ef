/* Packets no peer takes: the TX thread hands them over (on_no_peer) through a
 * small locked ring and an eventfd; the loop finds their resource. An IP or
 * CIDR resource, or a proxy IP bound before (an application that kept it
 * across a restart or a revocation), asks for access and keeps the packet
 * until the answer: sent on grant, refused with ICMP administratively
 * prohibited on denial, so applications fail at once rather than time out. */
#include "client/client_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "dns/stub.h"
#include "net/icmp.h"
#include "net/ip_wire.h"
#include "net/prefix.h"
#include "wg/device.h"

int cl_ring_init(struct cl_ring *r)
{
	int err;

	r->head = r->n = 0;
	r->dropped = 0;
	r->data = calloc(CL_RING, sizeof(*r->data));
	if (!r->data)
		return -ENOMEM;
	r->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->efd < 0) {
		err = -errno;
		free(r->data);
		r->data = NULL;
		return err;
	}
	pthread_mutex_init(&r->mu, NULL);
	return 0;
}

void cl_ring_free(struct cl_ring *r)
{
	if (!r->data)
		return;
	pthread_mutex_destroy(&r->mu);
	close(r->efd);
	free(r->data);
	r->data = NULL;
}

/* TX thread, device lock held: copy, never block, never call the device. */
void cl_on_no_peer(void *arg, const uint8_t *pkt, size_t len)
{
	struct client *c = arg;
	struct cl_ring *r = &c->ring;
	uint64_t one = 1;
	bool wake;

	if (len > CL_PKT_MAX)
		return;
	pthread_mutex_lock(&r->mu);
	if (r->n == CL_RING) {
		r->dropped++;
		pthread_mutex_unlock(&r->mu);
		return;
	}
	memcpy(r->data[(r->head + r->n) % CL_RING], pkt, len);
	r->len[(r->head + r->n) % CL_RING] = (uint16_t)len;
	wake = r->n++ == 0;
	pthread_mutex_unlock(&r->mu);
	if (wake && write(r->efd, &one, sizeof(one)) < 0) {
		/* the counter is already non-zero: the loop will look */
	}
}

static int pkt_dst(const uint8_t *pkt, size_t len, int *family, const uint8_t **dst)
{
	if (len >= IPV4_HDR_LEN && pkt[0] >> 4 == 4) {
		*family = AF_INET;
		*dst = pkt + IPV4_OFF_DST;
		return 0;
	}
	if (len >= IPV6_HDR_LEN && pkt[0] >> 4 == 6) {
		*family = AF_INET6;
		*dst = pkt + IPV6_OFF_DST;
		return 0;
	}
	return -EINVAL;
}

static void refuse(struct client *c, const uint8_t *pkt, size_t len)
{
	uint8_t out[1280];
	int n = icmp_prohibited(pkt, len, out, sizeof(out));

	if (n > 0)
		wg_device_tun_write(c->dev, out, (size_t)n);
}

static bool covers(const struct ctl_resource *r, int family, const uint8_t *a)
{
	struct net_prefix p = prefix_make(r->ip.family, r->ip.addr, r->prefix);

	return prefix_contains(&p, family, a);
}

/* The IP/CIDR resource with the longest prefix covering a, or the resource of
 * the proxy IP a. */
static struct cl_resource *pkt_resource(struct client *c, int family, const uint8_t *a)
{
	struct cl_resource *best = NULL;
	uint64_t id;

	for (size_t i = 0; i < c->n_res; i++) {
		struct cl_resource *res = c->res[i];

		if (res->r.type != CTL_RES_DNS && covers(&res->r, family, a) &&
		    (!best || res->r.prefix > best->r.prefix))
			best = res;
	}
	if (best)
		return best;
	if (stub_proxy_lookup(c->stub, family, a, NULL, &id) == 0)
		return cl_res_find(c, id);
	return NULL;
}

static void keep(struct client *c, struct cl_resource *res, const uint8_t *pkt, size_t len)
{
	struct cl_pkt *p, **pp;

	if (res->n_pkts >= CL_RES_PKTS || !(p = malloc(sizeof(*p) + len))) {
		/* dropped: the application retransmits */
		log_rl(&c->rl_pkt, LOG_LVL_DEBUG, "a packet waiting for access dropped");
		return;
	}
	p->next = NULL;
	p->len = (uint16_t)len;
	memcpy(p->data, pkt, len);
	for (pp = &res->pkts; *pp; pp = &(*pp)->next)
		;
	*pp = p;
	res->n_pkts++;
}

static void handle(struct client *c, const uint8_t *pkt, size_t len)
{
	struct cl_resource *res;
	const uint8_t *dst;
	int family;

	if (pkt_dst(pkt, len, &family, &dst) < 0)
		return;
	res = pkt_resource(c, family, dst);
	if (!res) {
		refuse(c, pkt, len);
		return;
	}
	switch (cl_access_want(c, res)) {
	case CL_GRANTED:
		/* granted meanwhile; or its address is not with the peer */
		if (wg_device_send(c->dev, pkt, len) < 0)
			refuse(c, pkt, len);
		break;
	case CL_REQUESTING:
		keep(c, res, pkt, len);
		break;
	case CL_DENIED:
	case CL_IDLE:
		refuse(c, pkt, len);
		break;
	}
}

void cl_ring_drain(struct client *c)
{
	struct cl_ring *r = &c->ring;
	uint8_t pkt[CL_PKT_MAX];
	uint64_t v;
	uint64_t dropped;

	if (read(r->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_rl(&c->rl_pkt, LOG_LVL_ERR, "eventfd: %s", strerror(errno));
	for (;;) {
		size_t len;

		pthread_mutex_lock(&r->mu);
		if (r->n == 0) {
			dropped = r->dropped;
			r->dropped = 0;
			pthread_mutex_unlock(&r->mu);
			break;
		}
		len = r->len[r->head];
		memcpy(pkt, r->data[r->head], len);
		r->head = (r->head + 1) % CL_RING;
		r->n--;
		pthread_mutex_unlock(&r->mu);
		handle(c, pkt, len);
	}
	if (dropped)
		log_rl(&c->rl_pkt, LOG_LVL_WARN, "%llu packets waiting for access dropped (queue full)",
		       (unsigned long long)dropped);
}

void cl_pkts_send(struct client *c, struct cl_resource *res)
{
	while (res->pkts) {
		struct cl_pkt *p = res->pkts;

		res->pkts = p->next;
		if (wg_device_send(c->dev, p->data, p->len) < 0)
			refuse(c, p->data, p->len);
		free(p);
	}
	res->n_pkts = 0;
}

void cl_pkts_refuse(struct client *c, struct cl_resource *res)
{
	while (res->pkts) {
		struct cl_pkt *p = res->pkts;

		res->pkts = p->next;
		refuse(c, p->data, p->len);
		free(p);
	}
	res->n_pkts = 0;
}
