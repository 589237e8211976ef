/* Small helpers over jansson, the project's one JSON library: typed field access
 * with one error convention (0 / -errno) so message decoders read as a list of
 * fields, and a capped loader for input that comes from the network. */
#ifndef SLUICE_LIB_JSONX_H
#define SLUICE_LIB_JSONX_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Parses at most max_len bytes of one JSON object; on anything else returns NULL
 * and writes the reason into err (errlen bytes, always terminated). */
json_t *jsonx_load_object(const void *data, size_t len, size_t max_len, char *err,
			  size_t errlen);

/* Field getters: 0, -ENOENT if absent (or null), -EINVAL if of the wrong type or
 * out of range. Strings stay owned by the object. */
int jsonx_get_str(const json_t *obj, const char *key, const char **out);
int jsonx_get_int(const json_t *obj, const char *key, int64_t min, int64_t max, int64_t *out);
int jsonx_get_bool(const json_t *obj, const char *key, bool *out);
int jsonx_get_array(const json_t *obj, const char *key, json_t **out);
int jsonx_get_object(const json_t *obj, const char *key, json_t **out);

#endif
