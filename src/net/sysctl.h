/* Per-namespace sysctls the packet path needs (forwarding, conntrack
 * accounting), set at start and put back at the end. */
#ifndef SLUICE_NET_SYSCTL_H
#define SLUICE_NET_SYSCTL_H

#include <stddef.h>

enum { SYSCTL_VALUE_MAX = 32 };

/* Writes value to the file under /proc/sys (path relative to it, "net/ipv4/ip_forward"),
 * first saving what it held into old (NUL-terminated, without the newline).
 * 0 or -errno. */
int sysctl_swap(const char *path, const char *value, char old[SYSCTL_VALUE_MAX]);
int sysctl_write(const char *path, const char *value);

#endif
