/* Fuzzes prefix_parse() (the daemons' ranges and addresses in their
 * configurations): whatever parses is a valid prefix that contains itself, lies
 * inside itself and reads back the same from its text. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/prefix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) { \
	fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct net_prefix p, back;
	char text[PREFIX_STRLEN];

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (prefix_parse(s, &p) == 0) {
		CHECK(prefix_valid(&p));
		CHECK(prefix_contains(&p, p.family, p.addr));
		CHECK(prefix_inside(&p, &p) && prefix_overlaps(&p, &p));
		CHECK(prefix_parse(prefix_str(&p, text, sizeof(text)), &back) == 0);
		CHECK(back.family == p.family && back.len == p.len &&
		      memcmp(back.addr, p.addr, sizeof(p.addr)) == 0);
	}
	free(s);
	return 0;
}
