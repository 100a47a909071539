/*
 * id.c: base32 party ids, hex token ids, ISO 8601 times and durations.
 */
#define _DEFAULT_SOURCE /* timegm */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "id.h"

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

void
id_encode(const uint8_t pk[ID_BYTES], char out[ID_STR_LEN + 1])
{
	id_b32_encode(pk, ID_BYTES, out);
}

void
id_b32_encode(const uint8_t *p, size_t n, char *out)
{
	unsigned acc = 0, bits = 0;
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		acc = (acc << 8) | p[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = b32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = b32[(acc << (5 - bits)) & 31];
	out[o] = '\0';
}

int
id_decode(const char *s, uint8_t pk[ID_BYTES])
{
	unsigned acc = 0, bits = 0;
	size_t i, o = 0;

	if (strlen(s) != ID_STR_LEN)
		return CARNET_E_BAD_VALUE;
	for (i = 0; i < ID_STR_LEN; i++) {
		const char *c = strchr(b32, tolower((unsigned char)s[i]));

		if (c == NULL || *c == '\0')
			return CARNET_E_BAD_VALUE;
		acc = (acc << 5) | (unsigned)(c - b32);
		bits += 5;
		if (bits >= 8) {
			pk[o++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	/* 52 * 5 = 260 bits: the last 4 must be zero padding. */
	if ((acc & ((1u << bits) - 1)) != 0)
		return CARNET_E_BAD_VALUE;
	return 0;
}

void
tokid_encode(const uint8_t id[TOKID_BYTES], char out[TOKID_STR_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < TOKID_BYTES; i++) {
		out[2 * i] = hex[id[i] >> 4];
		out[2 * i + 1] = hex[id[i] & 15];
	}
	out[TOKID_STR_LEN] = '\0';
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
tokid_decode(const char *s, uint8_t id[TOKID_BYTES])
{
	size_t i;

	if (strlen(s) != TOKID_STR_LEN)
		return CARNET_E_BAD_VALUE;
	for (i = 0; i < TOKID_BYTES; i++) {
		int hi = hexval((unsigned char)s[2 * i]);
		int lo = hexval((unsigned char)s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return CARNET_E_BAD_VALUE;
		id[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* Read exactly n digits at *p into *v. */
static int
digits(const char **p, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return 0;
}

int
time_parse(const char *s, int64_t *t)
{
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, se = 0, oh, om, sign;
	const char *p = s;
	time_t r;

	memset(&tm, 0, sizeof(tm));
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) ||
	    *p++ != '-' || digits(&p, 2, &d) || y == 0)
		return CARNET_E_BAD_VALUE;
	if (*p == 'T' || *p == ' ') {
		p++;
		if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
			return CARNET_E_BAD_VALUE;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &se))
				return CARNET_E_BAD_VALUE;
			if (*p == '.') {
				p++;
				if (!isdigit((unsigned char)*p))
					return CARNET_E_BAD_VALUE;
				while (isdigit((unsigned char)*p))
					p++;
			}
		}
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    se > 60)
		return CARNET_E_BAD_VALUE;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	r = timegm(&tm);
	if (tm.tm_mday != d) /* 2017-02-30 normalised to March */
		return CARNET_E_BAD_VALUE;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '+' ? 1 : -1;
		if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) ||
		    oh > 23 || om > 59)
			return CARNET_E_BAD_VALUE;
		r -= sign * (oh * 3600 + om * 60);
	}
	/* an offset may carry 0001-01-01 or 9999-12-31 out of the range */
	if (*p != '\0' || !time_in_range((int64_t)r))
		return CARNET_E_BAD_VALUE;
	*t = (int64_t)r;
	return 0;
}

bool
time_in_range(int64_t t)
{
	return t >= TIME_MIN && t <= TIME_MAX;
}

/* The year is written by hand: glibc's %Y writes year 1 as "1", which
 * time_parse (and FHIR) refuse. */
void
time_format(int64_t t, char out[TIME_STR_LEN + 1])
{
	struct tm tm;
	time_t tt = (time_t)t;
	int y;

	if (!time_in_range(t) || gmtime_r(&tt, &tm) == NULL) {
		snprintf(out, TIME_STR_LEN + 1, "%lld", (long long)t);
		return;
	}
	y = tm.tm_year + 1900; /* 1 to 9999 */
	out[0] = (char)('0' + y / 1000);
	out[1] = (char)('0' + y / 100 % 10);
	out[2] = (char)('0' + y / 10 % 10);
	out[3] = (char)('0' + y % 10);
	strftime(out + 4, TIME_STR_LEN + 1 - 4, "-%m-%dT%H:%M:%SZ", &tm);
}

int
duration_parse(const char *s, int64_t *secs)
{
	char *end;
	long long n;
	int64_t unit;

	if (!isdigit((unsigned char)*s))
		return CARNET_E_BAD_VALUE;
	n = strtoll(s, &end, 10);
	switch (*end) {
	case 's': unit = 1; break;
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	case 'd': unit = 86400; break;
	case 'w': unit = 7 * 86400; break;
	case 'y': unit = 365 * 86400; break;
	default: return CARNET_E_BAD_VALUE;
	}
	if (end[1] != '\0' || n <= 0 || n > 100LL * 365 * 86400 / unit)
		return CARNET_E_BAD_VALUE;
	*secs = n * unit;
	return 0;
}

int
end_parse(const char *s, int64_t now, int64_t *end)
{
	int64_t d;

	if (duration_parse(s, &d) == 0)
		*end = now + d;
	else if (time_parse(s, end) != 0)
		return CARNET_E_BAD_VALUE;
	return *end > now ? 0 : CARNET_E_EXPIRED;
}

int64_t
time_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
time_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
