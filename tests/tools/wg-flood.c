/* wg-flood: a handshake flood for the DoS test. Sends initiations that pass
 * mac1 (so they reach the expensive part of a responder that is not defending
 * itself) but can never complete, as fast as it can for a given time, and counts
 * the cookie replies that come back.
 *
 *   wg-flood --target ADDR:PORT --pubkey BASE64 --seconds N
 * Prints "sent N initiations, got M cookie replies" and exits 0. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/rand.h"
#include "lib/time.h"
#include "wg/crypto.h"
#include "wg/wg_wire.h"

enum { N_MSGS = 64 };

static int parse_target(const char *s, struct sockaddr_in *out)
{
	char host[64];
	const char *colon = strrchr(s, ':');

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	*out = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1)) };
	return inet_pton(AF_INET, host, &out->sin_addr) == 1 ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "target", required_argument, NULL, 't' },
		{ "pubkey", required_argument, NULL, 'k' },
		{ "seconds", required_argument, NULL, 's' },
		{ 0 },
	};
	uint8_t pub[WG_KEY_LEN], mac1key[WG_HASH_LEN], msgs[N_MSGS][WG_INITIATION_LEN], buf[256];
	struct sockaddr_in to = { 0 };
	struct mmsghdr mm[N_MSGS];
	struct iovec iov[N_MSGS];
	struct wg_crypto *c;
	unsigned long sent = 0, cookies = 0;
	double seconds = 5;
	uint64_t end;
	int fd, opt;
	bool have_target = false, have_key = false;

	while ((opt = getopt_long(argc, argv, "t:k:s:", opts, NULL)) != -1) {
		switch (opt) {
		case 't':
			have_target = parse_target(optarg, &to) == 0;
			break;
		case 'k':
			have_key = wg_key_from_base64(pub, optarg) == 0;
			break;
		case 's':
			seconds = atof(optarg);
			break;
		default:
			return 2;
		}
	}
	if (!have_target || !have_key || seconds <= 0) {
		fprintf(stderr, "usage: wg-flood --target IPV4:PORT --pubkey BASE64 --seconds N\n");
		return 2;
	}
	if (wg_crypto_new(&c) < 0)
		return 1;
	wg_hash(c, mac1key, WG_LABEL_MAC1, sizeof(WG_LABEL_MAC1) - 1, pub, sizeof(pub));
	for (int i = 0; i < N_MSGS; i++) {
		uint8_t *m = msgs[i];

		rand_bytes(m, WG_INITIATION_LEN);
		m[0] = WG_MSG_INITIATION;
		m[1] = m[2] = m[3] = 0;
		memset(m + WG_INIT_OFF_MAC2, 0, WG_MAC_LEN); /* no cookie: mac2 zero */
		wg_mac(c, m + WG_INIT_OFF_MAC1, WG_MAC_LEN, mac1key, sizeof(mac1key), m,
		       WG_INIT_OFF_MAC1);
		iov[i] = (struct iovec){ .iov_base = m, .iov_len = WG_INITIATION_LEN };
		mm[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &to, .msg_namelen = sizeof(to),
						       .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	end = time_mono_ns() + (uint64_t)(seconds * 1e9);
	while (time_mono_ns() < end) {
		int r = sendmmsg(fd, mm, N_MSGS, 0);
		ssize_t n;

		if (r > 0)
			sent += (unsigned long)r;
		while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
			if (n == WG_COOKIE_REPLY_LEN && buf[0] == WG_MSG_COOKIE_REPLY)
				cookies++;
		if (r < 0 && errno == EAGAIN)
			usleep(100);
	}
	printf("sent %lu initiations, got %lu cookie replies\n", sent, cookies);
	wg_crypto_free(c);
	close(fd);
	return 0;
}
