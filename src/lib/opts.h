/* A daemon's settings from its command line and SLUICE_* environment: one
 * table of options, walked the same way by every daemon (the environment
 * first, in table order, then argv, so the command line wins). Pure: argv and
 * the environment are arguments. Errors are -EINVAL with the reason in err. */
#ifndef SLUICE_LIB_OPTS_H
#define SLUICE_LIB_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/log.h"

struct opt_spec {
	const char *flag; /* "--name": also accepted as "--name=VALUE" */
	const char *env;  /* "SLUICE_NAME" */
	bool has_value;   /* false: a switch, given as "1" (env: the value itself) */
};

/* Stores one option's value; what is the flag or variable it came from, for
 * the message. 0 or -EINVAL with the reason in err. Called only from within
 * opts_parse, in its caller's thread, in the order the options come. */
typedef int (*opts_apply_fn)(void *ctx, unsigned idx, const char *v, const char *what,
			     char *err, size_t errlen);

struct opts {
	const struct opt_spec *specs;
	unsigned n;
	const char *usage; /* copied into err for -h / --help */
	opts_apply_fn apply;
	void *ctx;
};

/* Runs apply for every variable env() knows, then for every argument; seen[i]
 * (n entries, cleared here) tells which options were given. 0; 1 for -h or
 * --help (usage in err); -EINVAL (unknown argument, missing value, or apply's
 * refusal). env may be NULL. */
int opts_parse(const struct opts *o, bool *seen, int argc, char *const argv[],
	       const char *(*env)(void *arg, const char *name), void *env_arg, char *err,
	       size_t errlen);
/* The message for a required option that is missing. -EINVAL. */
int opts_missing(const struct opt_spec *s, char *err, size_t errlen);

/* Value checkers for apply functions: 0 or -EINVAL naming what. */
/* A non-empty string that fits cap with its NUL. */
int opts_copy(char *dst, size_t cap, const char *v, const char *what, char *err, size_t errlen);
/* A network interface name (1-15 printable bytes, no '/', ':', space, not . or ..). */
int opts_ifname(char *dst, size_t cap, const char *v, const char *what, char *err,
		size_t errlen);
/* A decimal port 1-65535, no sign. */
int opts_port(uint16_t *out, const char *v, const char *what, char *err, size_t errlen);
/* err, warn, info or debug. */
int opts_log_level(enum log_level *out, const char *v, const char *what, char *err,
		   size_t errlen);
/* "1" or "0". */
int opts_bool(bool *out, const char *v, const char *what, char *err, size_t errlen);

#endif
