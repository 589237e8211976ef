/* Shared by the gateway DNS tests: a private network namespace, a real
 * dnsmasq in it (the private DNS), and waiting with deadlines. Static inline so
 * each program takes what it uses. */
#ifndef SLUICE_TEST_GW_DNS_H
#define SLUICE_TEST_GW_DNS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dns/msg.h"
#include "lib/time.h"
#include "net/netlink.h"

/* The private DNS: dnsmasq on DM_ADDR:DM_PORT. Its records: */
#define DM_ADDR "127.0.0.2"
#define DM_PORT 5353
#define DM_SERVERS "127.0.0.2:5353"
/* The HTTPS record's priority, target and alpn, in hex: what stays of it
 * once its address hints are cut. */
#define DM_HTTPS_ALPN "000100" "00010003026832"

struct dnsmasq {
	pid_t pid;
	char log[64];      /* its --log-queries file */
};

/* A network namespace of our own with lo up: nothing here is seen outside. */
static inline int gw_netns(const char *prog)
{
	struct nl *nl;
	int lo, r;

	if (unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "%s: unshare(CLONE_NEWNET): %s (run as root)\n", prog,
			strerror(errno));
		return -1;
	}
	if (nl_open(&nl) < 0)
		return -1;
	lo = nl_link_index("lo");
	r = lo < 0 ? -1 : nl_link_set_up(nl, lo, true);
	nl_close(nl);
	return r < 0 ? -1 : 0;
}

/* One raw query over UDP to addr:port, waiting up to ms: the answer's length
 * or -1. */
static inline ssize_t gw_udp_ask(int family, const char *addr, uint16_t port, const char *src,
				 const uint8_t *q, size_t qlen, uint8_t *ans, size_t cap, int ms)
{
	struct sockaddr_storage to = { 0 }, from = { 0 };
	socklen_t len;
	struct pollfd p;
	ssize_t n = -1;
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&to, *b = (struct sockaddr_in *)&from;

		a->sin_family = b->sin_family = AF_INET;
		a->sin_port = htons(port);
		inet_pton(AF_INET, addr, &a->sin_addr);
		if (src)
			inet_pton(AF_INET, src, &b->sin_addr);
		len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&to,
				    *b = (struct sockaddr_in6 *)&from;

		a->sin6_family = b->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &a->sin6_addr);
		if (src)
			inet_pton(AF_INET6, src, &b->sin6_addr);
		len = sizeof(*a);
	}
	if ((src && bind(fd, (struct sockaddr *)&from, len) < 0) ||
	    connect(fd, (struct sockaddr *)&to, len) < 0 || send(fd, q, qlen, 0) != (ssize_t)qlen)
		goto out;
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (poll(&p, 1, ms) == 1)
		n = recv(fd, ans, cap, 0);
out:
	close(fd);
	return n;
}

/* A query for name/type, RD, no EDNS, into buf: its length. */
static inline size_t gw_make_query(uint8_t *buf, uint16_t id, const char *name, uint16_t type)
{
	struct dns_name n;
	size_t p = 12;

	assert_int_equal(dns_name_from_text(&n, name), 0);
	memset(buf, 0, 12);
	buf[0] = (uint8_t)(id >> 8);
	buf[1] = (uint8_t)id;
	buf[2] = 0x01; /* RD */
	buf[5] = 1;
	memcpy(buf + p, n.data, n.len);
	p += n.len;
	buf[p++] = (uint8_t)(type >> 8);
	buf[p++] = (uint8_t)type;
	buf[p++] = 0;
	buf[p++] = 1;
	return p;
}

/* Starts dnsmasq with the test records (TTL 30 unless said) and waits, with a
 * deadline, until it answers. */
static inline int dnsmasq_start(struct dnsmasq *d)
{
	uint64_t deadline;
	int fd;

	snprintf(d->log, sizeof(d->log), "/tmp/sluice-gwdns-XXXXXX");
	fd = mkstemp(d->log);
	if (fd < 0)
		return -1;
	close(fd);
	d->pid = fork();
	if (d->pid < 0)
		return -1;
	if (d->pid == 0) {
		char logopt[96];

		snprintf(logopt, sizeof(logopt), "--log-facility=%s", d->log);
		prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlives the test */
		execlp("dnsmasq", "dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
		       "--conf-file=/dev/null", "--pid-file=", "--user=root", "--bind-interfaces",
		       "--port=5353", "--listen-address=" DM_ADDR, "--local=/corp.test/",
		       "--local-ttl=30", "--log-queries", logopt,
		       "--host-record=app.corp.test,203.0.113.10,2001:db8::10",
		       "--host-record=app2.corp.test,203.0.113.12",
		       "--host-record=short.corp.test,203.0.113.11,2",
		       "--host-record=co.corp.test,203.0.113.13",
		       "--txt-record=txt.corp.test,hello world",
		       "--srv-host=_http._tcp.corp.test,app.corp.test,8080,1,2",
		       "--mx-host=corp.test,mail.corp.test,10",
		       "--cname=alias.corp.test,app.corp.test",
		       "--address=/bulk.test/203.0.113.9",
		       /* HTTPS 1 . alpn=h2 ipv4hint=203.0.113.10 ipv6hint=2001:db8::10 */
		       "--dns-rr=https.corp.test,65," DM_HTTPS_ALPN "0004" "0004cb00710a"
		       "0006" "001020010db8000000000000000000000010",
		       (char *)NULL);
		_exit(127);
	}
	deadline = time_mono_ns() + 5 * NSEC_PER_SEC;
	while (time_mono_ns() < deadline) {
		uint8_t q[64], a[512];
		size_t ql = gw_make_query(q, 1, "app.corp.test", DNS_T_TXT);

		if (gw_udp_ask(AF_INET, DM_ADDR, DM_PORT, NULL, q, ql, a, sizeof(a), 100) > 0)
			return 0;
		if (waitpid(d->pid, NULL, WNOHANG) == d->pid) {
			d->pid = 0;
			return -1;
		}
	}
	return -1;
}

static inline void dnsmasq_stop(struct dnsmasq *d)
{
	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		waitpid(d->pid, NULL, 0);
		d->pid = 0;
	}
	if (d->log[0])
		unlink(d->log);
	d->log[0] = 0;
}

/* How many lines of dnsmasq's log hold needle. */
static inline unsigned dnsmasq_count(const struct dnsmasq *d, const char *needle)
{
	char line[512];
	unsigned n = 0;
	FILE *f = fopen(d->log, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, needle))
			n++;
	fclose(f);
	return n;
}

/* Waits (deadline ms) until dnsmasq has logged needle n times. */
static inline bool dnsmasq_wait_count(const struct dnsmasq *d, const char *needle, unsigned n,
				      unsigned ms)
{
	uint64_t deadline = time_mono_ns() + ms * NSEC_PER_MSEC;

	for (;;) {
		if (dnsmasq_count(d, needle) >= n)
			return true;
		if (time_mono_ns() >= deadline)
			return false;
		poll(NULL, 0, 10);
	}
}

#endif
