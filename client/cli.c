/*
 * cli.c: helpers shared by the carnet subcommands.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../common/mpk.h"
#include "cli.h"
#include "kept.h"

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

void
cli_connect(struct cli_conn *cc, const char *cmd)
{
	struct cerr err = {0};

	if (cli_open(cc, &err) != 0)
		exit(cli_fail(cmd, &err));
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
