/* The stub's resolver: a query for a resource name goes through the tunnel to
 * the DNS endpoint of the gateway that holds the resource's authorization,
 * from a UDP socket connected to that gateway's tunnel address (the kernel
 * routes it into the TUN, the device to the gateway's peer). A query that
 * needs access first waits here until the portal answers. */
#include "client/client_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns/dns_wire.h"
#include "dns/msg.h"
#include "dns/stub.h"

static struct cl_query *query_unlink(struct client *c, struct cl_query **pp)
{
	struct cl_query *q = *pp;

	*pp = q->next;
	c->n_queries--;
	return q;
}

static int query_out(struct client *c, struct cl_query *q, struct cl_gateway *gw)
{
	q->gw = gw;
	if (send(gw->dns_fd, q->msg, q->len, 0) < 0) {
		log_rl(&c->rl_dns, LOG_LVL_WARN, "gateway %llu: DNS query not sent: %s",
		       (unsigned long long)gw->id, strerror(errno));
		return -errno;
	}
	return 0;
}

int cl_dns_send(void *arg, uint64_t token, uint64_t resource_id, const uint8_t *query,
		size_t len)
{
	struct client *c = arg;
	struct cl_resource *res = cl_res_find(c, resource_id);
	struct cl_query *q;
	enum cl_res_state st;
	int err;

	if (!res || len < DNS_HDR_LEN || len > CL_QUERY_MAX)
		return -EINVAL;
	st = cl_access_want(c, res);
	if (st == CL_IDLE)
		return -ENOTCONN; /* the stub answers SERVFAIL */
	q = malloc(sizeof(*q) + len);
	if (!q)
		return -ENOMEM;
	q->token = token;
	q->resource_id = resource_id;
	q->gw = NULL;
	q->id = (uint16_t)(query[0] << 8 | query[1]);
	q->len = (uint16_t)len;
	q->fail_rcode = 0;
	memcpy(q->msg, query, len);
	if (st == CL_DENIED)
		q->fail_rcode = DNS_RCODE_REFUSED; /* answered after this call */
	else if (st == CL_GRANTED && (err = query_out(c, q, res->gw)) < 0) {
		free(q);
		return err;
	}
	q->next = c->queries;
	c->queries = q;
	c->n_queries++;
	return 0;
}

void cl_dns_cancel(void *arg, uint64_t token)
{
	struct client *c = arg;

	for (struct cl_query **pp = &c->queries; *pp; pp = &(*pp)->next) {
		if ((*pp)->token == token) {
			free(query_unlink(c, pp));
			return;
		}
	}
}

void cl_dns_flush(struct client *c, struct cl_resource *res)
{
	for (struct cl_query *q = c->queries; q; q = q->next)
		if (q->resource_id == res->r.id && !q->gw && !q->fail_rcode &&
		    query_out(c, q, res->gw) < 0)
			q->fail_rcode = DNS_RCODE_SERVFAIL;
	cl_dns_deferred(c);
}

void cl_dns_fail(struct client *c, uint64_t resource_id, uint16_t rcode)
{
	for (struct cl_query *q = c->queries; q; q = q->next)
		if (q->resource_id == resource_id && !q->gw && !q->fail_rcode)
			q->fail_rcode = rcode;
	cl_dns_deferred(c);
}

/* Failures decided inside the stub's own send(), where it must not be called
 * back, are answered from here: the loop calls this after each stub pass. */
void cl_dns_deferred(struct client *c)
{
	for (struct cl_query **pp = &c->queries; *pp;) {
		struct cl_query *q = *pp;

		if (!q->fail_rcode) {
			pp = &q->next;
			continue;
		}
		query_unlink(c, pp);
		stub_resource_fail(c->stub, q->token, q->fail_rcode);
		free(q);
	}
}

void cl_dns_requeue(struct client *c, struct cl_gateway *gw, uint64_t resource_id)
{
	for (struct cl_query *q = c->queries; q; q = q->next)
		if (q->gw == gw && (!resource_id || q->resource_id == resource_id))
			q->gw = NULL;
}

void cl_dns_gateway_gone(struct client *c, struct cl_gateway *gw)
{
	cl_dns_requeue(c, gw, 0);
}

void cl_dns_readable(struct client *c, struct cl_gateway *gw)
{
	uint8_t buf[DNS_MSG_MAX];

	for (int i = 0; i < 64; i++) {
		ssize_t n = recv(gw->dns_fd, buf, sizeof(buf), MSG_TRUNC);
		struct cl_query **pp;
		uint16_t id;

		if (n < 0)
			return; /* EAGAIN; ECONNREFUSED: the endpoint is not there (yet) */
		if ((size_t)n > sizeof(buf) || n < DNS_HDR_LEN) {
			log_rl(&c->rl_dns, LOG_LVL_WARN, "gateway %llu: a DNS answer of %zd bytes dropped",
			       (unsigned long long)gw->id, n);
			continue;
		}
		id = (uint16_t)(buf[0] << 8 | buf[1]);
		for (pp = &c->queries; *pp && ((*pp)->gw != gw || (*pp)->id != id); pp = &(*pp)->next)
			;
		if (!*pp) {
			log_rl(&c->rl_dns, LOG_LVL_DEBUG, "gateway %llu: an answer nobody waits for",
			       (unsigned long long)gw->id);
			continue;
		}
		struct cl_query *q = query_unlink(c, pp);

		stub_resource_answer(c->stub, q->token, buf, (size_t)n);
		free(q);
	}
}

void cl_dns_free(struct client *c)
{
	while (c->queries)
		free(query_unlink(c, &c->queries));
}
