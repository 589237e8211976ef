/* The NAT table through libnftables, and the record of what was added. */
#include "gateway/nat.h"

#include <errno.h>
#include <nftables/libnftables.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "gateway/nat_text.h"
#include "net/sysctl.h"
#include "lib/buf.h"
#include "lib/log.h"

enum { ELEM_BIND = 0xff }; /* else an enum nat_kind */

/* One element the module put in the kernel. */
struct nat_elem {
	uint8_t kind;
	uint8_t layer;
	uint32_t refs;          /* allow elements: how many adds are not deleted yet */
	struct nat_rule r;      /* normalized; a binding keeps its proxy IP in r.dst */
	uint8_t real[16];       /* bindings */
};

struct nat_client {
	int family;
	uint8_t addr[16];
	struct nat_elem *elems;
	size_t n, cap;
};

struct nat {
	struct nft_ctx *nft;
	char table[NAT_TABLE_NAME_MAX + 1];
	struct nat_client *clients; /* sorted by (family, addr): bsearch */
	size_t n_clients, cap_clients;
	size_t n_elems;
	struct buf cmd;
	struct log_ratelimit rl;
	char old_fwd4[SYSCTL_VALUE_MAX], old_fwd6[SYSCTL_VALUE_MAX];
	bool set_fwd4, set_fwd6;
};

static const char fwd4[] = "net/ipv4/ip_forward";
static const char fwd6[] = "net/ipv6/conf/all/forwarding";

/* Commands and replies are small; the cap only bounds a runaway. */
#define NAT_CMD_MAX (16u << 20)

/* libnftables reports the kernel's error as text only: find the errno in it. */
static int error_from_text(const char *msg)
{
	static const int known[] = { EEXIST, ENOENT, ENOMEM, ENOSPC, EPERM, EBUSY, E2BIG,
				     EOPNOTSUPP, EINVAL, ENODEV };

	for (size_t i = 0; msg && i < sizeof(known) / sizeof(known[0]); i++)
		if (strstr(msg, strerror(known[i])))
			return -known[i];
	return -EIO;
}

static struct nft_ctx *ctx_new(void)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);

	if (!nft)
		return NULL;
	if (nft_ctx_buffer_error(nft) || nft_ctx_buffer_output(nft)) {
		nft_ctx_free(nft);
		return NULL;
	}
	return nft;
}

/* Runs the commands as one transaction. quiet: an -errno that is an expected
 * answer (a missing table, an overlap), not worth a line; 0 for none. */
static int ctx_run(struct nft_ctx *nft, struct log_ratelimit *rl, const char *text, int quiet)
{
	const char *msg;
	size_t len;
	int err;

	if (nft_run_cmd_from_buffer(nft, text) == 0)
		return 0;
	msg = nft_ctx_get_error_buffer(nft);
	err = error_from_text(msg);
	if (err == quiet)
		return err;
	len = msg ? strcspn(msg, "\n") : 0;
	log_rl(rl, LOG_LVL_ERR, "nat: nft: %.*s (%.200s)", (int)len, msg ? msg : "", text);
	return err;
}

static int nat_run(struct nat *n)
{
	int err = ctx_run(n->nft, &n->rl, (const char *)n->cmd.data, 0);

	buf_reset(&n->cmd);
	return err;
}

int nat_remove_stale(const char *table)
{
	struct log_ratelimit rl = LOG_RATELIMIT_INIT;
	struct nft_ctx *nft;
	char text[3 * NAT_TABLE_NAME_MAX + 64];
	int err;

	if (!nat_text_name_ok(table))
		return -EINVAL;
	nft = ctx_new();
	if (!nft)
		return -ENOMEM;
	snprintf(text, sizeof(text), "delete table inet %s\n", table);
	err = ctx_run(nft, &rl, text, -ENOENT);
	nft_ctx_free(nft);
	return err == -ENOENT ? 0 : err;
}

int nat_new(const struct nat_config *c, struct nat **out)
{
	struct nat *n;
	int err;

	if (!c || !nat_text_name_ok(c->table))
		return -EINVAL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	buf_init(&n->cmd, NAT_CMD_MAX);
	snprintf(n->table, sizeof(n->table), "%s", c->table);
	err = nat_text_table(&n->cmd, c);
	if (err)
		goto fail_buf;
	n->nft = ctx_new();
	if (!n->nft) {
		err = -ENOMEM;
		goto fail_buf;
	}
	err = nat_run(n);
	if (err)
		goto fail_nft;
	err = sysctl_swap(fwd4, "1", n->old_fwd4);
	if (err) {
		log_err("nat: cannot turn on IPv4 forwarding: %s", strerror(-err));
		goto fail_table;
	}
	n->set_fwd4 = true;
	/* A kernel without IPv6 has no such file: IPv4 alone then. */
	err = sysctl_swap(fwd6, "1", n->old_fwd6);
	if (err && err != -ENOENT) {
		log_err("nat: cannot turn on IPv6 forwarding: %s", strerror(-err));
		goto fail_fwd4;
	}
	n->set_fwd6 = !err;
	*out = n;
	return 0;

fail_fwd4:
	sysctl_write(fwd4, n->old_fwd4);
fail_table:
	buf_printf(&n->cmd, "delete table inet %s\n", n->table);
	nat_run(n);
fail_nft:
	nft_ctx_free(n->nft);
fail_buf:
	buf_free(&n->cmd);
	free(n);
	return err;
}

void nat_free(struct nat *n)
{
	if (!n)
		return;
	buf_reset(&n->cmd);
	if (buf_printf(&n->cmd, "delete table inet %s\n", n->table) == 0)
		nat_run(n);
	if (n->set_fwd6)
		sysctl_write(fwd6, n->old_fwd6);
	if (n->set_fwd4)
		sysctl_write(fwd4, n->old_fwd4);
	for (size_t i = 0; i < n->n_clients; i++)
		free(n->clients[i].elems);
	free(n->clients);
	nft_ctx_free(n->nft);
	buf_free(&n->cmd);
	free(n);
}

size_t nat_element_count(const struct nat *n)
{
	return n->n_elems;
}

/* The record. */

static int client_cmp(int fa, const uint8_t *a, const struct nat_client *c)
{
	if (fa != c->family)
		return fa < c->family ? -1 : 1;
	return memcmp(a, c->addr, prefix_addr_len(fa));
}

/* The client's index, or where it would go (*found false). */
static size_t client_find(const struct nat *n, int family, const uint8_t *addr, bool *found)
{
	size_t lo = 0, hi = n->n_clients;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = client_cmp(family, addr, &n->clients[mid]);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*found = false;
	return lo;
}

static struct nat_client *client_get(struct nat *n, int family, const uint8_t *addr)
{
	bool found;
	size_t i = client_find(n, family, addr, &found);

	return found ? &n->clients[i] : NULL;
}

static struct nat_client *client_add(struct nat *n, int family, const uint8_t *addr)
{
	bool found;
	size_t i = client_find(n, family, addr, &found);
	struct nat_client *c;

	if (found)
		return &n->clients[i];
	if (n->n_clients == n->cap_clients) {
		size_t cap = n->cap_clients ? n->cap_clients * 2 : 16;
		void *p = reallocarray(n->clients, cap, sizeof(*n->clients));

		if (!p)
			return NULL;
		n->clients = p;
		n->cap_clients = cap;
	}
	memmove(&n->clients[i + 1], &n->clients[i], (n->n_clients - i) * sizeof(*n->clients));
	n->n_clients++;
	c = &n->clients[i];
	memset(c, 0, sizeof(*c));
	c->family = family;
	memcpy(c->addr, addr, prefix_addr_len(family));
	return c;
}

static void client_drop_if_empty(struct nat *n, struct nat_client *c)
{
	size_t i = (size_t)(c - n->clients);

	if (c->n)
		return;
	free(c->elems);
	memmove(&n->clients[i], &n->clients[i + 1], (n->n_clients - i - 1) * sizeof(*c));
	n->n_clients--;
}

static bool rule_eq(const struct nat_rule *a, const struct nat_rule *b)
{
	return a->family == b->family && memcmp(a->dst, b->dst, 16) == 0 &&
	       a->prefix == b->prefix && a->proto == b->proto && a->port_lo == b->port_lo &&
	       a->port_hi == b->port_hi;
}

static struct nat_elem *elem_find(struct nat_client *c, uint8_t kind, const struct nat_rule *r)
{
	for (size_t i = 0; c && i < c->n; i++)
		if (c->elems[i].kind == kind && rule_eq(&c->elems[i].r, r))
			return &c->elems[i];
	return NULL;
}

static struct nat_elem *elem_new(struct nat *n, struct nat_client *c)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		void *p = reallocarray(c->elems, cap, sizeof(*c->elems));

		if (!p)
			return NULL;
		c->elems = p;
		c->cap = cap;
	}
	n->n_elems++;
	memset(&c->elems[c->n], 0, sizeof(c->elems[0]));
	return &c->elems[c->n++];
}

static void elem_remove(struct nat *n, struct nat_client *c, struct nat_elem *e)
{
	*e = c->elems[--c->n];
	n->n_elems--;
	client_drop_if_empty(n, c);
}

static int elem_text(struct nat *n, bool add, const struct nat_elem *e)
{
	if (e->kind == ELEM_BIND)
		return nat_text_bind(&n->cmd, add, n->table, e->r.family, e->r.client, e->r.dst,
				     e->real);
	return nat_text_allow(&n->cmd, add, n->table, &e->r, (enum nat_kind)e->kind, e->layer);
}

/* Bindings. */

static int bind_key(int family, const uint8_t *client, const uint8_t *proxy, struct nat_rule *k)
{
	unsigned alen = prefix_addr_len(family);

	if (!alen)
		return -EAFNOSUPPORT;
	if (!client || !proxy)
		return -EINVAL;
	memset(k, 0, sizeof(*k));
	k->family = family;
	memcpy(k->client, client, alen);
	memcpy(k->dst, proxy, alen);
	k->prefix = (uint8_t)(alen * 8);
	return 0;
}

int nat_bind_add_all(struct nat *n, int family, const uint8_t *client, const struct nat_bind *b,
		     size_t count)
{
	unsigned alen = prefix_addr_len(family);
	struct nat_client *c;
	size_t old_n;
	int err = 0;

	if (!alen)
		return -EAFNOSUPPORT;
	if (!client || (count && !b))
		return -EINVAL;
	c = client_add(n, family, client);
	if (!c)
		return -ENOMEM;
	old_n = c->n;
	/* Into the record first (so duplicates inside b are seen), then the
	 * kernel; on failure the new tail of the record goes again. */
	for (size_t i = 0; i < count && !err; i++) {
		struct nat_elem *e;
		struct nat_rule k;

		bind_key(family, client, b[i].proxy, &k);
		e = elem_find(c, ELEM_BIND, &k);
		if (e) {
			if (memcmp(e->real, b[i].real, alen))
				err = -EEXIST;
			continue;
		}
		e = elem_new(n, c);
		if (!e) {
			err = -ENOMEM;
			break;
		}
		e->kind = ELEM_BIND;
		e->refs = 1;
		e->r = k;
		memcpy(e->real, b[i].real, alen);
		err = elem_text(n, true, e);
	}
	if (!err && c->n > old_n)
		err = nat_run(n);
	buf_reset(&n->cmd);
	if (err) {
		n->n_elems -= c->n - old_n;
		c->n = old_n;
	}
	client_drop_if_empty(n, c);
	return err;
}

int nat_bind_add(struct nat *n, int family, const uint8_t *client, const uint8_t *proxy,
		 const uint8_t *real)
{
	struct nat_bind b;
	unsigned alen = prefix_addr_len(family);

	if (!alen)
		return -EAFNOSUPPORT;
	if (!proxy || !real)
		return -EINVAL;
	memcpy(b.proxy, proxy, alen);
	memcpy(b.real, real, alen);
	return nat_bind_add_all(n, family, client, &b, 1);
}

int nat_bind_del(struct nat *n, int family, const uint8_t *client, const uint8_t *proxy)
{
	struct nat_client *c;
	struct nat_elem *e;
	struct nat_rule k;
	int err = bind_key(family, client, proxy, &k);

	if (err)
		return err;
	c = client_get(n, family, client);
	e = elem_find(c, ELEM_BIND, &k);
	if (!e)
		return 0;
	err = elem_text(n, false, e);
	if (!err)
		err = nat_run(n);
	buf_reset(&n->cmd);
	if (!err)
		elem_remove(n, c, e);
	return err;
}

/* Allow elements. */

/* The normalized rule, its kind, and its record if there is one. */
static int allow_find(struct nat *n, const struct nat_rule *in, struct nat_rule *r,
		      enum nat_kind *kind, struct nat_client **c, struct nat_elem **e)
{
	int err;

	if (!in)
		return -EINVAL;
	err = nat_rule_norm(in, r, kind);
	if (err)
		return err;
	*c = client_get(n, r->family, r->client);
	*e = elem_find(*c, (uint8_t)*kind, r);
	return 0;
}

int nat_allow_add(struct nat *n, const struct nat_rule *in)
{
	struct nat_client *c;
	struct nat_elem *e;
	struct nat_rule r;
	enum nat_kind kind;
	int err = allow_find(n, in, &r, &kind, &c, &e);

	if (err)
		return err;
	if (e) {
		e->refs++;
		return 0;
	}
	c = client_add(n, r.family, r.client);
	if (!c)
		return -ENOMEM;
	e = elem_new(n, c);
	if (!e) {
		client_drop_if_empty(n, c);
		return -ENOMEM;
	}
	e->kind = (uint8_t)kind;
	e->refs = 1;
	e->r = r;
	/* The kernel refuses an element overlapping another of its set (-EEXIST):
	 * the next layer's set then. */
	err = -EEXIST;
	for (unsigned l = 0; l < NAT_LAYERS && err == -EEXIST; l++) {
		e->layer = (uint8_t)l;
		err = elem_text(n, true, e);
		if (!err)
			err = ctx_run(n->nft, &n->rl, (const char *)n->cmd.data, -EEXIST);
		buf_reset(&n->cmd);
	}
	if (err == -EEXIST)
		log_rl(&n->rl, LOG_LVL_WARN, "nat: an allow rule overlaps %d others of its client",
		       NAT_LAYERS);
	if (err)
		elem_remove(n, c, e);
	return err;
}

int nat_allow_del(struct nat *n, const struct nat_rule *in)
{
	struct nat_client *c;
	struct nat_elem *e;
	struct nat_rule r;
	enum nat_kind kind;
	int err = allow_find(n, in, &r, &kind, &c, &e);

	if (err)
		return err;
	if (!e)
		return 0;
	if (e->refs > 1) {
		e->refs--;
		return 0;
	}
	err = elem_text(n, false, e);
	if (!err)
		err = nat_run(n);
	buf_reset(&n->cmd);
	if (!err)
		elem_remove(n, c, e);
	return err;
}

/* One transaction for what a DNS answer needs. New allow elements go to the
 * first layer; only if the kernel finds one overlapping (-EEXIST) is the work
 * done again element by element, with the layers tried in turn. */
static int add_one_by_one(struct nat *n, int family, const uint8_t *client,
			  const struct nat_bind *b, size_t nb, const struct nat_rule *r,
			  size_t nr)
{
	bool *fresh = calloc(nb + 1, sizeof(*fresh));
	size_t i = 0;
	int err;

	if (!fresh)
		return -ENOMEM;
	for (size_t j = 0; j < nb; j++) { /* the bindings this call adds */
		struct nat_rule k;

		bind_key(family, client, b[j].proxy, &k);
		fresh[j] = !elem_find(client_get(n, family, client), ELEM_BIND, &k);
	}
	err = nat_bind_add_all(n, family, client, b, nb);
	for (; !err && i < nr; i++)
		err = nat_allow_add(n, &r[i]);
	if (err && i > 0) { /* all or none: what went in goes again */
		while (i-- > 0)
			nat_allow_del(n, &r[i]);
		for (size_t j = 0; j < nb; j++)
			if (fresh[j])
				nat_bind_del(n, family, client, b[j].proxy);
	}
	free(fresh);
	return err;
}

int nat_add_all(struct nat *n, int family, const uint8_t *client, const struct nat_bind *b,
		size_t nb, const struct nat_rule *r, size_t nr)
{
	unsigned alen = prefix_addr_len(family);
	size_t old_n, *bump = NULL, nbump = 0;
	struct nat_client *c;
	bool overlap = false;
	int err = 0;

	if (!alen)
		return -EAFNOSUPPORT;
	if (!client || (nb && !b) || (nr && !r))
		return -EINVAL;
	for (size_t i = 0; i < nr; i++)
		if (r[i].family != family || memcmp(r[i].client, client, alen))
			return -EINVAL;
	if (nr && !(bump = calloc(nr, sizeof(*bump))))
		return -ENOMEM;
	c = client_add(n, family, client);
	if (!c) {
		free(bump);
		return -ENOMEM;
	}
	old_n = c->n;
	for (size_t i = 0; i < nb && !err; i++) {
		struct nat_elem *e;
		struct nat_rule k;

		bind_key(family, client, b[i].proxy, &k);
		e = elem_find(c, ELEM_BIND, &k);
		if (e) {
			if (memcmp(e->real, b[i].real, alen))
				err = -EEXIST;
			continue;
		}
		if (!(e = elem_new(n, c))) {
			err = -ENOMEM;
			break;
		}
		e->kind = ELEM_BIND;
		e->refs = 1;
		e->r = k;
		memcpy(e->real, b[i].real, alen);
		err = elem_text(n, true, e);
	}
	for (size_t i = 0; i < nr && !err; i++) {
		struct nat_elem *e;
		struct nat_rule k;
		enum nat_kind kind;

		if ((err = nat_rule_norm(&r[i], &k, &kind)) != 0)
			break;
		e = elem_find(c, (uint8_t)kind, &k);
		if (e) { /* counted up once the transaction is in */
			bump[nbump++] = (size_t)(e - c->elems);
			continue;
		}
		if (!(e = elem_new(n, c))) {
			err = -ENOMEM;
			break;
		}
		e->kind = (uint8_t)kind;
		e->refs = 1;
		e->r = k;
		e->layer = 0;
		err = elem_text(n, true, e);
	}
	if (!err && c->n > old_n) {
		err = ctx_run(n->nft, &n->rl, (const char *)n->cmd.data, -EEXIST);
		overlap = err == -EEXIST; /* the kernel's: an allow element overlaps */
	}
	buf_reset(&n->cmd);
	if (!err) {
		for (size_t i = 0; i < nbump; i++)
			c->elems[bump[i]].refs++;
	} else {
		n->n_elems -= c->n - old_n;
		c->n = old_n;
	}
	client_drop_if_empty(n, c);
	free(bump);
	if (overlap && nr)
		return add_one_by_one(n, family, client, b, nb, r, nr);
	return err;
}

int nat_client_flush(struct nat *n, int family, const uint8_t *client)
{
	struct nat_client *c;
	int err = 0;

	if (!prefix_addr_len(family))
		return -EAFNOSUPPORT;
	if (!client)
		return -EINVAL;
	c = client_get(n, family, client);
	if (!c)
		return 0;
	for (size_t i = 0; i < c->n && !err; i++)
		err = elem_text(n, false, &c->elems[i]);
	if (!err)
		err = nat_run(n);
	buf_reset(&n->cmd);
	if (err)
		return err;
	n->n_elems -= c->n;
	c->n = 0;
	client_drop_if_empty(n, c);
	return 0;
}
