/* net/unixsock: the mode at bind, a stale file replaced, a live socket and a
 * foreign file left alone, only our own file removed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "net/unixsock.h"

struct dir {
	char path[64];
	char sock[96];
};

static int setup(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));

	if (!d)
		return -1;
	snprintf(d->path, sizeof(d->path), "/tmp/sluice-unixsock-XXXXXX");
	if (!mkdtemp(d->path)) {
		free(d);
		return -1;
	}
	snprintf(d->sock, sizeof(d->sock), "%s/s.sock", d->path);
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	struct dir *d = *state;

	unlink(d->sock);
	rmdir(d->path);
	free(d);
	return 0;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), r;

	assert_true(fd >= 0);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	close(fd);
	return r;
}

static void test_listen_and_close(void **state)
{
	struct dir *d = *state;
	dev_t dev, dev2;
	ino_t ino, ino2;
	struct stat st;
	int fd, fd2;

	fd = unixsock_listen(d->sock, S_IRUSR | S_IWUSR, 4, &dev, &ino);
	assert_true(fd >= 0);
	assert_int_equal(lstat(d->sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_true(st.st_dev == dev && st.st_ino == ino);
	assert_true(unixsock_ours(d->sock, dev, ino));
	assert_int_equal(connect_to(d->sock), 0);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);

	/* alive: the second daemon is refused and the file stays */
	assert_int_equal(unixsock_listen(d->sock, S_IRWXU, 4, &dev2, &ino2), -EADDRINUSE);
	assert_true(unixsock_ours(d->sock, dev, ino));

	/* stale (the owner is gone without removing it): replaced */
	close(fd);
	assert_int_equal(connect_to(d->sock), -ECONNREFUSED);
	fd2 = unixsock_listen(d->sock, S_IRWXU, 4, &dev2, &ino2);
	assert_true(fd2 >= 0);
	assert_int_equal(lstat(d->sock, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_true(unixsock_ours(d->sock, dev2, ino2));
	/* another file's identity (the inode number of the old one may be reused) */
	unixsock_unlink(d->sock, dev2, ino2 + 1);
	assert_true(unixsock_ours(d->sock, dev2, ino2));
	assert_int_equal(connect_to(d->sock), 0);
	unixsock_unlink(d->sock, dev2, ino2);
	assert_int_equal(lstat(d->sock, &st), -1);
	assert_int_equal(errno, ENOENT);
	assert_false(unixsock_ours(d->sock, dev2, ino2));
	close(fd2);
}

static void test_refusals(void **state)
{
	struct dir *d = *state;
	char longpath[200];
	struct stat st;
	dev_t dev;
	ino_t ino;
	int fd;

	/* a regular file is not ours to delete */
	fd = open(d->sock, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(unixsock_listen(d->sock, S_IRWXU, 4, &dev, &ino), -EEXIST);
	assert_int_equal(lstat(d->sock, &st), 0);
	assert_true(S_ISREG(st.st_mode));

	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(unixsock_listen(longpath, S_IRWXU, 4, &dev, &ino), -ENAMETOOLONG);
	assert_int_equal(unixsock_listen("/nonexistent-sluice-dir/s.sock", S_IRWXU, 4, &dev, &ino),
			 -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_listen_and_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
