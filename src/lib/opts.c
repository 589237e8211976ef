/* Command line and environment settings. See opts.h. */
#include "lib/opts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int opts_parse(const struct opts *o, bool *seen, int argc, char *const argv[],
	       const char *(*env)(void *arg, const char *name), void *env_arg, char *err,
	       size_t errlen)
{
	unsigned i;
	int r;

	memset(seen, 0, o->n * sizeof(*seen));
	if (err && errlen)
		err[0] = '\0';
	for (i = 0; env && i < o->n; i++) {
		const char *v = env(env_arg, o->specs[i].env);

		if (!v)
			continue;
		if ((r = o->apply(o->ctx, i, v, o->specs[i].env, err, errlen)) < 0)
			return r;
		seen[i] = true;
	}
	for (int k = 1; k < argc; k++) {
		const char *a = argv[k], *v = NULL;

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			snprintf(err, errlen, "%s", o->usage);
			return 1;
		}
		for (i = 0; i < o->n; i++) {
			size_t n = strlen(o->specs[i].flag);

			if (strncmp(a, o->specs[i].flag, n) != 0)
				continue;
			if (a[n] == '=' && o->specs[i].has_value)
				v = a + n + 1;
			else if (a[n] != '\0')
				continue;
			break;
		}
		if (i == o->n) {
			snprintf(err, errlen, "unknown argument: %s (--help for usage)", a);
			return -EINVAL;
		}
		if (!o->specs[i].has_value)
			v = "1";
		else if (!v) {
			if (k + 1 >= argc) {
				snprintf(err, errlen, "%s needs a value", o->specs[i].flag);
				return -EINVAL;
			}
			v = argv[++k];
		}
		if ((r = o->apply(o->ctx, i, v, o->specs[i].flag, err, errlen)) < 0)
			return r;
		seen[i] = true;
	}
	return 0;
}

int opts_missing(const struct opt_spec *s, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s is required (or %s); --help for usage", s->flag, s->env);
	return -EINVAL;
}

int opts_copy(char *dst, size_t cap, const char *v, const char *what, char *err, size_t errlen)
{
	size_t n = strlen(v);

	if (n == 0 || n >= cap) {
		snprintf(err, errlen, "%s: %s", what, n ? "too long" : "empty");
		return -EINVAL;
	}
	memcpy(dst, v, n + 1);
	return 0;
}

/* What the kernel accepts as a name (dev_valid_name), within IFNAMSIZ. */
static bool ifname_ok(const char *s, size_t cap)
{
	size_t n = strlen(s);

	if (n == 0 || n >= cap || n >= 16)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == ':' || s[i] <= ' ' || s[i] > '~')
			return false;
	return strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

int opts_ifname(char *dst, size_t cap, const char *v, const char *what, char *err,
		size_t errlen)
{
	if (!ifname_ok(v, cap)) {
		snprintf(err, errlen, "%s: not an interface name: %s", what, v);
		return -EINVAL;
	}
	return opts_copy(dst, cap, v, what, err, errlen);
}

int opts_port(uint16_t *out, const char *v, const char *what, char *err, size_t errlen)
{
	char *e;
	long port = strtol(v, &e, 10);

	if (*e || e == v || v[0] == '-' || v[0] == '+' || port < 1 || port > 65535) {
		snprintf(err, errlen, "%s: not a port (1-65535): %s", what, v);
		return -EINVAL;
	}
	*out = (uint16_t)port;
	return 0;
}

int opts_log_level(enum log_level *out, const char *v, const char *what, char *err,
		   size_t errlen)
{
	if (log_level_parse(v, out) < 0) {
		snprintf(err, errlen, "%s: err, warn, info or debug, not %s", what, v);
		return -EINVAL;
	}
	return 0;
}

int opts_bool(bool *out, const char *v, const char *what, char *err, size_t errlen)
{
	if (strcmp(v, "1") && strcmp(v, "0")) {
		snprintf(err, errlen, "%s: 1 or 0, not %s", what, v);
		return -EINVAL;
	}
	*out = v[0] == '1';
	return 0;
}
