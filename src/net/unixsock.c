/* A daemon's listening unix socket. See unixsock.h. */
#include "net/unixsock.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Binds with the mode already set: Linux gives a unix socket file the mode of
 * the socket's inode (less the umask), so it never exists with looser bits and
 * the process umask, shared with other threads, is left alone. */
static int bind_socket(int fd, const struct sockaddr_un *sa, mode_t mode)
{
	if (fchmod(fd, mode))
		return -errno;
	return bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) ? -errno : 0;
}

/* A socket file is there: is someone answering on it? */
static int probe_stale(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, r;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST; /* not ours to delete */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	close(fd);
	if (r == 0 || r == -EAGAIN)
		return -EADDRINUSE; /* alive (or its backlog is full) */
	if (r != -ECONNREFUSED && r != -ENOENT)
		return r;
	if (unlink(path) && errno != ENOENT)
		return -errno;
	return 0;
}

int unixsock_listen(const char *path, mode_t mode, int backlog, dev_t *dev, ino_t *ino)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = bind_socket(fd, &sa, mode);
	if (r == -EADDRINUSE) {
		r = probe_stale(path);
		if (!r)
			r = bind_socket(fd, &sa, mode);
	}
	if (r)
		goto err_close;
	if (listen(fd, backlog) || lstat(path, &st)) {
		r = -errno;
		goto err_unlink;
	}
	*dev = st.st_dev;
	*ino = st.st_ino;
	return fd;

err_unlink:
	unlink(path);
err_close:
	close(fd);
	return r;
}

bool unixsock_ours(const char *path, dev_t dev, ino_t ino)
{
	struct stat st;

	return lstat(path, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

void unixsock_unlink(const char *path, dev_t dev, ino_t ino)
{
	if (unixsock_ours(path, dev, ino))
		unlink(path);
}
