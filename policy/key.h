/*
 * key.h: one Ed25519 key pair per party, kept in a key file.
 *
 * The file is text, mode 0600:
 *     # carnet key: keep this file secret
 *     public <party id>
 *     seed <64 hex digits>
 * A key file that group or others may read, or that another user than the
 * one running (or root) owns, is refused (CARNET_E_KEY_PERMS).
 * The CurveZMQ key pair is derived from the Ed25519 one, so one file serves
 * both signing and transport.  Secrets are wiped after use: call key_wipe.
 */
#ifndef CARNET_KEY_H
#define CARNET_KEY_H

#include <stdint.h>

#include "../common/error.h"
#include "../common/id.h"

struct keypair {
	uint8_t pk[ID_BYTES];  /* Ed25519 public key: the party id */
	uint8_t sk[64];        /* Ed25519 secret key (seed || pk) */
};

/* A new random key pair.  0 or CARNET_E_NOMEM (libsodium not ready). */
int key_generate(struct keypair *kp) __attribute__((warn_unused_result));
/* Write kp to a new file (refuses to overwrite), mode 0600. */
int key_write(const char *path, const struct keypair *kp, struct cerr *err)
    __attribute__((warn_unused_result));
/* Read a key file; refuses loose permissions and inconsistent contents. */
int key_read(const char *path, struct keypair *kp, struct cerr *err)
    __attribute__((warn_unused_result));
/* CurveZMQ keys (raw 32 bytes) of an Ed25519 pair or public key. */
int key_curve(const struct keypair *kp, uint8_t curve_pk[32],
    uint8_t curve_sk[32]) __attribute__((warn_unused_result));
int key_curve_pk(const uint8_t ed_pk[ID_BYTES], uint8_t curve_pk[32])
    __attribute__((warn_unused_result));
void key_wipe(struct keypair *kp);

#endif
