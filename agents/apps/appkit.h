/*
 * appkit.h: what the scenario apps share.  An app declares its purpose,
 * the types it asks people for, and three callbacks; the kit connects,
 * asks (REQUEST) the people listed with --ask, follows the feed, acks what
 * the app handled, and when a consent ends it has the app erase what that
 * person's data gave it (charter: deletion at the app after withdrawal).
 * On SIGTERM, --duration or --idle-exit it prints the app's report.
 */
#ifndef CARNET_APPKIT_H
#define CARNET_APPKIT_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "../../client/feed.h"

struct app_def {
	const char *prog;     /* carnet-app-budget */
	const char *title;    /* one line: what it does for people */
	const char *purpose;  /* as registered and asked */
	const char *types;    /* asked for, comma-separated */
	const char *note;     /* why, shown to people in the request */
	size_t user_size;     /* bytes of per-person state (zeroed) */
	void (*on_record)(void *user, const struct record *r);
	/* The report: a JSON object per person, under "people". */
	json_t *(*report_user)(const void *user);
	/* Print a person's report for the terminal. */
	void (*print_user)(const void *user, const char *name, FILE *out);
};

int app_main(const struct app_def *d, int argc, char **argv);

/* Body field helpers for minimised records (fields may be absent). */
bool rec_num(const struct record *r, const char *field, double *v);
const char *rec_str(const struct record *r, const char *field, char *buf,
    size_t size);
/* A list field as "a, b, c" (empty when absent). */
const char *rec_list(const struct record *r, const char *field, char *buf,
    size_t size);

#endif
