/*
 * id.h: printable forms of party ids, token ids and times.
 *
 * A party id is its 32-byte Ed25519 public key in lowercase base32 without
 * padding (52 characters, never starting with '-', safe in shells and URLs).
 * A token id is 16 random bytes in lowercase hex.  Times are seconds since
 * the epoch, UTC, printed as ISO 8601 ("2017-03-02T10:00:00Z").
 */
#ifndef CARNET_ID_H
#define CARNET_ID_H

#include <stddef.h>
#include <stdint.h>

#define ID_BYTES 32
#define ID_STR_LEN 52
#define TOKID_BYTES 16
#define TOKID_STR_LEN 32
#define TIME_STR_LEN 20

void id_encode(const uint8_t pk[ID_BYTES], char out[ID_STR_LEN + 1]);
/* 0, or CARNET_E_BAD_VALUE when s is not exactly a 52-character id. */
int id_decode(const char *s, uint8_t pk[ID_BYTES])
    __attribute__((warn_unused_result));

void tokid_encode(const uint8_t id[TOKID_BYTES], char out[TOKID_STR_LEN + 1]);
int tokid_decode(const char *s, uint8_t id[TOKID_BYTES])
    __attribute__((warn_unused_result));

/*
 * Parse "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.fff]]" followed by "Z" or
 * "+HH:MM"/"-HH:MM" (a time without zone is UTC).  0 or CARNET_E_BAD_VALUE.
 */
int time_parse(const char *s, int64_t *t) __attribute__((warn_unused_result));
void time_format(int64_t t, char out[TIME_STR_LEN + 1]);
/* "90s", "15m", "12h", "30d", "2w", "1y" -> seconds.  0 or CARNET_E_BAD_VALUE. */
int duration_parse(const char *s, int64_t *secs)
    __attribute__((warn_unused_result));
/* An end time given as a duration from now (90d) or a date: 0, or
 * CARNET_E_BAD_VALUE (neither), CARNET_E_EXPIRED (not after now). */
int end_parse(const char *s, int64_t now, int64_t *end)
    __attribute__((warn_unused_result));

/* A monotonic clock in milliseconds, for timeouts (not a date). */
int64_t time_mono_ms(void);
/* The date now, in milliseconds since the epoch (UTC). */
int64_t time_now_ms(void);

#endif
