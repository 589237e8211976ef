/* The listening side of a daemon's unix stream socket (the status socket, the
 * WireGuard UAPI socket): the file is created with its mode already set, a stale
 * file nobody answers on is replaced, and only the daemon's own file is ever
 * removed. No state: the caller keeps the fd and the file's identity. */
#ifndef SLUICE_NET_UNIXSOCK_H
#define SLUICE_NET_UNIXSOCK_H

#include <stdbool.h>
#include <sys/types.h>

/* A nonblocking, close-on-exec socket listening at path with the file mode
 * mode (less the umask) and backlog; *dev and *ino identify the file. A live
 * socket there: -EADDRINUSE; a file that is no socket: -EEXIST (left alone);
 * a path too long for sun_path: -ENAMETOOLONG. The fd or -errno; on failure
 * nothing is left behind. */
int unixsock_listen(const char *path, mode_t mode, int backlog, dev_t *dev, ino_t *ino);
/* Whether path is still the file (dev, ino): a newer daemon may have replaced
 * it, or someone removed it. */
bool unixsock_ours(const char *path, dev_t dev, ino_t ino);
/* Removes path if it is still the file (dev, ino). */
void unixsock_unlink(const char *path, dev_t dev, ino_t ino);

#endif
