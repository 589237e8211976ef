/* The UAPI server against a fake in-memory device: the real `wg` tool (set, show
 * dump, showconf, syncconf, remove), raw requests (malformed, pipelined,
 * truncated, oversized, idle), and the socket file's life (stale, in use,
 * deleted). Needs root for /var/run/wireguard, and wg(8); skipped without. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/time.h"
#include "wg/uapi.h"
#include "wg/uapi_server.h"

extern char **environ;

#define IFNAME "sltestuapi0"
#define SOCK "/var/run/wireguard/" IFNAME ".sock"
#define PEER_B64 "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw="

/* ---- a fake device: applies a whole set to a copy, then commits ---------- */

struct fake_peer {
	uint8_t pub[32], psk[32];
	union uapi_endpoint ep;
	uint16_t keepalive;
	struct uapi_allowed_ip aips[16];
	size_t n_aips;
};

struct fake {
	uint8_t priv[32];
	uint16_t port;
	uint32_t fwmark;
	struct fake_peer peers[8];
	size_t n_peers;
	unsigned sets;
	int fail_get;
};

/* Same family, length and masked address: the same table entry. */
static bool same_prefix(const struct uapi_allowed_ip *a, const struct uapi_allowed_ip *b)
{
	const uint8_t *x = (const uint8_t *)&a->ip6, *y = (const uint8_t *)&b->ip6;

	if (a->family != b->family || a->cidr != b->cidr)
		return false;
	for (unsigned i = 0; i < a->cidr; i++)
		if ((x[i / 8] ^ y[i / 8]) & (0x80 >> (i % 8)))
			return false;
	return true;
}

static int fake_apply_peer(struct fake *f, const struct uapi_set_peer *sp)
{
	struct fake_peer *p = NULL;

	for (size_t i = 0; i < f->n_peers && !p; i++)
		if (!memcmp(f->peers[i].pub, sp->public_key, 32))
			p = &f->peers[i];
	if (sp->flags & UAPI_PEER_REMOVE) {
		if (p)
			*p = f->peers[--f->n_peers];
		return 0;
	}
	if (!p) {
		if (sp->flags & UAPI_PEER_UPDATE_ONLY)
			return 0;
		if (f->n_peers == 8)
			return -ENOSPC;
		p = &f->peers[f->n_peers++];
		memset(p, 0, sizeof(*p));
		memcpy(p->pub, sp->public_key, 32);
	}
	if (sp->flags & UAPI_PEER_PRESHARED_KEY)
		memcpy(p->psk, sp->preshared_key, 32);
	if (sp->flags & UAPI_PEER_ENDPOINT)
		p->ep = sp->endpoint;
	if (sp->flags & UAPI_PEER_KEEPALIVE)
		p->keepalive = sp->persistent_keepalive;
	if (sp->flags & UAPI_PEER_REPLACE_ALLOWED_IPS)
		p->n_aips = 0;
	for (size_t i = 0; i < sp->n_allowed_ips; i++) {
		const struct uapi_allowed_ip *a = &sp->allowed_ips[i];
		size_t j = 0;

		while (j < p->n_aips && !same_prefix(&p->aips[j], a))
			j++;
		if (a->remove && j < p->n_aips)
			p->aips[j] = p->aips[--p->n_aips];
		else if (!a->remove && j == p->n_aips && p->n_aips < 16)
			p->aips[p->n_aips++] = *a;
	}
	return 0;
}

static int fake_set(void *arg, const struct uapi_set *s)
{
	struct fake *f = arg, next = *f;
	int ret;

	if ((s->flags & UAPI_SET_LISTEN_PORT) && s->listen_port == 1)
		return -EADDRINUSE; /* the fake's "port taken" */
	if (s->flags & UAPI_SET_PRIVATE_KEY)
		memcpy(next.priv, s->private_key, 32);
	if (s->flags & UAPI_SET_LISTEN_PORT)
		next.port = s->listen_port;
	if (s->flags & UAPI_SET_FWMARK)
		next.fwmark = s->fwmark;
	if (s->flags & UAPI_SET_REPLACE_PEERS)
		next.n_peers = 0;
	for (size_t i = 0; i < s->n_peers; i++) {
		ret = fake_apply_peer(&next, &s->peers[i]);
		if (ret)
			return ret;
	}
	next.sets++;
	*f = next;
	return 0;
}

static int fake_get(void *arg, struct buf *out)
{
	struct fake *f = arg;
	struct uapi_device_info d = { .listen_port = f->port, .fwmark = f->fwmark };
	int ret;

	if (f->fail_get)
		return f->fail_get;
	memcpy(d.private_key, f->priv, 32);
	ret = wg_uapi_format_device(out, &d);
	for (size_t i = 0; !ret && i < f->n_peers; i++) {
		const struct fake_peer *p = &f->peers[i];
		struct uapi_peer_info pi = {
			.endpoint = p->ep, .persistent_keepalive = p->keepalive,
			.allowed_ips = p->aips, .n_allowed_ips = p->n_aips,
		};

		memcpy(pi.public_key, p->pub, 32);
		memcpy(pi.preshared_key, p->psk, 32);
		ret = wg_uapi_format_peer(out, &pi);
	}
	return ret;
}

static const struct uapi_ops fake_ops = { .get = fake_get, .set = fake_set };

struct env {
	struct uapi_server *srv;
	struct fake fake;
};

static void pump(struct env *e, int ms)
{
	struct pollfd p = { .fd = wg_uapi_server_fd(e->srv), .events = POLLIN };

	poll(&p, 1, ms);
	assert_int_equal(wg_uapi_server_handle(e->srv, &fake_ops, &e->fake), 0);
}

/* ---- running wg while serving it ---------------------------------------- */

struct run {
	char out[8192], err[2048];
	size_t out_len, err_len;
	int status;
};

static void drain(int *fd, char *dst, size_t cap, size_t *len)
{
	ssize_t r = read(*fd, dst + *len, cap - 1 - *len);

	if (r > 0) {
		*len += (size_t)r;
		dst[*len] = '\0';
	} else if (r == 0 || errno != EAGAIN) {
		close(*fd);
		*fd = -1;
	}
}

static int run_wg(struct env *e, struct run *r, const char *input, const char *const argv[])
{
	int in[2], out[2], err[2];
	posix_spawn_file_actions_t fa;
	uint64_t deadline = time_mono_ns() + 10 * NSEC_PER_SEC;
	bool exited = false;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	assert_int_equal(pipe2(in, O_CLOEXEC) | pipe2(out, O_CLOEXEC) | pipe2(err, O_CLOEXEC), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);
	assert_int_equal(posix_spawnp(&pid, "wg", &fa, NULL, (char *const *)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	if (input)
		assert_int_equal(write(in[1], input, strlen(input)), (ssize_t)strlen(input));
	close(in[1]);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(err[0], F_SETFL, O_NONBLOCK);
	while (!exited || out[0] >= 0 || err[0] >= 0) {
		struct pollfd p[3] = {
			{ .fd = wg_uapi_server_fd(e->srv), .events = POLLIN },
			{ .fd = out[0], .events = POLLIN },
			{ .fd = err[0], .events = POLLIN },
		};

		if (time_mono_ns() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			fail_msg("wg %s timed out", argv[1]);
		}
		poll(p, 3, 50);
		assert_int_equal(wg_uapi_server_handle(e->srv, &fake_ops, &e->fake), 0);
		if (out[0] >= 0)
			drain(&out[0], r->out, sizeof(r->out), &r->out_len);
		if (err[0] >= 0)
			drain(&err[0], r->err, sizeof(r->err), &r->err_len);
		if (!exited && waitpid(pid, &r->status, WNOHANG) == pid)
			exited = true;
	}
	return WIFEXITED(r->status) ? WEXITSTATUS(r->status) : -1;
}

/* ---- raw clients ---------------------------------------------------------- */

static int client_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Sends req (shutting the write side if asked), then reads until `replies`
 * "\n\n"-ended answers or the end. Returns bytes read; *closed on EOF. */
static size_t exchange(struct env *e, int fd, const char *req, size_t len, bool shut,
		       int replies, char *dst, size_t cap, bool *closed)
{
	size_t sent = 0, got = 0;
	uint64_t deadline = time_mono_ns() + 10 * NSEC_PER_SEC;

	*closed = false;
	while (time_mono_ns() < deadline) {
		ssize_t r;
		int seen = 0;

		if (sent < len) {
			r = send(fd, req + sent, len - sent, MSG_NOSIGNAL);
			if (r > 0)
				sent += (size_t)r;
			else if (errno == EPIPE)
				sent = len; /* the server stopped reading */
		}
		if (sent == len && shut) {
			shutdown(fd, SHUT_WR);
			shut = false;
		}
		pump(e, 5);
		r = recv(fd, dst + got, cap - 1 - got, 0);
		if (r > 0)
			got += (size_t)r;
		dst[got] = '\0';
		if (r == 0 || (r < 0 && errno == ECONNRESET)) {
			*closed = true;
			return got;
		}
		for (const char *p = dst; (p = strstr(p, "\n\n")); p += 2)
			seen++;
		if (replies && seen >= replies && sent == len)
			return got;
	}
	fail_msg("no answer");
	return 0;
}

static const char *dump_line(char *dst, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static const char *dump_line(char *dst, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, cap, fmt, ap);
	va_end(ap);
	return dst;
}

static int setup(void **state)
{
	static struct env e;
	struct run r;

	if (getuid() != 0)
		return 0; /* tests skip */
	memset(&e, 0, sizeof(e));
	if (wg_uapi_server_open(IFNAME, &e.srv))
		return -1;
	if (run_wg(&e, &r, NULL, (const char *const[]){ "wg", "--version", NULL }) != 0) {
		wg_uapi_server_close(e.srv);
		e.srv = NULL;
	}
	*state = &e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	if (e && e->srv) {
		wg_uapi_server_close(e->srv);
		e->srv = NULL;
		if (access(SOCK, F_OK) == 0)
			return -1;
	}
	return 0;
}

static struct env *need_env(void **state)
{
	struct env *e = *state;

	if (!e || !e->srv)
		skip(); /* not root, or no wg(8) */
	return e;
}

static void test_wg_tool(void **state)
{
	struct env *e = need_env(state);
	uint8_t priv[32], pub[32], peer[32], pub2[32], psk[32];
	char priv64[64], pub64[64], pub2_64[64], psk64[64], keyfile[] = "/tmp/sltestuapiXXXXXX";
	char conffile[] = "/tmp/sltestuapiXXXXXX", want[1024], conf[1024];
	struct fake before;
	struct run r;
	int fd;

	randombytes_buf(priv, 32);
	priv[0] &= 248;
	priv[31] = (priv[31] & 127) | 64;
	crypto_scalarmult_base(pub, priv);
	sodium_bin2base64(priv64, sizeof(priv64), priv, 32, sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(pub64, sizeof(pub64), pub, 32, sodium_base64_VARIANT_ORIGINAL);
	assert_int_equal(sodium_base642bin(peer, 32, PEER_B64, strlen(PEER_B64), NULL, NULL, NULL,
					   sodium_base64_VARIANT_ORIGINAL), 0);
	fd = mkstemp(keyfile);
	assert_true(fd >= 0);
	assert_int_equal(dprintf(fd, "%s\n", priv64), (int)strlen(priv64) + 1);
	close(fd);

	assert_int_equal(run_wg(e, &r, NULL, (const char *const[]){
		"wg", "set", IFNAME, "private-key", keyfile, "listen-port", "51999",
		"peer", PEER_B64, "allowed-ips", "198.18.0.0/24,fd00::/64",
		"endpoint", "198.51.100.1:51820", "persistent-keepalive", "25", NULL }), 0);
	assert_int_equal(e->fake.sets, 1);
	assert_memory_equal(e->fake.priv, priv, 32);
	assert_int_equal(e->fake.port, 51999);
	assert_int_equal(e->fake.n_peers, 1);
	assert_memory_equal(e->fake.peers[0].pub, peer, 32);
	assert_int_equal(e->fake.peers[0].keepalive, 25);
	assert_int_equal(e->fake.peers[0].ep.in4.sin_addr.s_addr, inet_addr("198.51.100.1"));
	assert_int_equal(ntohs(e->fake.peers[0].ep.in4.sin_port), 51820);
	assert_int_equal(e->fake.peers[0].n_aips, 2);
	assert_int_equal(e->fake.peers[0].aips[0].cidr, 24);
	assert_int_equal(e->fake.peers[0].aips[1].family, AF_INET6);

	/* wg prints what the fake holds, as it does for wireguard-go */
	assert_int_equal(run_wg(e, &r, NULL, (const char *const[]){
		"wg", "show", IFNAME, "dump", NULL }), 0);
	dump_line(want, sizeof(want), "%s\t%s\t51999\toff\n" PEER_B64 "\t(none)\t"
		  "198.51.100.1:51820\t198.18.0.0/24,fd00::/64\t0\t0\t0\t25\n", priv64, pub64);
	assert_string_equal(r.out, want);
	assert_int_equal(run_wg(e, &r, NULL, (const char *const[]){
		"wg", "showconf", IFNAME, NULL }), 0);
	dump_line(want, sizeof(want), "[Interface]\nListenPort = 51999\nPrivateKey = %s\n\n"
		  "[Peer]\nPublicKey = " PEER_B64 "\nAllowedIPs = 198.18.0.0/24, fd00::/64\n"
		  "Endpoint = 198.51.100.1:51820\nPersistentKeepalive = 25\n", priv64);
	assert_string_equal(r.out, want);

	/* a malformed set: errno=-22 as wireguard-go, and nothing applied */
	before = e->fake;
	{
		static const char bad[] = "set=1\nlisten_port=abc\n\n";
		char reply[256];
		bool closed;
		int c = client_connect(SOCK);

		exchange(e, c, bad, strlen(bad), false, 1, reply, sizeof(reply), &closed);
		assert_string_equal(reply, "errno=-22\n\n");
		assert_false(closed);
		/* the connection goes on: a get on it answers */
		exchange(e, c, "get=1\n\n", 7, false, 1, reply, sizeof(reply), &closed);
		assert_non_null(strstr(reply, "listen_port=51999\n"));
		close(c);
	}
	assert_memory_equal(&e->fake, &before, sizeof(before));

	/* the device's own error goes back to wg, which reports it */
	assert_int_not_equal(run_wg(e, &r, NULL, (const char *const[]){
		"wg", "set", IFNAME, "listen-port", "1", NULL }), 0);
	assert_non_null(strstr(r.err, "Address already in use"));
	assert_memory_equal(&e->fake, &before, sizeof(before));

	/* syncconf: a get, then a set that leaves exactly the file's peers */
	randombytes_buf(psk, 32); /* a private key for now: its public key below */
	assert_int_equal(crypto_scalarmult_base(pub2, psk), 0);
	randombytes_buf(psk, 32);
	sodium_bin2base64(pub2_64, sizeof(pub2_64), pub2, 32, sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(psk64, sizeof(psk64), psk, 32, sodium_base64_VARIANT_ORIGINAL);
	dump_line(conf, sizeof(conf), "[Interface]\nPrivateKey = %s\nListenPort = 51998\n\n"
		  "[Peer]\nPublicKey = %s\nPresharedKey = %s\nAllowedIPs = 10.9.0.0/16\n",
		  priv64, pub2_64, psk64);
	fd = mkstemp(conffile);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, conf, strlen(conf)), (ssize_t)strlen(conf));
	close(fd);
	assert_int_equal(run_wg(e, &r, NULL, (const char *const[]){
		"wg", "syncconf", IFNAME, conffile, NULL }), 0);
	assert_int_equal(e->fake.port, 51998);
	assert_int_equal(e->fake.n_peers, 1);
	assert_memory_equal(e->fake.peers[0].pub, pub2, 32);
	assert_memory_equal(e->fake.peers[0].psk, psk, 32);
	assert_int_equal(run_wg(e, &r, NULL, (const char *const[]){
		"wg", "show", IFNAME, "preshared-keys", NULL }), 0);
	dump_line(want, sizeof(want), "%s\t%s\n", pub2_64, psk64);
	assert_string_equal(r.out, want);
	/* a link-local endpoint keeps its zone both ways */
	assert_int_equal(run_wg(e, &r, NULL, (const char *const[]){
		"wg", "set", IFNAME, "peer", pub2_64, "endpoint", "[fe80::1%lo]:5", NULL }), 0);
	assert_int_equal(e->fake.peers[0].ep.in6.sin6_scope_id, if_nametoindex("lo"));
	assert_int_equal(run_wg(e, &r, NULL, (const char *const[]){
		"wg", "show", IFNAME, "endpoints", NULL }), 0);
	dump_line(want, sizeof(want), "%s\t[fe80::1%%lo]:5\n", pub2_64);
	assert_string_equal(r.out, want);
	assert_int_equal(run_wg(e, &r, NULL, (const char *const[]){
		"wg", "set", IFNAME, "peer", pub2_64, "remove", NULL }), 0);
	assert_int_equal(e->fake.n_peers, 0);
	/* wg setconf replaces everything; "wg show" lists the interface */
	assert_int_equal(run_wg(e, &r, NULL, (const char *const[]){
		"wg", "setconf", IFNAME, conffile, NULL }), 0);
	assert_int_equal(e->fake.n_peers, 1);
	assert_int_equal(run_wg(e, &r, NULL, (const char *const[]){
		"wg", "show", "interfaces", NULL }), 0);
	assert_non_null(strstr(r.out, IFNAME));

	explicit_bzero(priv, sizeof(priv));
	unlink(keyfile);
	unlink(conffile);
}

static void test_raw_protocol(void **state)
{
	struct env *e = need_env(state);
	char reply[4096];
	struct fake before;
	bool closed;
	int c;

	before = e->fake;
	/* two requests in one write: two answers, in order */
	c = client_connect(SOCK);
	exchange(e, c, "get=1\n\nset=1\nfwmark=0\n\n", 23, false, 2, reply, sizeof(reply),
		 &closed);
	assert_non_null(strstr(reply, "errno=0\n\nerrno=0\n\n"));
	close(c);
	/* "get=1\n" then not a blank line: -EINVAL, then the rest is an op */
	c = client_connect(SOCK);
	exchange(e, c, "get=1\nxget=1\n\n", 14, false, 2, reply, sizeof(reply), &closed);
	assert_memory_equal(reply, "errno=-22\n\n", 11);
	assert_non_null(strstr(reply + 11, "errno=0\n\n"));
	close(c);
	/* not an operation: closed without an answer */
	c = client_connect(SOCK);
	assert_int_equal(exchange(e, c, "hello\n", 6, false, 0, reply, sizeof(reply), &closed), 0);
	assert_true(closed);
	close(c);
	/* the stream ends inside a set: -EPROTO, nothing applied */
	c = client_connect(SOCK);
	exchange(e, c, "set=1\nlisten_port=5\n", 20, true, 0, reply, sizeof(reply), &closed);
	assert_string_equal(reply, "errno=-71\n\n");
	assert_true(closed);
	close(c);
	/* a failing get sends only the error */
	e->fake.fail_get = -ENOMEM;
	c = client_connect(SOCK);
	exchange(e, c, "get=1\n\n", 7, false, 1, reply, sizeof(reply), &closed);
	assert_string_equal(reply, "errno=-12\n\n");
	close(c);
	e->fake.fail_get = 0;
	before.sets = e->fake.sets; /* the fwmark=0 set above counted */
	assert_memory_equal(&e->fake, &before, sizeof(before));
}

static void test_raw_limits(void **state)
{
	struct env *e = need_env(state);
	int c[UAPI_SERVER_MAX_CONNS + 1];
	char reply[256], *big;
	bool closed;
	uint64_t t0;
	size_t n = (size_t)UAPI_MAX_REQUEST + 4096;

	/* past the request cap: -E2BIG, the rest unread */
	big = malloc(n);
	assert_non_null(big);
	memcpy(big, "set=1\n", 6);
	for (size_t i = 6; i < n; i++)
		big[i] = i % 64 ? 'a' : '\n';
	c[0] = client_connect(SOCK);
	exchange(e, c[0], big, n, false, 1, reply, sizeof(reply), &closed);
	assert_string_equal(reply, "errno=-7\n\n");
	close(c[0]);
	free(big);

	/* the slot after the last is turned away */
	for (size_t i = 0; i <= UAPI_SERVER_MAX_CONNS; i++) {
		c[i] = client_connect(SOCK);
		pump(e, 5);
	}
	assert_int_equal(exchange(e, c[UAPI_SERVER_MAX_CONNS], "", 0, false, 0, reply,
				  sizeof(reply), &closed), 0);
	assert_true(closed);
	/* idle ones are dropped after the timeout */
	wg_uapi_server_set_idle_timeout(e->srv, 100);
	t0 = time_mono_ns();
	exchange(e, c[0], "", 0, false, 0, reply, sizeof(reply), &closed);
	assert_true(closed);
	assert_true(time_mono_ns() - t0 < 5 * NSEC_PER_SEC);
	for (size_t i = 0; i <= UAPI_SERVER_MAX_CONNS; i++)
		close(c[i]);
	wg_uapi_server_set_idle_timeout(e->srv, UAPI_SERVER_IDLE_MS);
}

static void test_socket_file(void **state)
{
	struct env *e = need_env(state);
	struct uapi_server *other;
	struct stat st;
	int fd;

	assert_int_equal(stat(SOCK, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_true(S_ISSOCK(st.st_mode));
	/* a live server holds the name */
	assert_int_equal(wg_uapi_server_open(IFNAME, &other), -EADDRINUSE);
	assert_null(other);
	assert_int_equal(wg_uapi_server_open("", &other), -EINVAL);
	assert_int_equal(wg_uapi_server_open("a/b", &other), -EINVAL);
	assert_int_equal(wg_uapi_server_open("..", &other), -EINVAL);
	assert_int_equal(wg_uapi_server_open("sixteen_chars_xx", &other), -EINVAL);

	/* a stale socket file is replaced; a regular file is not touched */
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX,
					  .sun_path = "/var/run/wireguard/sltestuapi1.sock" };

		unlink(sa.sun_path);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		close(fd);
		assert_int_equal(wg_uapi_server_open("sltestuapi1", &other), 0);
		/* deleting the file tells the owner to go */
		assert_int_equal(wg_uapi_server_handle(other, &fake_ops, &e->fake), 0);
		unlink(sa.sun_path);
		assert_int_equal(wg_uapi_server_handle(other, &fake_ops, &e->fake), -ENOENT);
		wg_uapi_server_close(other);
		fd = open(sa.sun_path, O_CREAT | O_WRONLY, 0600);
		close(fd);
		assert_int_equal(wg_uapi_server_open("sltestuapi1", &other), -EEXIST);
		assert_int_equal(stat(sa.sun_path, &st), 0);
		unlink(sa.sun_path);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wg_tool),
		cmocka_unit_test(test_raw_protocol),
		cmocka_unit_test(test_raw_limits),
		cmocka_unit_test(test_socket_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
