/* What the daemons' settings fuzz targets share (fuzz_cl_config,
 * fuzz_gw_config): the input is argv (NUL-separated) and, after a 0x01 byte,
 * environment lines NAME=VALUE. */
#ifndef SLUICE_FUZZ_CONFIG_INPUT_H
#define SLUICE_FUZZ_CONFIG_INPUT_H

#include <stddef.h>
#include <string.h>

enum { MAX_ARGS = 32 };

struct fenv {
	char *lines[MAX_ARGS];
	int n;
};

/* The lookup the config parsers take (getenv-like) over a struct fenv. */
static inline const char *fenv_get(void *arg, const char *name)
{
	struct fenv *e = arg;
	size_t n = strlen(name);

	for (int i = 0; i < e->n; i++)
		if (strncmp(e->lines[i], name, n) == 0 && e->lines[i][n] == '=')
			return e->lines[i] + n + 1;
	return NULL;
}

/* Splits buf (size bytes and a NUL after them, written in place) into argv
 * (MAX_ARGS + 1 entries, argv0 first, NULL-ended) and env. argc. */
static inline int config_input_split(char *buf, size_t size, char *argv0, char **argv,
				     struct fenv *env)
{
	char *p, *end = memchr(buf, 0x01, size);
	int argc = 1;

	env->n = 0;
	if (end) {
		*end = '\0';
		for (p = end + 1; p < buf + size && env->n < MAX_ARGS;) {
			env->lines[env->n++] = p;
			p += strcspn(p, "\n");
			if (*p)
				*p++ = '\0';
		}
	} else {
		end = buf + size;
	}
	argv[0] = argv0;
	for (p = buf; p < end && argc < MAX_ARGS; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;
	return argc;
}

#endif
