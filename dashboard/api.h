/*
 * api.h: what carnet dashboard's page asks for, answered as JSON.
 *
 * The web server (server.c) checks who may call; this part talks to
 * the broker as the person, with the key held by this process, and turns
 * each answer or refusal into a status and a JSON body.  One thread only:
 * the connection to the broker is not thread-safe.
 */
#ifndef CARNET_DASHBOARD_API_H
#define CARNET_DASHBOARD_API_H

#include <stdint.h>

#include <jansson.h>

#include "../client/cli.h"

struct dash {
	struct cli_conn cc;   /* connection options; cc.c while connected */
	const char *lang;     /* the labels' default language: "fr" or "en" */
	int64_t failed_at;    /* when connecting last failed (ms, monotonic) */
	struct cerr failed;   /* and why */
};

struct dash_out {
	unsigned status;      /* HTTP status */
	json_t *json;         /* the body (the caller decrefs) */
	const char *filename; /* set: serve as a download with this name */
};

/*
 * Answer METHOD /api/PATH.  arg is the "format" query parameter of
 * download (json or fhir), body the parsed JSON of a POST (may be NULL).
 * Every error body is {"error": {"code": stable name, "message": text}}:
 * 503 the broker is unreachable, 403 it refused the key, 404 no such
 * thing, 400 a bad request, 409 the broker refused the action.
 */
void dash_api(struct dash *d, const char *method, const char *path,
    const char *arg, json_t *body, struct dash_out *out);
/* The page's files, built into the program (dash_assets.c): the one
 * served at path ("/" is index.html), or NULL. */
struct dash_asset {
	const char *path, *type;
	const char *data;
	size_t len;
};
const struct dash_asset *dash_asset(const char *path);

/* Close the broker connection and wipe the key. */
void dash_close(struct dash *d);

#endif
