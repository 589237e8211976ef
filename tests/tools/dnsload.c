/* dnsload: a UDP DNS load generator that batches (sendmmsg/recvmmsg), for the
 * benchmarks. dnsperf spends ~7 us of CPU per query, so on a 2-core machine it,
 * not the server, sets the ceiling for fast servers; dnsload spends a fraction
 * of that, which leaves the server under test as the limit.
 *
 *   dnsload -s ADDR [-p PORT] -d FILE [-l SECONDS] [-c SOCKETS] [-q OUTSTANDING]
 *
 * FILE is dnsperf's format: "name TYPE" a line (A, AAAA, TXT, MX, NS, ANY or a
 * number). Queries go round the file; each socket keeps its share of OUTSTANDING
 * queries in flight, a query unanswered after 1 s counts as lost. At the end it
 * prints, in dnsperf's words so scripts read both alike:
 *   Queries sent: N / Queries completed: N / Queries lost: N /
 *   Queries per second: X / Average Latency (s): Y */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { BATCH = 64, QMAX = 300, SOCKS_MAX = 64, WINDOW_MAX = 4096 };

struct query {
	uint8_t wire[QMAX];
	size_t len;
};

struct sock {
	int fd;
	unsigned window, inflight;
	uint64_t sent_at[WINDOW_MAX]; /* by ID; 0: free */
	uint16_t free_ids[WINDOW_MAX];
	unsigned n_free;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int qtype(const char *t)
{
	static const struct { const char *n; int v; } map[] = {
		{ "A", 1 }, { "NS", 2 }, { "CNAME", 5 }, { "SOA", 6 }, { "PTR", 12 },
		{ "MX", 15 }, { "TXT", 16 }, { "AAAA", 28 }, { "SRV", 33 }, { "ANY", 255 },
	};
	char *end;
	long v;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcasecmp(t, map[i].n))
			return map[i].v;
	v = strtol(t, &end, 10);
	return *end || v < 1 || v > 65535 ? -1 : (int)v;
}

/* A query with RD and no EDNS, as dnsperf sends without -e. */
static int encode(const char *name, int type, struct query *q)
{
	size_t p = 12;
	const char *s = name;

	memset(q->wire, 0, 12);
	q->wire[2] = 0x01; /* RD */
	q->wire[5] = 1;    /* QDCOUNT */
	while (*s && strcmp(s, ".")) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);

		if (l == 0 || l > 63 || p + 1 + l + 5 > QMAX)
			return -1;
		q->wire[p++] = (uint8_t)l;
		memcpy(q->wire + p, s, l);
		p += l;
		s += l + (dot ? 1 : 0);
	}
	q->wire[p++] = 0;
	q->wire[p++] = (uint8_t)(type >> 8);
	q->wire[p++] = (uint8_t)type;
	q->wire[p++] = 0;
	q->wire[p++] = 1; /* IN */
	q->len = p;
	return 0;
}

static struct query *load(const char *path, size_t *n)
{
	FILE *f = fopen(path, "r");
	struct query *qs = NULL;
	size_t cap = 0;
	char line[512], name[300], type[32];

	*n = 0;
	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		int t;

		if (sscanf(line, "%299s %31s", name, type) != 2 || (t = qtype(type)) < 0)
			continue;
		if (*n == cap) {
			struct query *nq = realloc(qs, (cap = cap ? 2 * cap : 1024) * sizeof(*qs));

			if (!nq)
				break;
			qs = nq;
		}
		if (encode(name, t, &qs[*n]) == 0)
			(*n)++;
	}
	fclose(f);
	return qs;
}

int main(int argc, char **argv)
{
	const char *server = NULL, *file = NULL;
	unsigned port = 53, nsocks = 4, outstanding = 256;
	double secs = 10;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct pollfd pfd[SOCKS_MAX];
	static struct sock socks[SOCKS_MAX];
	struct query *qs;
	size_t nq, next = 0;
	uint64_t sent = 0, done = 0, lost = 0, lat_sum = 0, start, end, last_sweep;
	int c;

	while ((c = getopt(argc, argv, "s:p:d:l:c:q:")) != -1) {
		switch (c) {
		case 's': server = optarg; break;
		case 'p': port = (unsigned)atoi(optarg); break;
		case 'd': file = optarg; break;
		case 'l': secs = atof(optarg); break;
		case 'c': nsocks = (unsigned)atoi(optarg); break;
		case 'q': outstanding = (unsigned)atoi(optarg); break;
		default: goto usage;
		}
	}
	if (!server || !file || inet_pton(AF_INET, server, &sa.sin_addr) != 1 || !port ||
	    port > 65535 || !nsocks || nsocks > SOCKS_MAX || outstanding < nsocks ||
	    outstanding / nsocks > WINDOW_MAX || secs <= 0)
		goto usage;
	sa.sin_port = htons((uint16_t)port);
	qs = load(file, &nq);
	if (!qs || !nq) {
		fprintf(stderr, "dnsload: no queries in %s\n", file);
		return 1;
	}
	for (unsigned i = 0; i < nsocks; i++) {
		struct sock *k = &socks[i];
		int buf = 4 << 20;

		k->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		if (k->fd < 0 || connect(k->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			perror("dnsload: socket");
			return 1;
		}
		setsockopt(k->fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
		setsockopt(k->fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
		k->window = outstanding / nsocks;
		for (unsigned j = 0; j < k->window; j++)
			k->free_ids[k->n_free++] = (uint16_t)j;
		pfd[i] = (struct pollfd){ .fd = k->fd, .events = POLLIN };
	}

	start = last_sweep = now_ns();
	end = start + (uint64_t)(secs * 1e9);
	for (;;) {
		uint64_t t = now_ns();

		if (t >= end)
			break;
		for (unsigned i = 0; i < nsocks; i++) {
			struct sock *k = &socks[i];
			struct mmsghdr mm[BATCH];
			struct iovec iov[BATCH];
			uint8_t out[BATCH][QMAX];
			unsigned n = 0;
			int r;

			while (k->n_free && n < BATCH) {
				const struct query *q = &qs[next++ % nq];
				uint16_t id = k->free_ids[--k->n_free];

				memcpy(out[n], q->wire, q->len);
				out[n][0] = (uint8_t)(id >> 8);
				out[n][1] = (uint8_t)id;
				k->sent_at[id] = t;
				iov[n] = (struct iovec){ .iov_base = out[n], .iov_len = q->len };
				mm[n] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[n],
								       .msg_iovlen = 1 } };
				n++;
			}
			r = n ? sendmmsg(k->fd, mm, n, 0) : 0;
			if (r < 0)
				r = 0;
			/* What did not go out goes back to the free list. */
			for (unsigned j = (unsigned)r; j < n; j++) {
				uint16_t id = (uint16_t)(out[j][0] << 8 | out[j][1]);

				k->sent_at[id] = 0;
				k->free_ids[k->n_free++] = id;
			}
			sent += (unsigned)r;
		}
		if (poll(pfd, nsocks, 1) < 0 && errno != EINTR)
			break;
		t = now_ns();
		for (unsigned i = 0; i < nsocks; i++) {
			struct sock *k = &socks[i];
			uint8_t in[BATCH][512];
			struct mmsghdr mm[BATCH];
			struct iovec iov[BATCH];
			int r;

			if (!(pfd[i].revents & POLLIN))
				continue;
			for (unsigned j = 0; j < BATCH; j++) {
				iov[j] = (struct iovec){ .iov_base = in[j], .iov_len = sizeof(in[j]) };
				mm[j] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[j],
								       .msg_iovlen = 1 } };
			}
			r = recvmmsg(k->fd, mm, BATCH, MSG_DONTWAIT, NULL);
			for (int j = 0; j < r; j++) {
				uint16_t id;

				if (mm[j].msg_len < 12 || !(in[j][2] & 0x80))
					continue;
				id = (uint16_t)(in[j][0] << 8 | in[j][1]);
				if (id >= k->window || !k->sent_at[id])
					continue; /* late: already counted lost */
				lat_sum += t - k->sent_at[id];
				k->sent_at[id] = 0;
				k->free_ids[k->n_free++] = id;
				done++;
			}
		}
		if (t - last_sweep >= 100000000ull) { /* every 100 ms: the lost */
			last_sweep = t;
			for (unsigned i = 0; i < nsocks; i++) {
				struct sock *k = &socks[i];

				for (unsigned id = 0; id < k->window; id++) {
					if (k->sent_at[id] && t - k->sent_at[id] > 1000000000ull) {
						k->sent_at[id] = 0;
						k->free_ids[k->n_free++] = (uint16_t)id;
						lost++;
					}
				}
			}
		}
	}
	end = now_ns();
	printf("  Queries sent:         %llu\n", (unsigned long long)sent);
	printf("  Queries completed:    %llu\n", (unsigned long long)done);
	printf("  Queries lost:         %llu\n", (unsigned long long)lost);
	printf("  Queries per second:   %f\n", (double)done / ((double)(end - start) / 1e9));
	printf("  Average Latency (s):  %f\n", done ? (double)lat_sum / (double)done / 1e9 : 0.0);
	free(qs);
	return 0;
usage:
	fprintf(stderr, "usage: dnsload -s ADDR [-p PORT] -d FILE [-l SECONDS] [-c SOCKETS] "
			"[-q OUTSTANDING]\n");
	return 2;
}
