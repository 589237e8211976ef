/* The DNS resource table: which resource a queried name belongs to.
 *
 * Each resource is an id, a pattern (see dns/pattern.h) and the caller's data.
 * A lookup answers the most specific matching resource, by pattern precedence
 * and then by the lower id, or every match in that order.
 *
 * Resources are indexed by the literal suffix of their pattern (the whole name
 * for an exact pattern), so a lookup hashes each suffix of the name once and
 * tests only the patterns filed under those suffixes, longest suffix first; a
 * longer literal suffix is always the more specific, so the first suffix with a
 * match holds the answer. Its cost grows with the labels of the name and the
 * patterns sharing one suffix, not with the size of the table.
 *
 * Locking is the caller's: lookups only read (any number at once under a read
 * lock); put and remove need the write lock. Lookups never allocate. An entry a
 * lookup returns is valid until the next put or remove. The table does not own
 * the data pointers: get the data before removing or replacing a resource. */
#ifndef SLUICE_DNS_RESTABLE_H
#define SLUICE_DNS_RESTABLE_H

#include <stddef.h>
#include <stdint.h>

struct pattern;
struct restable;

struct restable_entry {
	uint64_t id;
	void *data;
	const struct pattern *pattern;
};

/* 0, -EINVAL (max_entries 0 or above 2^24), -ENOMEM. */
int restable_new(struct restable **out, size_t max_entries);
void restable_free(struct restable *t);

/* Adds resource id, or gives an existing one this pattern and data. 0, -EINVAL
 * (an invalid pattern; the reason in err, as pattern_compile), -ENOSPC (the
 * table holds max_entries), -ENOMEM; on failure the table is unchanged. */
int restable_put(struct restable *t, uint64_t id, const char *pattern, void *data,
		 char *err, size_t errlen);
/* 0 or -ENOENT. */
int restable_remove(struct restable *t, uint64_t id);
const struct restable_entry *restable_get(const struct restable *t, uint64_t id);
size_t restable_count(const struct restable *t);

/* The most specific resource matching the name (len bytes, optional trailing
 * dot, any case), or NULL. */
const struct restable_entry *restable_match(const struct restable *t, const char *name,
					    size_t len);
/* Stores up to max matches, most specific first, and returns how many there are
 * in all (which may be more than max). */
size_t restable_match_all(const struct restable *t, const char *name, size_t len,
			  const struct restable_entry **out, size_t max);

/* Calls fn on every resource, in no particular order, stopping at and returning
 * the first nonzero result; 0 otherwise. fn must not modify the table. */
int restable_walk(const struct restable *t,
		  int (*fn)(const struct restable_entry *e, void *ctx), void *ctx);

#endif
