/* Fuzzes gw_prefix_parse() (client ranges and addresses in the gateway's
 * configuration): whatever parses is a valid prefix that contains itself. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/prefix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) { \
	fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct gw_prefix p;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (gw_prefix_parse(s, &p) == 0) {
		CHECK(gw_prefix_valid(&p));
		CHECK(gw_prefix_contains(&p, p.family, p.addr));
	}
	free(s);
	return 0;
}
