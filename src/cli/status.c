/* `sluice status`: the socket, the options and the text. See status.h. */
#include "cli/status.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli/render.h"
#include "cli/table.h"
#include "lib/buf.h"
#include "lib/time.h"

#define DEFAULT_SOCKET "/run/sluice/client.sock" /* client/status.h */

enum { DOC_MAX = (16 << 20) + 2, READ_CHUNK = 64 << 10 };

static const char prog[] = "sluice status";

static const char usage_text[] =
	"Usage: sluice status [--json] [--socket PATH]\n\n"
	"What the local sluice-client is doing: its user and device, the portal, the\n"
	"tunnel, resources, gateways and DNS counters. Needs root.\n\n"
	"  --json          the daemon's JSON document, indented\n"
	"  --socket PATH   its status socket (default " DEFAULT_SOCKET ")\n";

/* ---- text --------------------------------------------------------------- */

void cli_status_bytes(char *buf, size_t len, uint64_t n)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = (double)n;
	size_t u = 0;

	if (n < 1024) {
		snprintf(buf, len, "%" PRIu64 " B", n);
		return;
	}
	v /= 1024;
	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%.1f %s", v, units[u]);
}

void cli_status_duration(char *buf, size_t len, int64_t s)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(buf, len, "%" PRId64 "s", s);
	else if (s < 3600)
		snprintf(buf, len, "%" PRId64 "m", s / 60);
	else if (s < 86400)
		snprintf(buf, len, "%" PRId64 "h %" PRId64 "m", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%" PRId64 "d %" PRId64 "h", s / 86400, s % 86400 / 3600);
}

/* a - b, saturated: the times come from the daemon and may be anything. */
static int64_t sub_sat(int64_t a, int64_t b)
{
	int64_t d;

	if (__builtin_sub_overflow(a, b, &d))
		return b < 0 ? INT64_MAX : INT64_MIN;
	return d;
}

/* An integer field, or false when it is missing or not an integer. */
static bool int_field(const json_t *obj, const char *key, int64_t *v)
{
	const json_t *j = json_object_get(obj, key);

	if (!json_is_integer(j))
		return false;
	*v = json_integer_value(j);
	return true;
}

/* The cells of one table row, owned until row_free(). */
struct row {
	char *cells[8];
	size_t n;
};

static void row_add(struct row *r, char *text)
{
	r->cells[r->n++] = text;
}

static void row_addf(struct row *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void row_addf(struct row *r, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	row_add(r, s);
}

static int row_put(struct table *t, struct row *r)
{
	int ret = 0;

	for (size_t i = 0; i < r->n; i++)
		if (!r->cells[i])
			ret = -ENOMEM;
	if (!ret)
		ret = table_add_row(t, (const char *const *)r->cells);
	for (size_t i = 0; i < r->n; i++)
		free(r->cells[i]);
	r->n = 0;
	return ret;
}

/* row_put(), keeping the first error in *ret (the cells are freed either way). */
static void row_put_keep(struct table *t, struct row *r, int *ret)
{
	int e = row_put(t, r);

	if (!*ret)
		*ret = e;
}

static char *value(const json_t *obj, const char *key)
{
	return render_value(NULL, json_object_get(obj, key));
}

/* "when (age ago)" of a time in seconds, "-" when missing or 0. */
static char *since_text(const json_t *obj, const char *key, int64_t now)
{
	char when[64] = "-", age[32], *s;
	struct tm tm;
	int64_t t;
	time_t tt;

	if (!int_field(obj, key, &t) || t <= 0)
		return strdup("-");
	tt = (time_t)t;
	if (gmtime_r(&tt, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	cli_status_duration(age, sizeof(age), sub_sat(now, t));
	return asprintf(&s, "%s (%s ago)", when, age) < 0 ? NULL : s;
}

/* "alice (1)"; "-" for null. */
static char *name_id(const json_t *obj)
{
	char *name, *s;
	int64_t id;

	if (!json_is_object(obj))
		return strdup("-");
	name = value(obj, "name");
	if (!name || !int_field(obj, "id", &id))
		return name;
	if (asprintf(&s, "%s (%" PRId64 ")", name, id) < 0)
		s = NULL;
	free(name);
	return s;
}

static int print_header(FILE *out, const json_t *doc, int64_t now)
{
	const json_t *portal = json_object_get(doc, "portal"), *tun = json_object_get(doc, "tunnel");
	const json_t *connected = json_object_get(portal, "connected");
	struct table *t;
	struct row r = { 0 };
	char *url, *since;
	int ret = table_new(2, (const char *const[]){ "", "" }, &t);

	if (ret)
		return ret;
	row_add(&r, strdup("user:"));
	row_add(&r, name_id(json_object_get(doc, "user")));
	ret = row_put(t, &r);
	row_add(&r, strdup("device:"));
	row_add(&r, name_id(json_object_get(doc, "device")));
	row_put_keep(t, &r, &ret);

	url = value(portal, "url");
	since = since_text(portal, "since", now);
	row_add(&r, strdup("portal:"));
	if (json_is_boolean(connected) && since && strcmp(since, "-"))
		row_addf(&r, "%s, %s since %s", url ? url : "-",
			 json_is_true(connected) ? "connected" : "disconnected", since);
	else if (json_is_boolean(connected))
		row_addf(&r, "%s, %s", url ? url : "-",
			 json_is_true(connected) ? "connected" : "disconnected");
	else
		row_add(&r, url ? strdup(url) : NULL);
	free(url);
	free(since);
	row_put_keep(t, &r, &ret);

	{
		char *ifn = value(tun, "interface"), *v4 = value(tun, "ipv4"),
		     *v6 = value(tun, "ipv6");

		row_add(&r, strdup("tunnel:"));
		row_addf(&r, "%s  %s  %s", ifn ? ifn : "-", v4 ? v4 : "-", v6 ? v6 : "-");
		free(ifn);
		free(v4);
		free(v6);
	}
	row_put_keep(t, &r, &ret);
	if (!ret)
		ret = table_print(t, out, 1);
	table_free(t);
	return ret;
}

/* "100.96.0.1, 100.96.0.2 (b.home.int)": a name only when it is not the
 * resource's address (a wildcard's names). */
static char *proxy_text(const json_t *res)
{
	const json_t *ips = json_object_get(res, "proxy_ips"), *addr = json_object_get(res, "address");
	struct buf b;
	const json_t *e;
	size_t i;

	if (!json_is_array(ips) || json_array_size(ips) == 0)
		return strdup("-");
	buf_init(&b, 1 << 20);
	if (buf_printf(&b, "%s", "") < 0)
		goto fail;
	json_array_foreach(ips, i, e) {
		const json_t *ip = json_object_get(e, "ip"), *name = json_object_get(e, "name");

		if (buf_printf(&b, "%s%s", i ? ", " : "",
			       json_is_string(ip) ? json_string_value(ip) : "-") < 0)
			goto fail;
		if (json_is_string(name) && !json_equal(name, addr) &&
		    buf_printf(&b, " (%s)", json_string_value(name)) < 0)
			goto fail;
	}
	return (char *)b.data;
fail:
	buf_free(&b);
	return NULL;
}

static int print_resources(FILE *out, const json_t *doc, int64_t now)
{
	static const char *const hdr[] = { "ID", "NAME", "ADDRESS", "STATE", "GATEWAY",
					   "EXPIRES", "PROXY IPS" };
	const json_t *list = json_object_get(doc, "resources"), *res;
	struct row r = { 0 };
	struct table *t;
	size_t i;
	int ret;

	fputs("\nRESOURCES\n", out);
	if (!json_is_array(list) || json_array_size(list) == 0) {
		fputs("none\n", out);
		return 0;
	}
	ret = table_new(7, hdr, &t);
	if (ret)
		return ret;
	table_set_max(t, 1, 30);
	table_set_max(t, 2, 40);
	table_set_max(t, 6, 60);
	json_array_foreach(list, i, res) {
		char in[32];
		int64_t gw, exp;

		row_add(&r, value(res, "id"));
		row_add(&r, value(res, "name"));
		row_add(&r, value(res, "address"));
		row_add(&r, value(res, "state"));
		if (int_field(res, "gateway_id", &gw) && gw > 0)
			row_addf(&r, "%" PRId64, gw);
		else
			row_add(&r, strdup("-"));
		if (!int_field(res, "expires_at", &exp) || exp <= 0) {
			row_add(&r, strdup("-"));
		} else if (exp <= now) {
			row_add(&r, strdup("expired"));
		} else {
			cli_status_duration(in, sizeof(in), sub_sat(exp, now));
			row_addf(&r, "in %s", in);
		}
		row_add(&r, proxy_text(res));
		if ((ret = row_put(t, &r)))
			break;
	}
	if (!ret)
		ret = table_print(t, out, 0);
	table_free(t);
	return ret;
}

static char *bytes_cell(const json_t *obj, const char *key)
{
	char b[32];
	int64_t n;

	if (!int_field(obj, key, &n) || n < 0)
		return strdup("-");
	cli_status_bytes(b, sizeof(b), (uint64_t)n);
	return strdup(b);
}

static int print_gateways(FILE *out, const json_t *doc, int64_t now)
{
	static const char *const hdr[] = { "ID", "ENDPOINT", "HANDSHAKE", "RX", "TX" };
	const json_t *list = json_object_get(doc, "gateways"), *gw;
	struct row r = { 0 };
	struct table *t;
	size_t i;
	int ret;

	fputs("\nGATEWAYS\n", out);
	if (!json_is_array(list) || json_array_size(list) == 0) {
		fputs("none\n", out);
		return 0;
	}
	ret = table_new(5, hdr, &t);
	if (ret)
		return ret;
	json_array_foreach(list, i, gw) {
		char age[32];
		int64_t hs;

		row_add(&r, value(gw, "id"));
		row_add(&r, value(gw, "endpoint"));
		if (!int_field(gw, "last_handshake", &hs)) {
			row_add(&r, strdup("-"));
		} else if (hs <= 0) {
			row_add(&r, strdup("never"));
		} else {
			cli_status_duration(age, sizeof(age), sub_sat(now, hs));
			row_addf(&r, "%s ago", age);
		}
		row_add(&r, bytes_cell(gw, "rx_bytes"));
		row_add(&r, bytes_cell(gw, "tx_bytes"));
		if ((ret = row_put(t, &r)))
			break;
	}
	if (!ret)
		ret = table_print(t, out, 0);
	table_free(t);
	return ret;
}

static int print_dns(FILE *out, const json_t *doc)
{
	static const struct { const char *key, *label; } counters[] = {
		{ "queries_udp", "queries (UDP):" },
		{ "queries_tcp", "queries (TCP):" },
		{ "forwarded", "forwarded:" },
		{ "answered_local", "answered locally:" },
		{ "resource_queries", "resource queries:" },
		{ "resource_failed", "resource queries failed:" },
		{ "timeouts", "timeouts:" },
		{ "spoofed_dropped", "spoofed answers dropped:" },
		{ "truncated", "truncated:" },
		{ "formerr", "FORMERR:" },
	};
	const json_t *dns = json_object_get(doc, "dns");
	const json_t *sent = json_object_get(dns, "sentinels"), *e;
	struct row r = { 0 };
	struct table *t;
	size_t i;
	int ret;

	fputs("\nDNS\n", out);
	ret = table_new(2, (const char *const[]){ "", "" }, &t);
	if (ret)
		return ret;
	json_array_foreach(sent, i, e) {
		char *a = value(e, "address"), *u = value(e, "upstream");

		row_add(&r, strdup(i ? "" : "sentinels:"));
		row_addf(&r, "%s -> %s", a ? a : "-", u ? u : "-");
		free(a);
		free(u);
		if ((ret = row_put(t, &r)))
			goto out;
	}
	if (!json_is_array(sent) || json_array_size(sent) == 0) {
		row_add(&r, strdup("sentinels:"));
		row_add(&r, strdup("-"));
		if ((ret = row_put(t, &r)))
			goto out;
	}
	for (i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		row_add(&r, strdup(counters[i].label));
		row_add(&r, value(dns, counters[i].key));
		if ((ret = row_put(t, &r)))
			goto out;
	}
	ret = table_print(t, out, 1);
out:
	table_free(t);
	return ret;
}

int cli_status_render(FILE *out, const json_t *doc, int64_t now)
{
	int ret = print_header(out, doc, now);

	if (!ret)
		ret = print_resources(out, doc, now);
	if (!ret)
		ret = print_gateways(out, doc, now);
	if (!ret)
		ret = print_dns(out, doc);
	return ret;
}

/* ---- the socket ------------------------------------------------------------ */

static int ms_left(uint64_t deadline)
{
	uint64_t now = time_mono_ns();

	return now >= deadline ? 0 : (int)((deadline - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC);
}

/* Connects and reads to the end. An exit code, with the message on err. */
static int fetch(const char *path, struct buf *doc, FILE *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint64_t deadline = time_mono_ns() + CLI_STATUS_TIMEOUT_MS * NSEC_PER_MSEC;
	struct timeval tv = { .tv_sec = CLI_STATUS_TIMEOUT_MS / 1000 };
	int fd, ret = CLI_STATUS_EXIT_NO_DAEMON;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(err, "%s: %s: path too long\n", prog, path);
		return CLI_STATUS_EXIT_USAGE;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(err, "%s: socket: %s\n", prog, strerror(errno));
		return CLI_STATUS_EXIT_NO_DAEMON;
	}
	/* A daemon whose backlog is full makes connect() wait: bounded too. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		if (errno == ENOENT || errno == ECONNREFUSED || errno == ENOTDIR) {
			fprintf(err, "%s: sluice-client is not running (nothing answers on %s)\n",
				prog, path);
		} else if (errno == EACCES || errno == EPERM) {
			fprintf(err, "%s: %s: permission denied: sluice status needs root\n",
				prog, path);
			ret = CLI_STATUS_EXIT_ERROR;
		} else if (errno == EAGAIN || errno == EINPROGRESS) {
			fprintf(err, "%s: sluice-client did not accept the connection in time\n",
				prog);
		} else {
			fprintf(err, "%s: cannot connect to %s: %s\n", prog, path, strerror(errno));
		}
		goto out;
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int n = poll(&p, 1, ms_left(deadline));
		ssize_t r;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(err, "%s: sluice-client did not answer in time\n", prog);
			goto out;
		}
		if (buf_reserve(doc, READ_CHUNK) < 0 && buf_reserve(doc, 1) < 0) {
			fprintf(err, "%s: the answer is too large\n", prog);
			goto out;
		}
		r = recv(fd, doc->data + doc->len, doc->cap - doc->len, MSG_DONTWAIT);
		if (r > 0) {
			doc->len += (size_t)r;
		} else if (r == 0) {
			break;
		} else if (errno != EINTR && errno != EAGAIN) {
			fprintf(err, "%s: reading the answer: %s\n", prog, strerror(errno));
			goto out;
		}
	}
	if (doc->len == 0 || doc->data[doc->len - 1] != '\n') {
		fprintf(err, "%s: sluice-client closed the connection before its whole answer\n",
			prog);
		goto out;
	}
	ret = CLI_STATUS_EXIT_OK;
out:
	close(fd);
	return ret;
}

int cli_status_main(int argc, char *const *argv, FILE *out, FILE *err)
{
	const char *path = DEFAULT_SOCKET;
	bool as_json = false;
	struct buf b;
	json_error_t je;
	json_t *doc = NULL, *e;
	int ret;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			as_json = true;
		} else if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc && *argv[i + 1]) {
			path = argv[++i];
		} else if (strncmp(argv[i], "--socket=", 9) == 0 && argv[i][9]) {
			path = argv[i] + 9;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage_text, out);
			return CLI_STATUS_EXIT_OK;
		} else {
			fprintf(err, "%s: %s: %s\n%s", prog,
				strcmp(argv[i], "--socket") == 0 ? "--socket needs a path"
								  : "unknown argument",
				argv[i], usage_text);
			return CLI_STATUS_EXIT_USAGE;
		}
	}
	buf_init(&b, DOC_MAX);
	ret = fetch(path, &b, err);
	if (ret)
		goto out;
	doc = json_loadb((const char *)b.data, b.len, 0, &je);
	if (!json_is_object(doc)) {
		fprintf(err, "%s: the answer is not a JSON object: %s\n", prog,
			doc ? "another type" : je.text);
		ret = CLI_STATUS_EXIT_ERROR;
		goto out;
	}
	e = json_object_get(doc, "error");
	if (e) {
		char *msg = render_value(NULL, e), *safe = msg ? table_sanitize(msg) : NULL;

		fprintf(err, "%s: sluice-client: %s\n", prog, safe ? safe : "an error");
		free(safe);
		free(msg);
		ret = CLI_STATUS_EXIT_ERROR;
		goto out;
	}
	if (as_json) {
		char *s = json_dumps(doc, JSON_INDENT(2));

		ret = s ? 0 : -ENOMEM;
		if (s)
			fprintf(out, "%s\n", s);
		free(s);
	} else {
		ret = cli_status_render(out, doc, (int64_t)(time_real_ns() / NSEC_PER_SEC));
	}
	if (ret) {
		fprintf(err, "%s: out of memory\n", prog);
		ret = CLI_STATUS_EXIT_ERROR;
	}
out:
	json_decref(doc);
	buf_free(&b);
	return ret;
}
