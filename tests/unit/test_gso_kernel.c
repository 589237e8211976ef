/* TUN offloads: splitting super-packets (GSO) and coalescing TCP segments
 * (GRO), first on packets built here, then against the kernel, inside a
 * network namespace of the test's own:
 *
 *   local sockets 198.18.0.1 fd00:1::1
 *        |
 *   slgso0 (vnet header, CSUM|TSO4|TSO6[|USO4|USO6]) -- the test plays the
 *        |   remote ends 198.18.9.0/24 and fd00:9::/64 on its fd
 *   ip_forward
 *        |
 *   slgso1 (plain, no offloads) -- 198.18.10.0/24, fd00:10::/64: what the
 *            kernel forwards here it has segmented and checksummed itself
 *
 * (a) the kernel's TCP (and UDP_SEGMENT) super-packets read from slgso0 split
 * into valid segments; (b) a 40-segment GRO super-packet written to slgso0 in
 * one write reaches a local socket intact; (c) forwarded to slgso1, the
 * kernel's segments of our super-packets equal gso_split()'s byte for byte,
 * which proves the checksum-field convention (and two wrong ones fail). */
#include "gso_build.h"

/* Against the kernel. The test plays the remote hosts on slgso0's fd. */
struct knet {
	struct nl *nl;
	int tun0, tun1;
	bool uso;      /* the kernel may hand us UDP super-packets (Linux >= 6.2) */
	uint8_t *rbuf; /* one TUN read */
	struct outs *s;
};

/* src 198.18.9.<host> (fd00:9::<host>); dst the local address (net 0) or
 * 198.18.10.<host> (fd00:10::<host>) behind slgso1. */
static struct flow kflow(int v, int net, int host, uint16_t sport, uint16_t dport)
{
	char src[48], dst[48];

	snprintf(src, sizeof(src), v == 4 ? "198.18.9.%d" : "fd00:9::%d", host);
	if (net == 0)
		snprintf(dst, sizeof(dst), "%s", v == 4 ? "198.18.0.1" : "fd00:1::1");
	else
		snprintf(dst, sizeof(dst), v == 4 ? "198.18.10.%d" : "fd00:10::%d", host);
	return mkflow(v, src, dst, sport, dport);
}

static socklen_t saddr(struct sockaddr_storage *ss, int v, const uint8_t *a, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (v == 4) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, a, 4);
		return sizeof(*s4);
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(port);
	memcpy(&s6->sin6_addr, a, 16);
	return sizeof(*s6);
}

/* The next TCP or UDP packet with `port` at either end, skipping the kernel's
 * own chatter (router solicitations, MLD); slgso0's vnet header into h. */
static uint8_t *kread(struct knet *k, int fd, struct vnet_hdr *h, uint16_t port, size_t *len)
{
	size_t off = fd == k->tun0 ? VNET_HDR_LEN : 0, hl;
	uint8_t *p = k->rbuf + off, proto;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 3000) != 1)
			fail_msg("nothing for port %u came out of the TUN", port);
		n = read(fd, k->rbuf, BIG);
		assert_true(n > (ssize_t)off);
		*len = (size_t)n - off;
		if (p[0] >> 4 != 4 && p[0] >> 4 != 6)
			continue;
		hl = ip_hlen_of(p);
		proto = p[0] >> 4 == 4 ? p[IPV4_OFF_PROTO] : p[IPV6_OFF_NEXT];
		if ((proto != IP_PROTO_TCP && proto != IP_PROTO_UDP) || *len < hl + 4 ||
		    (g16(p + hl) != port && g16(p + hl + 2) != port))
			continue;
		if (h)
			vnet_hdr_decode(h, k->rbuf);
		return p;
	}
}

/* A packet the kernel wrote, its checksum completed: it must verify. */
static struct pkt kparse(struct knet *k, const uint8_t *pkt, size_t len, const struct vnet_hdr *h)
{
	struct pkt p;

	assert_int_equal(h->gso_type, VNET_GSO_NONE);
	assert_int_equal(gso_split(pkt, len, h, k->s->o, SEG_CAP, 0, k->s->lens, 1), 1);
	assert_int_equal(pkt_parse(&p, k->s->o[0], k->s->lens[0]), 0);
	assert_int_equal(csum_l4_verify(&p), 0);
	return p;
}

static void kwrite_plain(struct knet *k, const uint8_t *pkt, size_t len)
{
	uint8_t *b = malloc(VNET_HDR_LEN + len);

	gro_plain_hdr(b);
	memcpy(b + VNET_HDR_LEN, pkt, len);
	assert_int_equal(write(k->tun0, b, VNET_HDR_LEN + len), (ssize_t)(VNET_HDR_LEN + len));
	free(b);
}

static const uint8_t *tcp_opt(const uint8_t *th, uint8_t kind)
{
	size_t hl = (size_t)(th[TCP_OFF_DOFF] >> 4) * 4, i = TCP_HDR_LEN;

	while (i < hl && th[i]) {
		if (th[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= hl || th[i + 1] < 2)
			break;
		if (th[i] == kind)
			return th + i;
		i += th[i + 1];
	}
	return NULL;
}

static void close_rst(int s)
{
	struct linger lg = { 1, 0 }; /* RST: nothing lingers into later tests */

	setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(s);
}

/* (a) A local socket sends 60000 bytes to a "remote" the test plays, which
 * answered its SYN with MSS 1360: the kernel's TSO super-packets split into
 * the byte stream, every segment verifying. */
static void tso_read(struct knet *k, int v)
{
	enum { TOTAL = 60000 };
	uint16_t port = (uint16_t)(8000 + v); /* each run its own: RSTs linger */
	struct flow f = kflow(v, 0, 2, port, 0);
	uint8_t *data = malloc(TOTAL), *rx = malloc(TOTAL), seg[200], *pkt;
	uint8_t mss[4] = { 2, 4, 1360 >> 8, 1360 & 0xff };
	struct sockaddr_storage ss;
	struct pollfd pfd;
	struct vnet_hdr h;
	struct pkt p;
	size_t len, got = 0, sent = 0, biggest = 0;
	unsigned supers = 0, most = 0;
	int s = socket(v == 4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0), err = 1;
	socklen_t el = sizeof(err);
	uint32_t isn;

	fill(data, TOTAL, 42);
	assert_int_equal(connect(s, (struct sockaddr *)&ss, saddr(&ss, v, f.src, port)), -1);
	assert_int_equal(errno, EINPROGRESS);
	pkt = kread(k, k->tun0, &h, port, &len);
	p = kparse(k, pkt, len, &h);
	assert_int_equal(p.l4[TCP_OFF_FLAGS], TCP_FLAG_SYN);
	f.dport = p.sport;
	isn = g32(p.l4 + TCP_OFF_SEQ);
	len = mk_tcp(seg, &f, 7000, isn + 1, TCP_FLAG_SYN | TCP_FLAG_ACK, mss, 4, NULL, 0);
	kwrite_plain(k, seg, len);
	pfd = (struct pollfd){ .fd = s, .events = POLLOUT };
	assert_int_equal(poll(&pfd, 1, 2000), 1);
	assert_int_equal(getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el), 0);
	assert_int_equal(err, 0);
	while (got < TOTAL) {
		bool ack = false;
		ssize_t w;
		int n;

		if (sent < TOTAL && (w = send(s, data + sent, TOTAL - sent, MSG_DONTWAIT)) > 0)
			sent += (size_t)w;
		pkt = kread(k, k->tun0, &h, port, &len);
		n = gso_split(pkt, len, &h, k->s->o, SEG_CAP, 0, k->s->lens, SEGS);
		assert_true(n > 0);
		if (h.gso_type != VNET_GSO_NONE) {
			assert_int_equal(h.gso_type, v == 4 ? VNET_GSO_TCPV4 : VNET_GSO_TCPV6);
			assert_int_equal(h.gso_size, 1360);
			check_split(pkt, len, &h, k->s, 0, n);
			supers++;
			most = (unsigned)n > most ? (unsigned)n : most;
			biggest = len > biggest ? len : biggest;
		}
		for (int i = 0; i < n; i++) {
			uint32_t off;

			assert_int_equal(pkt_parse(&p, k->s->o[i], k->s->lens[i]), 0);
			assert_int_equal(csum_l4_verify(&p), 0);
			off = g32(p.l4 + TCP_OFF_SEQ) - (isn + 1);
			if (!p.payload_len)
				continue;
			/* A TUN loses nothing: at most a retransmission. */
			assert_true(off <= got && off + p.payload_len <= TOTAL);
			memcpy(rx + off, p.payload, p.payload_len);
			if (off + p.payload_len > got)
				got = off + p.payload_len;
			ack = true;
		}
		if (ack) {
			len = mk_tcp(seg, &f, 7001, isn + 1 + (uint32_t)got, TCP_FLAG_ACK, NULL, 0,
				     NULL, 0);
			kwrite_plain(k, seg, len);
		}
	}
	assert_memory_equal(rx, data, TOTAL);
	assert_true(supers > 0 && most > 1);
	printf("IPv%d TSO read: %u super-packets, up to %u segments (%zu bytes)\n", v, supers,
	       most, biggest);
	close_rst(s);
	free(rx);
	free(data);
}

static void test_kernel_tso_read(void **state)
{
	tso_read(*state, 4);
	tso_read(*state, 6);
}

/* A UDP_SEGMENT send comes out as one USO super-packet. */
static void test_kernel_uso_read(void **state)
{
	struct knet *k = *state;
	uint8_t data[3500], *pkt;
	struct sockaddr_storage ss;
	struct vnet_hdr h;
	size_t len;

	if (!k->uso) {
		printf("USO read: this kernel has no TUN_F_USO4/6, skipped\n");
		return;
	}
	fill(data, sizeof(data), 7);
	for (int v = 4; v <= 6; v += 2) {
		struct flow f = kflow(v, 0, 4, 0, 0);
		int s = socket(v == 4 ? AF_INET : AF_INET6, SOCK_DGRAM, 0), gso = 1000;

		assert_int_equal(setsockopt(s, SOL_UDP, UDP_SEGMENT, &gso, sizeof(gso)), 0);
		assert_int_equal(sendto(s, data, sizeof(data), 0, (struct sockaddr *)&ss,
					saddr(&ss, v, f.src, 9999)), (ssize_t)sizeof(data));
		pkt = kread(k, k->tun0, &h, 9999, &len);
		assert_int_equal(h.gso_type, VNET_GSO_UDP_L4);
		assert_int_equal(h.gso_size, 1000);
		assert_int_equal(gso_split(pkt, len, &h, k->s->o, SEG_CAP, 0, k->s->lens, SEGS), 4);
		check_split(pkt, len, &h, k->s, 0, 4);
		close(s);
	}
}

/* What the test knows of the kernel's side of a connection it plays. */
struct peer {
	uint32_t ack, edge, tsval;
	unsigned wscale;
};

static void peer_saw(struct peer *pr, const uint8_t *th)
{
	const uint8_t *ts = tcp_opt(th, 8);

	pr->ack = g32(th + TCP_OFF_ACK);
	pr->edge = pr->ack + ((uint32_t)g16(th + TCP_OFF_WINDOW) << pr->wscale);
	if (ts)
		pr->tsval = g32(ts + 2);
}

static void drain(int c, uint8_t *rx, size_t *got, size_t total)
{
	ssize_t n;

	while (*got < total && (n = recv(c, rx + *got, total - *got, MSG_DONTWAIT)) > 0)
		*got += (size_t)n;
}

/* (b) A local socket listens; the test connects through slgso0 and sends
 * 200 segments of 1400 bytes, each window's worth (up to 40) coalesced into
 * one write. The socket must read every byte. */
static void gro_local(struct knet *k, int v)
{
	enum { MSS_D = 1400, TOTAL = 200 * MSS_D };
	struct flow f = kflow(v, 0, 3, (uint16_t)(40000 + v), 5002);
	uint8_t *data = malloc(TOTAL), *rx = malloc(TOTAL), *buf = malloc(BIG), seg[1600], *pkt;
	uint8_t opt[20] = { 2, 4, MSS_D >> 8, MSS_D & 0xff, 1, 3, 3, 7 };
	struct sockaddr_storage ss;
	struct pollfd pfd;
	struct peer pr = { 0 };
	struct vnet_hdr h;
	struct gro g;
	struct pkt p;
	size_t len, got = 0, sent = 0;
	uint32_t iss = 1000000, irs, snd_nxt = iss + 1, tsv = 3;
	unsigned most = 0, writes = 0;
	int l = socket(v == 4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0), c;
	int rcvbuf = 1 << 20;
	const uint8_t *ws;

	fill(data, TOTAL, 77);
	assert_int_equal(setsockopt(l, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
	assert_int_equal(bind(l, (struct sockaddr *)&ss, saddr(&ss, v, f.dst, 5002)), 0);
	assert_int_equal(listen(l, 1), 0);
	ts_opt(opt + 8, 1, 0);
	len = mk_tcp(seg, &f, iss, 0, TCP_FLAG_SYN, opt, 20, NULL, 0);
	kwrite_plain(k, seg, len);
	pkt = kread(k, k->tun0, &h, f.sport, &len);
	p = kparse(k, pkt, len, &h);
	assert_int_equal(p.l4[TCP_OFF_FLAGS], TCP_FLAG_SYN | TCP_FLAG_ACK);
	irs = g32(p.l4 + TCP_OFF_SEQ);
	ws = tcp_opt(p.l4, 3);
	assert_non_null(ws);
	assert_non_null(tcp_opt(p.l4, 8));
	peer_saw(&pr, p.l4); /* a SYN's window is never scaled */
	pr.wscale = ws[2];
	assert_int_equal(pr.ack, snd_nxt);
	ts_opt(opt, 2, pr.tsval);
	len = mk_tcp(seg, &f, snd_nxt, irs + 1, TCP_FLAG_ACK, opt, 12, NULL, 0);
	kwrite_plain(k, seg, len);
	pfd = (struct pollfd){ .fd = l, .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 2000), 1);
	c = accept4(l, NULL, NULL, SOCK_NONBLOCK);
	assert_true(c >= 0);
	gro_init(&g, buf, BIG);
	while (sent < TOTAL / MSS_D) {
		unsigned n = (pr.edge - snd_nxt) / MSS_D;
		size_t w;

		n = n > 40 ? 40 : n;
		n = n > TOTAL / MSS_D - sent ? (unsigned)(TOTAL / MSS_D - sent) : n;
		ts_opt(opt, tsv++, pr.tsval);
		for (unsigned j = 0; j < n; j++) {
			len = mk_tcp(seg, &f, snd_nxt + j * MSS_D, irs + 1,
				     TCP_FLAG_ACK | (j == n - 1 ? TCP_FLAG_PSH : 0), opt, 12,
				     data + (sent + j) * MSS_D, MSS_D);
			assert_int_equal(gro_add(&g, seg, len), 1);
		}
		w = gro_flush(&g);
		assert_int_equal(write(k->tun0, buf, w), (ssize_t)w); /* one write */
		writes++;
		most = n > most ? n : most;
		sent += n;
		snd_nxt += n * MSS_D;
		/* Until all is acked and the window has room for a segment more,
		 * reading the socket so that it opens. */
		while ((int32_t)(pr.ack - snd_nxt) < 0 ||
		       (sent < TOTAL / MSS_D && (int32_t)(pr.edge - snd_nxt) < MSS_D)) {
			drain(c, rx, &got, TOTAL);
			pkt = kread(k, k->tun0, &h, f.sport, &len);
			if (pkt[ip_hlen_of(pkt) + TCP_OFF_FLAGS] & TCP_FLAG_ACK)
				peer_saw(&pr, pkt + ip_hlen_of(pkt));
		}
	}
	pfd = (struct pollfd){ .fd = c, .events = POLLIN };
	while (got < TOTAL) {
		assert_int_equal(poll(&pfd, 1, 2000), 1);
		drain(c, rx, &got, TOTAL);
	}
	assert_memory_equal(rx, data, TOTAL);
	assert_int_equal(most, 40);
	printf("IPv%d GRO write: %u writes for 200 segments, up to %u segments each\n", v, writes,
	       most);
	close_rst(c);
	close_rst(l);
	free(buf);
	free(rx);
	free(data);
}

static void test_kernel_gro_write(void **state)
{
	gro_local(*state, 4);
	gro_local(*state, 6);
}

/* Writes a super-packet (vnet header first) to slgso0 for slgso1: the kernel
 * segments it there itself. With the checksum convention right its segments
 * equal gso_split()'s, but for the TTL forwarding took; else their checksums
 * fail. Returns false if the kernel refused the write (EINVAL). */
static bool forward_check(struct knet *k, uint8_t *buf, size_t w, uint16_t port, bool right)
{
	struct outs *want = outs_new();
	struct vnet_hdr h;
	struct pkt p;
	int n;

	vnet_hdr_decode(&h, buf);
	n = gso_split(buf + VNET_HDR_LEN, w - VNET_HDR_LEN, &h, want->o, SEG_CAP, 0, want->lens,
		      SEGS);
	assert_true(n > 1);
	if (write(k->tun0, buf, w) != (ssize_t)w) {
		assert_int_equal(errno, EINVAL);
		outs_free(want);
		return false;
	}
	for (int i = 0; i < n; i++) {
		uint8_t *e = want->o[i], *pkt;
		size_t len;

		e[e[0] >> 4 == 4 ? IPV4_OFF_TTL : IPV6_OFF_HOP_LIMIT]--;
		refresh_ip(e);
		pkt = kread(k, k->tun1, NULL, port, &len);
		assert_int_equal(len, want->lens[i]);
		assert_int_equal(pkt_parse(&p, pkt, len), 0);
		if (right)
			assert_memory_equal(pkt, e, len);
		else
			assert_int_equal(csum_l4_verify(&p), -EBADMSG);
	}
	outs_free(want);
	return true;
}

/* Eight 1400-byte segments with timestamps, the last with PSH, coalesced. */
static size_t gro_eight(uint8_t *buf, const struct flow *f)
{
	uint8_t seg[1600], data[1400], opt[12];
	struct gro g;

	ts_opt(opt, 5, 6);
	gro_init(&g, buf, BIG);
	for (uint32_t i = 0; i < 8; i++) {
		size_t len;

		fill(data, sizeof(data), i);
		len = mk_tcp(seg, f, 1 + i * 1400, 2, TCP_FLAG_ACK | (i == 7 ? TCP_FLAG_PSH : 0),
			     opt, 12, data, sizeof(data));
		assert_int_equal(gro_add(&g, seg, len), 1);
	}
	return gro_flush(&g);
}

/* (c) */
static void forward(struct knet *k, int v)
{
	struct flow f = kflow(v, 10, 7, 1234, 80);
	uint8_t *buf = malloc(BIG), *data = malloc(5000), opt[12], *csum;
	size_t w, hl = v == 4 ? IPV4_HDR_LEN : IPV6_HDR_LEN;
	struct vnet_hdr h;
	uint32_t ps;

	/* GRO's super-packet: our convention; the complemented sum; the sum
	 * over one segment's length instead of the whole. */
	w = gro_eight(buf, &f);
	assert_true(forward_check(k, buf, w, 80, true));
	w = gro_eight(buf, &f);
	csum = buf + VNET_HDR_LEN + hl + TCP_OFF_CSUM;
	p16(csum, (uint16_t)~g16(csum));
	assert_true(forward_check(k, buf, w, 80, false));
	w = gro_eight(buf, &f);
	ps = v == 4 ? csum_ipv4_pseudo(f.src, f.dst, IP_PROTO_TCP, 32 + 1400)
		    : csum_ipv6_pseudo(f.src, f.dst, IP_PROTO_TCP, 32 + 1400);
	p16(csum, (uint16_t)ps);
	assert_true(forward_check(k, buf, w, 80, false));
	/* FIN, PSH and CWR with the ECN bit: the kernel moves the flags as
	 * gso_split() does. */
	fill(data, 5000, 3);
	ts_opt(opt, 9, 10);
	w = VNET_HDR_LEN + mk_tcp(buf + VNET_HDR_LEN, &f, 0xfffffc00, 5,
				  TCP_FLAG_ACK | TCP_FLAG_PSH | TCP_FLAG_FIN | F_CWR, opt, 12, data,
				  5000);
	h = as_kernel(buf + VNET_HDR_LEN, (v == 4 ? VNET_GSO_TCPV4 : VNET_GSO_TCPV6) | VNET_GSO_ECN,
		      1000);
	vnet_hdr_encode(buf, &h);
	assert_true(forward_check(k, buf, w, 80, true));
	/* USO written: Linux >= 6.2 segments it as gso_split() does. */
	f.dport = 4789;
	w = VNET_HDR_LEN + mk_udp(buf + VNET_HDR_LEN, &f, data, 3500);
	h = as_kernel(buf + VNET_HDR_LEN, VNET_GSO_UDP_L4, 1000);
	vnet_hdr_encode(buf, &h);
	if (!forward_check(k, buf, w, 4789, true))
		printf("IPv%d USO write: refused by this kernel, skipped\n", v);
	free(data);
	free(buf);
}

static void test_kernel_forward(void **state)
{
	forward(*state, 4);
	forward(*state, 6);
}

static void put_sysctl(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, val, strlen(val)) < 0)
			perror(path);
		close(fd);
	}
}

static int find_local(const struct nl_route *r, void *arg)
{
	return r->type == RTN_LOCAL && r->prefixlen == 128 && !memcmp(r->dst, arg, 16) ? -EEXIST
										       : 0;
}

static int kernel_setup(void **state)
{
	static struct knet k;
	static const struct {
		int dev, family;
		const char *net;
		unsigned plen;
		bool addr;
	} cfg[] = {
		{ 0, AF_INET, "198.18.0.1", 24, true }, { 0, AF_INET6, "fd00:1::1", 64, true },
		{ 0, AF_INET, "198.18.9.0", 24, false }, { 0, AF_INET6, "fd00:9::", 64, false },
		{ 1, AF_INET, "198.18.10.0", 24, false }, { 1, AF_INET6, "fd00:10::", 64, false },
	};
	char name[IFNAMSIZ];
	int ifx[2];
	unsigned base = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;

	k.tun0 = tun_open("slgso0", TUN_VNET_HDR | TUN_NONBLOCK, name);
	k.tun1 = tun_open("slgso1", TUN_NONBLOCK, name);
	if (k.tun0 < 0 || k.tun1 < 0 || nl_open(&k.nl) < 0)
		return -1;
	k.uso = tun_set_offload(k.tun0, base | TUN_F_USO4 | TUN_F_USO6) == 0;
	if (!k.uso && tun_set_offload(k.tun0, base) < 0)
		return -1;
	ifx[0] = nl_link_index("slgso0");
	ifx[1] = nl_link_index("slgso1");
	for (int i = 0; i < 2; i++)
		if (ifx[i] < 0 || nl_link_set_up(k.nl, ifx[i], true) < 0)
			return -1;
	for (size_t i = 0; i < sizeof(cfg) / sizeof(cfg[0]); i++) {
		uint8_t a[16];
		int r;

		inet_pton(cfg[i].family, cfg[i].net, a);
		r = cfg[i].addr ? nl_addr_add(k.nl, ifx[cfg[i].dev], cfg[i].family, a, cfg[i].plen)
				: nl_route_add(k.nl, ifx[cfg[i].dev], cfg[i].family, a, cfg[i].plen);
		if (r < 0)
			return -1;
	}
	/* An IPv6 address takes packets only once its DAD work has run, which
	 * a busy machine may delay: wait for its local route. */
	uint8_t a6[16];

	inet_pton(AF_INET6, "fd00:1::1", a6);
	for (int i = 0; nl_route_dump(k.nl, AF_INET6, find_local, a6) != -EEXIST; i++) {
		if (i == 300)
			return -1;
		usleep(10000);
	}
	put_sysctl("/proc/sys/net/ipv4/ip_forward", "1");
	put_sysctl("/proc/sys/net/ipv6/conf/all/forwarding", "1");
	k.rbuf = malloc(BIG);
	k.s = outs_new();
	*state = &k;
	return k.rbuf ? 0 : -1;
}

static int kernel_teardown(void **state)
{
	struct knet *k = *state;

	outs_free(k->s);
	free(k->rbuf);
	nl_close(k->nl);
	close(k->tun1);
	close(k->tun0);
	return 0;
}

int main(void)
{
	const struct CMUnitTest kernel[] = {
		cmocka_unit_test(test_kernel_tso_read),
		cmocka_unit_test(test_kernel_uso_read),
		cmocka_unit_test(test_kernel_gro_write),
		cmocka_unit_test(test_kernel_forward),
	};

	if (unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "test_gso_kernel: unshare(CLONE_NEWNET): %s (run as root)\n",
			strerror(errno));
		return 1;
	}
	return cmocka_run_group_tests_name("gso_kernel", kernel, kernel_setup, kernel_teardown);
}
