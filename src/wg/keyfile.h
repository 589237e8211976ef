/* A daemon's X25519 identity in its state directory: created on first start
 * (the directory 0700, the key file 0600, written whole under a temporary name
 * and renamed, so a crash never leaves half a key), read on every later one.
 * The file holds the private key in base64, as `wg genkey` writes it, so `wg
 * pubkey < FILE` shows the public key. */
#ifndef SLUICE_WG_KEYFILE_H
#define SLUICE_WG_KEYFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Loads DIR/NAME or creates it. *created says which. 0 or -errno with the
 * reason in err: a key file another user can read, or one that is not a key,
 * is refused rather than used or replaced. */
int keyfile_load(const char *dir, const char *name, uint8_t priv[32], bool *created,
		 char *err, size_t errlen);
/* A daemon's identity: keyfile_load(dir, "private.key"), then the public key
 * and its base64 (45 bytes with the NUL), and the line that says which key is
 * used from where. 0 or -errno, the reason logged. */
int keyfile_identity(const char *dir, uint8_t priv[32], uint8_t pub[32], char pub_b64[45]);

#endif
