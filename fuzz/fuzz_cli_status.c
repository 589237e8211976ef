/* `sluice status`'s text from whatever JSON the socket gave (cli/status.h):
 * any document renders without a crash or a leak, and nothing printed holds an
 * escape or another control byte but the newline. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *doc = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (!doc)
		return 0;
	f = open_memstream(&text, &len);
	if (f) {
		/* A "now" from the input too, so ages and expiries of any sign run. */
		int64_t now = (int64_t)(size * 2654435761u) - (1ll << 31);

		cli_status_render(f, doc, now);
		fclose(f);
		for (size_t i = 0; i < len; i++)
			if (((unsigned char)text[i] < 0x20 && text[i] != '\n') || text[i] == 0x7f)
				abort();
		free(text);
	}
	json_decref(doc);
	return 0;
}
