/* The daemon's private key on disk. See keyfile.h. */
#include "wg/keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "wg/crypto.h"
#include "wg/pubkey.h"

static int key_read(const char *path, uint8_t priv[32], char *err, size_t errlen)
{
	char buf[WG_KEY_B64_LEN + 8];
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), r = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		r = -EINVAL;
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_mode & 077) {
		r = -EPERM;
		snprintf(err, errlen, "%s: readable by others (mode %03o): chmod 600 it",
			 path, st.st_mode & 0777);
		goto out;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (wg_key_from_base64(priv, buf) < 0) {
		r = -EINVAL;
		snprintf(err, errlen, "%s: not a base64 X25519 private key", path);
	}
out:
	wg_wipe(buf, sizeof(buf));
	close(fd);
	return r;
}

static int key_create(const char *dir, const char *path, uint8_t priv[32], char *err,
		      size_t errlen)
{
	char tmp[4200], b64[WG_KEY_B64_LEN];
	uint8_t pub[32];
	struct wg_crypto *c = NULL;
	int fd = -1, r;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.key.tmp", dir) >= sizeof(tmp))
		return -ENAMETOOLONG;
	r = wg_crypto_new(&c);
	if (r == 0)
		r = wg_key_generate(c, priv, pub);
	wg_crypto_free(c);
	if (r < 0) {
		snprintf(err, errlen, "cannot generate a key: %s", strerror(-r));
		return r;
	}
	wg_key_to_base64(b64, priv);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || dprintf(fd, "%s\n", b64) < 0 || fsync(fd) < 0 || close(fd) < 0 ||
	    rename(tmp, path) < 0) {
		r = -errno;
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(-r));
	}
	wg_wipe(b64, sizeof(b64));
	return r;
}

int keyfile_load(const char *dir, const char *name, uint8_t priv[32], bool *created,
		 char *err, size_t errlen)
{
	char path[4200];
	struct stat st;
	int r;

	*created = false;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) {
		snprintf(err, errlen, "state directory path too long");
		return -ENAMETOOLONG;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(-r));
		return r;
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a directory", dir);
		return -ENOTDIR;
	}
	r = key_read(path, priv, err, errlen);
	if (r != -ENOENT)
		return r;
	r = key_create(dir, path, priv, err, errlen);
	*created = r == 0;
	return r;
}

int keyfile_identity(const char *dir, uint8_t priv[32], uint8_t pub[32], char pub_b64[45])
{
	char err_msg[256];
	bool created;
	int err = keyfile_load(dir, "private.key", priv, &created, err_msg, sizeof(err_msg));

	if (err < 0) {
		log_err("key: %s", err_msg);
		return err;
	}
	/* The portal checks public keys with wg/pubkey.h: a key it would refuse
	 * is said here, at start, and not as a 403 on every connection. */
	if (wg_key_public(pub, priv) < 0 || !wg_pubkey_ok(pub)) {
		log_err("key: %s/private.key: its public key is not one the portal accepts",
			dir);
		wg_wipe(priv, 32);
		return -EINVAL;
	}
	wg_key_to_base64(pub_b64, pub);
	log_info("%s key %s in %s", created ? "new" : "using", pub_b64, dir);
	return 0;
}
