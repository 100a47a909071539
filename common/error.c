/*
 * error.c: names and messages of the project error codes, derived from the
 * CARNET_ERRORS table in error.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

struct errdesc {
	const char *name;
	const char *msg;
};

static const struct errdesc errdescs[] = {
#define X(n, w, m) {w, m},
	CARNET_ERRORS(X)
#undef X
};

static const struct errdesc *
errdesc_of(int code)
{
	if (code <= CARNET_E__FIRST || code >= CARNET_E__LAST)
		return NULL;
	return &errdescs[code - CARNET_E__FIRST - 1];
}

const char *
carnet_strerror(int code)
{
	const struct errdesc *d;

	if (code == 0)
		return "ok";
	d = errdesc_of(code);
	return d ? d->msg : "unknown error";
}

const char *
carnet_errname(int code)
{
	const struct errdesc *d;

	if (code == 0)
		return "ok";
	d = errdesc_of(code);
	return d ? d->name : "unknown";
}

int
carnet_errcode(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(errdescs) / sizeof(errdescs[0]); i++)
		if (strlen(errdescs[i].name) == len &&
		    memcmp(errdescs[i].name, name, len) == 0)
			return CARNET_E__FIRST + 1 + (int)i;
	return CARNET_E_MALFORMED;
}

int
cerr_set(struct cerr *err, int code, const char *fmt, ...)
{
	char buf[sizeof(err->msg)];
	va_list ap;

	if (err == NULL)
		return code;
	/* Format apart: callers may pass err->msg itself as an argument. */
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	err->code = code;
	memcpy(err->msg, buf, sizeof(buf));
	return code;
}

const char *
cerr_msg(const struct cerr *err)
{
	if (err->msg[0] != '\0')
		return err->msg;
	return carnet_strerror(err->code);
}
