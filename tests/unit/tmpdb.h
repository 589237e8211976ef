/* A test's SQLite database in a directory of its own: removing both. */
#ifndef SLUICE_TEST_TMPDB_H
#define SLUICE_TEST_TMPDB_H

#include <stdio.h>
#include <unistd.h>

/* The database at path, its WAL and shared-memory files, then dir (now empty). */
static inline void tmpdb_remove(const char *path, const char *dir)
{
	char p[512];

	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
	rmdir(dir);
}

#endif
