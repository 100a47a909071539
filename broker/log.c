/*
 * log.c: carnetd's log, one line per notable event on stderr, with a UTC
 * time stamp.  Secrets and record payloads are never logged.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "broker.h"

static const char *prog = "carnetd";

void
log_init(const char *progname)
{
	prog = progname;
}

static void
vlog(const char *level, const char *fmt, va_list ap)
{
	char ts[32];
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "%s %s %s: ", ts, prog, level);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("info", fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warn", fmt, ap);
	va_end(ap);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("fatal", fmt, ap);
	va_end(ap);
	exit(1);
}
