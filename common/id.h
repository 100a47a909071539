/*
 * id.h: printable forms of party ids, token ids and times.
 *
 * A party id is its 32-byte Ed25519 public key in lowercase base32 without
 * padding (52 characters, never starting with '-', safe in shells and URLs).
 * A token id is 16 random bytes in lowercase hex.  Times are seconds since
 * the epoch, UTC, printed as ISO 8601 ("2017-03-02T10:00:00Z") with a
 * four-digit year: so carnet takes only times of years 0001 to 9999
 * (TIME_MIN to TIME_MAX), and every time it writes it can read back.
 */
#ifndef CARNET_ID_H
#define CARNET_ID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ID_BYTES 32
#define ID_STR_LEN 52
#define TOKID_BYTES 16
#define TOKID_STR_LEN 32
#define TIME_STR_LEN 20
#define TIME_MIN INT64_C(-62135596800) /* 0001-01-01T00:00:00Z */
#define TIME_MAX INT64_C(253402300799) /* 9999-12-31T23:59:59Z */
#define TIME_RANGE_TEXT "0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z"

void id_encode(const uint8_t pk[ID_BYTES], char out[ID_STR_LEN + 1]);
/* n bytes in the same base32, (8n + 4) / 5 characters and a NUL in out. */
void id_b32_encode(const uint8_t *p, size_t n, char *out);
/* 0, or CARNET_E_BAD_VALUE when s is not exactly a 52-character id. */
int id_decode(const char *s, uint8_t pk[ID_BYTES])
    __attribute__((warn_unused_result));

void tokid_encode(const uint8_t id[TOKID_BYTES], char out[TOKID_STR_LEN + 1]);
int tokid_decode(const char *s, uint8_t id[TOKID_BYTES])
    __attribute__((warn_unused_result));

/*
 * Parse "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.fff]]" followed by "Z" or
 * "+HH:MM"/"-HH:MM" (a time without zone is UTC).  0, or CARNET_E_BAD_VALUE
 * when s is not such a time or falls outside TIME_MIN..TIME_MAX.
 */
int time_parse(const char *s, int64_t *t) __attribute__((warn_unused_result));
/* True when t is in TIME_MIN..TIME_MAX. */
bool time_in_range(int64_t t);
/* "0001-01-01T00:00:00Z" (always four digits of year) for t in range; a
 * time out of range is written as its number of seconds. */
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
