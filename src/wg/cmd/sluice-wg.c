/* sluice-wg IFNAME: a userspace WireGuard interface, configured with wg(8)
 * through /var/run/wireguard/IFNAME.sock, as wireguard-go is. Runs in the
 * foreground; SIGINT or SIGTERM removes the socket and the device and exits. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "wg/device.h"

static struct wg_device *the_device; /* for the signal handler only */

static void on_signal(int sig)
{
	(void)sig;
	if (the_device)
		wg_device_stop(the_device);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: sluice-wg [--log-level err|warn|info|debug] [--mtu N] IFNAME\n"
		   "Creates the TUN device IFNAME and serves the WireGuard UAPI on\n"
		   "/var/run/wireguard/IFNAME.sock; configure it with wg(8).\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "log-level", required_argument, NULL, 'l' },
		{ "mtu", required_argument, NULL, 'm' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct wg_device_opts opts = { 0 };
	enum log_level level = LOG_LVL_INFO;
	struct sigaction sa = { .sa_handler = on_signal };
	const char *div;
	int c, r;

	while ((c = getopt_long(argc, argv, "fhl:m:", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			break; /* always in the foreground; accepted as wireguard-go's -f */
		case 'l':
			if (log_level_parse(optarg, &level) < 0) {
				fprintf(stderr, "sluice-wg: unknown log level '%s'\n", optarg);
				return 2;
			}
			break;
		case 'm': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || v < 576 || v > 65535) {
				fprintf(stderr, "sluice-wg: --mtu must be 576..65535\n");
				return 2;
			}
			opts.mtu = (unsigned)v;
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	opts.ifname = argv[optind];
	/* Tests only: divide every protocol timer to see rekeys within seconds. */
	div = getenv("SLUICE_WG_TEST_TIME_DIVISOR");
	if (div)
		opts.time_divisor = (unsigned)strtoul(div, NULL, 10);
	log_setup(level, "sluice-wg");

	r = wg_device_new(&opts, &the_device);
	if (r < 0) {
		log_err("%s: %s%s", opts.ifname, strerror(-r),
			r == -EADDRINUSE ? " (another daemon serves this interface)" : "");
		return 1;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	r = wg_device_run(the_device);
	wg_device_free(the_device);
	the_device = NULL;
	if (r < 0) {
		log_err("%s: %s", opts.ifname, strerror(-r));
		return 1;
	}
	log_info("%s: stopped", opts.ifname);
	return 0;
}
