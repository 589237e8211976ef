/* Aligned text tables for a terminal: columns padded to the widest cell, as
 * many columns as a terminal shows for each cell's UTF-8 text (East Asian wide
 * characters take two, combining marks none), two spaces between columns and
 * no trailing blanks.
 *
 * Cells are text a remote portal chose: control characters, bidirectional
 * overrides and malformed UTF-8 are replaced, so that nothing printed can move
 * the cursor or reorder what the terminal shows. A column may be capped; a cell
 * over its cap is cut at a character boundary and ends in "…". */
#ifndef SLUICE_CLI_TABLE_H
#define SLUICE_CLI_TABLE_H

#include <stddef.h>
#include <stdio.h>

struct table;

/* A table with ncols columns titled by headers (copied). */
int table_new(size_t ncols, const char *const *headers, struct table **out);
/* At most width terminal columns for column col (0: no cap, the default). */
void table_set_max(struct table *t, size_t col, size_t width);
/* Appends a row of ncols cells (copied, sanitized; NULL is an empty cell). */
int table_add_row(struct table *t, const char *const *cells);
size_t table_rows(const struct table *t);
/* Writes the header line (unless no_header) and the rows. */
int table_print(const struct table *t, FILE *out, int no_header);
void table_free(struct table *t);

/* The terminal columns the (sanitized) UTF-8 text s takes. */
size_t table_text_width(const char *s);
/* A sanitized copy of s (malloc'd): see above. NULL when out of memory. */
char *table_sanitize(const char *s);

#endif
