/* `sluice status`: what the local sluice-client says about itself, read from its
 * status socket (client/status.h, docs/cli.md).
 *
 *   sluice status [--json] [--socket PATH]
 *
 * One JSON document per connection; shown as is (--json, indented) or as text:
 * a header (user, device, portal, tunnel), the resources, the gateways and the
 * DNS counters. Every field may be missing ("-"); text from the daemon (names
 * the portal chose) is sanitized as in every table (cli/table.h). */
#ifndef SLUICE_CLI_STATUS_H
#define SLUICE_CLI_STATUS_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes (as sluice admin's). */
enum {
	CLI_STATUS_EXIT_OK = 0,
	CLI_STATUS_EXIT_ERROR = 1,    /* the daemon answered an error, or refused us */
	CLI_STATUS_EXIT_USAGE = 2,
	CLI_STATUS_EXIT_NO_DAEMON = 3, /* no socket, refused, no whole answer in time */
};

enum { CLI_STATUS_TIMEOUT_MS = 5000 }; /* connecting and reading, in all */

/* argv[0] is "status". The document on out, messages on err; an exit code. */
int cli_status_main(int argc, char *const *argv, FILE *out, FILE *err);

/* The document as text; now: seconds since the epoch, for ages ("12s ago") and
 * expiries ("in 59m"). 0 or -ENOMEM. */
int cli_status_render(FILE *out, const json_t *doc, int64_t now);

/* Helpers of the text, for tests: "512 B", "1.2 KiB", "3.0 GiB"; "45s", "12m",
 * "2h 5m", "3d 4h" (negative: "0s"). Into buf of len bytes. */
void cli_status_bytes(char *buf, size_t len, uint64_t n);
void cli_status_duration(char *buf, size_t len, int64_t seconds);

#endif
