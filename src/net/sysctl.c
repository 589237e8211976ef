#include "net/sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int sysctl_open(const char *path, int flags)
{
	char full[PATH_MAX];
	int fd;

	if ((size_t)snprintf(full, sizeof(full), "/proc/sys/%s", path) >= sizeof(full))
		return -ENAMETOOLONG;
	fd = open(full, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int sysctl_write(const char *path, const char *value)
{
	size_t len = strlen(value);
	int fd = sysctl_open(path, O_WRONLY), err = 0;

	if (fd < 0)
		return fd;
	if (write(fd, value, len) != (ssize_t)len)
		err = errno ? -errno : -EIO;
	close(fd);
	return err;
}

int sysctl_swap(const char *path, const char *value, char old[SYSCTL_VALUE_MAX])
{
	int fd = sysctl_open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return fd;
	n = read(fd, old, SYSCTL_VALUE_MAX - 1);
	close(fd);
	if (n < 0)
		return -errno;
	while (n > 0 && (old[n - 1] == '\n' || old[n - 1] == ' '))
		n--;
	old[n] = '\0';
	return sysctl_write(path, value);
}
