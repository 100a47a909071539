/*
 * cli.c: helpers shared by the carnet subcommands.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/limits.h"
#include "../common/mpk.h"
#include "../common/plainfile.h"
#include "cli.h"
#include "kept.h"

bool
cli_conn_opt(struct cli_conn *cc, int c, const char *arg)
{
	switch (c) {
	case 0x100:
		cc->broker = arg;
		return true;
	case 0x101:
		cc->key = arg;
		return true;
	case 0x102:
		cc->broker_id = arg;
		return true;
	case 0x103:
		cc->data = arg;
		return true;
	case 0x104:
		cc->for_id = arg;
		return true;
	}
	return false;
}

/* "carnet put: ..." for CLI commands, "carnet-lab: ..." for programs. */
static const char *
prefix(const char *cmd)
{
	return strncmp(cmd, "carnet", 6) == 0 ? "" : "carnet ";
}

int
cli_fail(const char *cmd, const struct cerr *err)
{
	fprintf(stderr, "%s%s: %s [%s]\n", prefix(cmd), cmd, cerr_msg(err),
	    carnet_errname(err->code));
	return 1;
}

int
cli_failx(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s%s: ", prefix(cmd), cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

int
cli_usage(const char *text)
{
	fputs(text, stderr);
	return EXIT_USAGE;
}

int
cli_conn_broker_id(struct cli_conn *cc, uint8_t id[ID_BYTES],
    struct cerr *err)
{
	const char *s = cc->broker_id ? cc->broker_id : getenv("CARNET_BROKER_ID");
	char path[4096], line[128];
	FILE *f;
	size_t n;

	if (s == NULL || cc->data != NULL) {
		snprintf(path, sizeof(path), "%s/broker.pub",
		    cc->data ? cc->data : DEFAULT_DATA);
		if ((f = plainfile_open(path)) == NULL)
			return cerr_set(err, CARNET_E_BAD_ARG,
			    "no broker id: give --broker-id, CARNET_BROKER_ID "
			    "or --data DIR (cannot read %s)", path);
		if (fgets(line, sizeof(line), f) == NULL)
			line[0] = '\0';
		fclose(f);
		n = strlen(line);
		while (n > 0 && isspace((unsigned char)line[n - 1]))
			line[--n] = '\0';
		s = line;
	}
	if (id_decode(s, id) != 0)
		return cerr_set(err, CARNET_E_BAD_ARG,
		    "the broker id '%.60s' is not a carnet id", s);
	return 0;
}

int
cli_open(struct cli_conn *cc, struct cerr *err)
{
	const char *endpoint = cc->broker ? cc->broker : getenv("CARNET_BROKER");
	const char *key = cc->key ? cc->key : getenv("CARNET_KEY");
	uint8_t bid[ID_BYTES];
	int rc;

	if (endpoint == NULL)
		endpoint = DEFAULT_BROKER;
	if (key == NULL)
		return cerr_set(err, CARNET_E_BAD_ARG, "no key: give --key FILE "
		    "or set CARNET_KEY (make one with carnet keygen)");
	if (cc->for_id != NULL) {
		if (id_decode(cc->for_id, cc->who) != 0)
			return cerr_set(err, CARNET_E_BAD_ARG, "--for: '%.60s' "
			    "is not a carnet id", cc->for_id);
		cc->has_for = true;
	}
	if ((rc = cli_conn_broker_id(cc, bid, err)) != 0 ||
	    (rc = key_read(key, &cc->kp, err)) != 0 ||
	    (rc = client_new(endpoint, bid, &cc->kp, &cc->c, err)) != 0)
		return rc;
	if ((rc = client_wait_ready(cc->c, CLIENT_CONNECT_TIMEOUT_MS,
	    err)) != 0) {
		cli_disconnect(cc);
		return rc;
	}
	if (!cc->has_for)
		memcpy(cc->who, cc->kp.pk, ID_BYTES);
	return 0;
}

void
cli_connect(struct cli_conn *cc, const char *cmd)
{
	struct cerr err = {0};

	if (cli_open(cc, &err) != 0)
		exit(cli_fail(cmd, &err));
}

msgpack_packer *
cli_begin(struct cli_conn *cc, uint32_t nkeys)
{
	msgpack_packer *pk = client_begin(cc->c, nkeys + (cc->has_for ? 1 : 0));

	if (cc->has_for) {
		mpk_pack_cstr(pk, "for");
		mpk_pack_binn(pk, cc->who, ID_BYTES);
	}
	return pk;
}

void
cli_disconnect(struct cli_conn *cc)
{
	client_destroy(&cc->c);
	key_wipe(&cc->kp);
}

int
cli_try(struct cli_conn *cc, const char *cmd, msgpack_unpacked *reply,
    struct cerr *err)
{
	int rc;

	if (cc->c == NULL)
		return cerr_set(err, CARNET_E_TRANSPORT, "not connected to the "
		    "broker");
	if ((rc = client_call(cc->c, cmd, reply, err)) == 0)
		(void)kept_check(cc, &reply->data);
	return rc;
}

void
cli_call(struct cli_conn *cc, const char *cmd, const char *what,
    msgpack_unpacked *reply)
{
	struct cerr err = {0};

	if (cli_try(cc, cmd, reply, &err) != 0) {
		cli_disconnect(cc);
		exit(cli_fail(what, &err));
	}
}

int
cli_query(int argc, char **argv, const char *help, const char *what,
    const char *cmd, struct cli_conn *cc, bool *json, msgpack_unpacked *reply)
{
	static const struct option opts[] = {
		CLI_CONN_OPTIONS,
		CLI_FOR_OPTION,
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	*json = false;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_conn_opt(cc, c, optarg))
			continue;
		if (c == 'j')
			*json = true;
		else if (c == 'h')
			return fputs(help, stdout), 0;
		else
			return cli_usage(help);
	}
	if (optind != argc)
		return cli_usage(help);
	cli_connect(cc, what);
	if (cmd != NULL) {
		cli_begin(cc, 0);
		cli_call(cc, cmd, what, reply);
	}
	return -1;
}

int
cli_one_arg(int argc, char **argv, const char *help, bool with_for,
    const struct option *extra, int (*opt)(void *arg, int c, const char *val),
    void *arg, struct cli_conn *cc)
{
	struct option opts[CLI_ONE_ARG_EXTRA_MAX + 7] = {
		CLI_CONN_OPTIONS,
		{"help", no_argument, NULL, 'h'},
	};
	size_t n = 5, i;
	int c;

	if (with_for)
		opts[n++] = (struct option)CLI_FOR_OPTION;
	for (i = 0; extra && extra[i].name && i < CLI_ONE_ARG_EXTRA_MAX; i++)
		opts[n++] = extra[i];
	memset(&opts[n], 0, sizeof(opts[n]));
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_conn_opt(cc, c, optarg))
			continue;
		if (c == 'h')
			return fputs(help, stdout), 0;
		if (c == '?' || opt == NULL || opt(arg, c, optarg) != 0)
			return cli_usage(help);
	}
	if (optind + 1 != argc)
		return cli_usage(help);
	return -1;
}

bool
cli_confirm(const char *question)
{
	char line[32];

	fprintf(stderr, "%s [y/N] ", question);
	fflush(stderr);
	if (fgets(line, sizeof(line), stdin) == NULL)
		return false;
	return line[0] == 'y' || line[0] == 'Y' || line[0] == 'o' ||
	    line[0] == 'O';
}

int
cli_split(char *s, char **items, int max)
{
	int n = 0;
	char *tok, *save = NULL;

	for (tok = strtok_r(s, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (n == max)
			return -1;
		items[n++] = tok;
	}
	return n;
}

void
cli_print_json(json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII |
	    JSON_REAL_PRECISION(10));

	if (s != NULL) {
		puts(s);
		free(s);
	}
}

json_t *
cli_json_id(const msgpack_object *o)
{
	uint8_t id[ID_BYTES];
	char s[ID_STR_LEN + 1];

	if (o == NULL || mpk_bin_n(o, id, ID_BYTES) != 0)
		return json_null();
	id_encode(id, s);
	return json_string(s);
}

void
cli_names_merge(json_t *into, const msgpack_object *names)
{
	uint32_t i;

	for (i = 0; names && names->type == MSGPACK_OBJECT_MAP &&
	    i < names->via.map.size; i++) {
		const msgpack_object *v = &names->via.map.ptr[i].val;
		json_t *id = cli_json_id(&names->via.map.ptr[i].key);

		if (json_is_string(id) && v->type == MSGPACK_OBJECT_STR)
			json_object_set_new(into, json_string_value(id),
			    json_stringn(v->via.str.ptr, v->via.str.size));
		json_decref(id);
	}
}
