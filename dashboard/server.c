/*
 * server.c: carnet dashboard, the person's page in their browser.
 *
 * A small web server (libmicrohttpd) on 127.0.0.1 only, serving the page
 * (dashboard/web/, built into this program) and its JSON API
 * (api.c), which talks to the broker as the person: the key stays in
 * this process, tokens and revocations are signed here.
 *
 * Who may call: the page is opened from the URL printed at start, whose
 * fragment holds a secret made for this run; the page sends it back in the
 * X-Carnet-Secret header of every API call.  Another site open in the same
 * browser cannot read the fragment nor set that header on a cross-site
 * request, and a Host header other than 127.0.0.1:PORT or localhost:PORT
 * (DNS rebinding) is refused.  Every reply carries a strict
 * Content-Security-Policy.  libmicrohttpd's single polling thread runs
 * every handler, so the broker connection is only ever used by it.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sodium.h>

#include "../client/cli.h"
#include "api.h"
#include "dashboard.h"

#define DEFAULT_PORT 7460
#define SECRET_BYTES 24

static const char dashboard_help[] =
"usage: carnet dashboard [--port N] [--lang fr|en] [connection options]\n"
"\n"
"Your dashboard, in your browser: a local web server on 127.0.0.1 that\n"
"shows\n"
"  - your consents: which app, run by whom, for what purpose and business\n"
"    model, which data from which holders, since and until when, with a\n"
"    Revoke button (it takes effect at once), and Pause / Resume;\n"
"  - what apps asked you for, and why, with Accept (the consent is signed\n"
"    here, with your key) and Decline;\n"
"  - the log of every use of your data as a timeline, filterable by app\n"
"    and data type, with charts of uses over time, and whether the log\n"
"    verifies (its chain and the broker's signature);\n"
"  - who may see or manage your consents (End access ends it at once),\n"
"    whom you may act for, and your emergency card; an emergency opening\n"
"    of your card is shown first, with its reason;\n"
"  - your data per holder and type, each field explained;\n"
"  - Download my data, as JSON or FHIR.\n"
"It prints the address to open (with a secret made for this run: only\n"
"that address can use the page) and serves until Ctrl-C.  Your key never\n"
"leaves this program; it talks to the broker as you.\n"
"\n"
"  --port N           the port on 127.0.0.1 (default 7460; 0: any free one)\n"
"  --lang fr|en       the labels' language at first (default fr; the page\n"
"                     has a switch)\n"
"\n" CLI_CONN_HELP;

struct server {
	struct dash d;
	char secret[2 * SECRET_BYTES + 1];
	char host_ip[32], host_name[32]; /* the Host values accepted */
};

/* One request being read: the body of a POST. */
struct pending {
	char *body;
	size_t len;
	bool too_big;
};

static void
headers(struct MHD_Response *r, bool api)
{
	MHD_add_response_header(r, "Content-Security-Policy",
	    "default-src 'none'; script-src 'self'; style-src 'self'; "
	    "img-src 'self' data:; connect-src 'self'; "
	    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Cache-Control", api ? "no-store" :
	    "no-cache");
}

static enum MHD_Result
send_text(struct MHD_Connection *con, unsigned status, const char *type,
    const char *data, size_t len, enum MHD_ResponseMemoryMode mode, bool api)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len,
	    (void *)data, mode);
	enum MHD_Result ret;

	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	headers(r, api);
	ret = MHD_queue_response(con, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
send_json(struct MHD_Connection *con, const struct dash_out *out)
{
	char *text = json_dumps(out->json, JSON_COMPACT | JSON_ENSURE_ASCII);
	struct MHD_Response *r;
	enum MHD_Result ret;
	char disp[128];

	if (text == NULL)
		return MHD_NO;
	r = MHD_create_response_from_buffer(strlen(text), text,
	    MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type",
	    "application/json; charset=utf-8");
	if (out->filename != NULL) {
		snprintf(disp, sizeof(disp), "attachment; filename=\"%s\"",
		    out->filename);
		MHD_add_response_header(r, "Content-Disposition", disp);
	}
	headers(r, true);
	ret = MHD_queue_response(con, out->status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
refuse(struct MHD_Connection *con, unsigned status, const char *code,
    const char *message)
{
	struct dash_out out = {status, json_pack("{s:{s:s, s:s}}", "error",
	    "code", code, "message", message), NULL};
	enum MHD_Result ret = send_json(con, &out);

	json_decref(out.json);
	return ret;
}

/* The page must have been opened from the printed address. */
static bool
secret_ok(const struct server *s, struct MHD_Connection *con)
{
	const char *got = MHD_lookup_connection_value(con, MHD_HEADER_KIND,
	    "X-Carnet-Secret");

	return got != NULL && strlen(got) == strlen(s->secret) &&
	    sodium_memcmp(got, s->secret, strlen(s->secret)) == 0;
}

static bool
host_ok(const struct server *s, struct MHD_Connection *con)
{
	const char *h = MHD_lookup_connection_value(con, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_HOST);

	return h != NULL && (strcmp(h, s->host_ip) == 0 ||
	    strcmp(h, s->host_name) == 0);
}

static enum MHD_Result
api(struct server *s, struct MHD_Connection *con, const char *method,
    const char *url, struct pending *p)
{
	const char *type = MHD_lookup_connection_value(con, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	struct dash_out out;
	json_t *body = NULL;
	enum MHD_Result ret;

	if (!secret_ok(s, con))
		return refuse(con, 401, "auth", "open the dashboard from the "
		    "address carnet dashboard printed");
	if (strcmp(method, "POST") == 0) {
		json_error_t je;

		if (p->too_big)
			return refuse(con, 413, "too_big", "request body over "
			    "16 KiB");
		if (type == NULL || strncmp(type, "application/json", 16) != 0)
			return refuse(con, 415, "malformed", "want a JSON body "
			    "(Content-Type: application/json)");
		if ((body = json_loadb(p->body ? p->body : "", p->len, 0,
		    &je)) == NULL || !json_is_object(body)) {
			json_decref(body);
			return refuse(con, 400, "malformed", "the body is not a "
			    "JSON object");
		}
	}
	dash_api(&s->d, method, url + 5, MHD_lookup_connection_value(con,
	    MHD_GET_ARGUMENT_KIND, "format"), body, &out);
	json_decref(body);
	ret = send_json(con, &out);
	json_decref(out.json);
	return ret;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *con, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct server *s = cls;
	struct pending *p = *con_cls;
	const struct dash_asset *a;

	(void)version;
	if (p == NULL) { /* first call: headers only */
		if ((p = calloc(1, sizeof(*p))) == NULL)
			return MHD_NO;
		*con_cls = p;
		return MHD_YES;
	}
	if (*upload_size != 0) { /* a piece of the body */
		if (p->too_big || p->len + *upload_size > DASH_BODY_MAX_BYTES) {
			p->too_big = true;
		} else {
			char *n = realloc(p->body, p->len + *upload_size);

			if (n == NULL)
				return MHD_NO;
			memcpy(n + p->len, upload, *upload_size);
			p->body = n;
			p->len += *upload_size;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (!host_ok(s, con))
		return refuse(con, 421, "forbidden", "this dashboard answers "
		    "only to 127.0.0.1 and localhost");
	if (strncmp(url, "/api/", 5) == 0)
		return api(s, con, method, url, p);
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return refuse(con, 405, "forbidden", "the page is read-only");
	if ((a = dash_asset(url)) == NULL)
		return send_text(con, 404, "text/plain; charset=utf-8",
		    "not found\n", 10, MHD_RESPMEM_PERSISTENT, false);
	return send_text(con, 200, a->type, a->data, a->len,
	    MHD_RESPMEM_PERSISTENT, false);
}

static void
completed(void *cls, struct MHD_Connection *con, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct pending *p = *con_cls;

	(void)cls, (void)con, (void)toe;
	if (p != NULL) {
		free(p->body);
		free(p);
		*con_cls = NULL;
	}
}

int
cmd_dashboard(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_CONN_OPTIONS,
		{"port", required_argument, NULL, 'p'},
		{"lang", required_argument, NULL, 'l'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static struct server s; /* the key lives here: wiped at the end */
	uint8_t raw[SECRET_BYTES];
	struct sockaddr_in sin;
	struct MHD_Daemon *daemon;
	const union MHD_DaemonInfo *info;
	struct cerr err = {0};
	sigset_t stop;
	long port = DEFAULT_PORT;
	char *end;
	int c, sig;

	memset(&s, 0, sizeof(s));
	s.d.lang = "fr";
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_conn_opt(&s.d.cc, c, optarg))
			continue;
		switch (c) {
		case 'p':
			port = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || port < 0 ||
			    port > 65535)
				return cli_failx("dashboard", "--port: 0 to "
				    "65535");
			break;
		case 'l':
			if (strcmp(optarg, "fr") != 0 && strcmp(optarg, "en") != 0)
				return cli_failx("dashboard", "--lang: fr or en");
			s.d.lang = strcmp(optarg, "fr") == 0 ? "fr" : "en";
			break;
		case 'h': return fputs(dashboard_help, stdout), 0;
		default: return cli_usage(dashboard_help);
		}
	}
	if (optind != argc)
		return cli_usage(dashboard_help);
	/* The key must be readable now; the broker may come later (the
	 * page says so while it is unreachable). */
	if (cli_open(&s.d.cc, &err) != 0) {
		if (err.code != CARNET_E_TIMEOUT && err.code != CARNET_E_AUTH)
			return cli_fail("dashboard", &err);
		fprintf(stderr, "carnet dashboard: warning: %s [%s]; the page "
		    "will say so until it works\n", cerr_msg(&err),
		    carnet_errname(err.code));
	}
	dash_close(&s.d); /* reconnected by the server's thread */

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(s.secret, sizeof(s.secret), raw, sizeof(raw));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* Block the stop signals in every thread; this one waits for them. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* epoll (MHD_USE_AUTO): no select() ceiling on descriptors, so idle
	 * connections some local program opens do not crowd the person out;
	 * a connection silent for a few seconds is closed (a browser opens
	 * another when it needs one). */
	daemon = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD |
	    MHD_USE_ERROR_LOG, (uint16_t)port, NULL, NULL, handle, &s,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)DASH_MAX_CONNS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)DASH_IDLE_S,
	    MHD_OPTION_END);
	if (daemon == NULL)
		return cli_failx("dashboard", "cannot listen on 127.0.0.1:%ld "
		    "(in use? try --port 0)", port);
	if ((info = MHD_get_daemon_info(daemon,
	    MHD_DAEMON_INFO_BIND_PORT)) != NULL && info->port != 0)
		port = info->port;
	snprintf(s.host_ip, sizeof(s.host_ip), "127.0.0.1:%ld", port);
	snprintf(s.host_name, sizeof(s.host_name), "localhost:%ld", port);
	printf("http://127.0.0.1:%ld/#k=%s\n", port, s.secret);
	fflush(stdout);
	fprintf(stderr, "carnet dashboard: open the address above in your "
	    "browser; Ctrl-C stops\n");
	while (sigwait(&stop, &sig) != 0)
		;
	MHD_stop_daemon(daemon);
	dash_close(&s.d);
	sodium_memzero(s.secret, sizeof(s.secret));
	fprintf(stderr, "carnet dashboard: stopped\n");
	return 0;
}
