/* The DNS endpoint's questions to the daemon (dnsep.h): who is asking, may
 * they ask for this name, and the translation a new binding needs, installed
 * before the answer leaves. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "dns/binding.h"
#include "gateway/dnsep.h"
#include "gateway/gateway_priv.h"

static void *op_client(void *arg, int family, const uint8_t *src)
{
	struct gateway *g = arg;
	struct authz_client *c = authz_client_by_addr(g->az, family, src);

	return c && !authz_client_empty(c) ? c : NULL;
}

static bool op_covers(void *arg, void *client, const struct dns_name *qname)
{
	(void)arg;
	return authz_client_covers(client, qname) != NULL;
}

static struct binding_table *op_bindings(void *arg, void *client)
{
	(void)arg;
	return authz_client_bindings(client);
}

static int op_bound(void *arg, void *client, const struct dns_name *name, int family,
		    const uint8_t *proxy, const uint8_t *real)
{
	struct gateway *g = arg;
	struct authz_client *c = client;
	const struct ctl_resource *r = authz_client_covers(c, name);
	struct authz_bind b = { .family = family };
	size_t alen = family == AF_INET ? 4 : 16;
	int err;

	if (!r)
		return -EPERM;
	b.resource_id = r->id;
	memcpy(b.proxy, proxy, alen);
	memcpy(b.real, real, alen);
	err = authz_bind_add(c, &b);
	if (err == 0)
		err = gw_sync_bind(g, c, &b, r);
	if (err < 0) {
		/* The endpoint forgets the binding; the record and whatever part
		 * of it went in go too. */
		authz_bind_del(c, family, proxy);
		gw_sync(g, c);
	}
	return err;
}

const struct dnsep_ops gw_dnsep_ops = {
	.client = op_client,
	.covers = op_covers,
	.bindings = op_bindings,
	.bound = op_bound,
};
