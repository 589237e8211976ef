/* What the daemons' settings tests share (test_cl_config, test_gw_config): an
 * environment given as a list, and argv literals. Define CONFIG_TEST_ARGV0 (the
 * program's name) before including. */
#ifndef SLUICE_TEST_CONFIG_TEST_H
#define SLUICE_TEST_CONFIG_TEST_H

#include <string.h>

struct env {
	const char *const *kv; /* name, value, ..., NULL */
};

/* The lookup the config parsers take (getenv-like) over a struct env. */
static inline const char *env_get(void *arg, const char *name)
{
	const struct env *e = arg;

	for (size_t i = 0; e->kv && e->kv[i]; i += 2)
		if (strcmp(e->kv[i], name) == 0)
			return e->kv[i + 1];
	return NULL;
}

#define ARGV(...) (char *const[]){ CONFIG_TEST_ARGV0, __VA_ARGS__ }
#define ARGC(...) ((int)(sizeof((char *const[]){ "x", __VA_ARGS__ }) / sizeof(char *)))

#endif
