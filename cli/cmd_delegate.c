/*
 * cmd_delegate.c: carnet delegate: a relative or caregiver who sees or
 * manages a person's consents.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "../client/person.h"
#include "../common/mpk.h"
#include "../common/proto.h"
#include "../common/text.h"
#include "../policy/token.h"
#include "../schemas/recjson.h"
#include "cmds.h"

static const char delegate_help[] =
"usage: carnet delegate grant --to PUBID --scope view|manage\n"
"                             [--types T1,T2] [--expires DURATION|DATE]\n"
"       carnet delegate list [--json]\n"
"       carnet delegate revoke PUBID\n"
"       (each with the connection options below)\n"
"\n"
"grant   let another registered person (a relative, a caregiver) act on\n"
"        your dashboard, signed with your key:\n"
"  --to PUBID          their id\n"
"  --scope view        read your consents, requests, log, receipts and\n"
"                      emergency card\n"
"  --scope manage      also grant, decline, revoke, pause, resume and renew\n"
"                      consents for you, signed with their own key\n"
"  --types T1,T2       only consents about these record types (default:\n"
"                      every type)\n"
"  --expires D         end of the delegation (default: until you revoke it);\n"
"                      what a delegate grants cannot outlast it\n"
"        Every act of a delegate is written to your log, naming them.  They\n"
"        use the person commands with --for YOUR_ID.\n"
"list    the people you gave access to, and those who gave you access\n"
"revoke  end a delegate's access at once\n"
"\n";

/* The help, with what each scope lets a delegate send, from the broker's
 * command table (common/proto.h), then the connection options. */
static const char *
delegate_help_text(void)
{
	static char text[4096];
	size_t n;
	unsigned d;
	int c;

	if (text[0] != '\0')
		return text;
	n = (size_t)snprintf(text, sizeof(text), "%sThe broker's commands a "
	    "delegate may send for you:\n", delegate_help);
	for (d = D_VIEW; d <= D_MANAGE && n < sizeof(text); d++) {
		n += (size_t)snprintf(text + n, sizeof(text) - n, "  %-8s%s",
		    d == D_VIEW ? "view" : "manage", d == D_VIEW ? "" :
		    " the above, and");
		for (c = CMD__NONE + 1; c < CMD__LAST && n < sizeof(text); c++)
			if (proto_cmd_deleg((enum carnet_cmd)c) == d)
				n += (size_t)snprintf(text + n, sizeof(text) -
				    n, " %s", proto_cmd_name((enum carnet_cmd)c));
		if (n < sizeof(text))
			n += (size_t)snprintf(text + n, sizeof(text) - n,
			    "\n");
	}
	if (n < sizeof(text))
		snprintf(text + n, sizeof(text) - n, "\n%s", CLI_CONN_HELP);
	return text;
}

static int
delegate_grant(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_CONN_OPTIONS,
		{"to", required_argument, NULL, 't'},
		{"scope", required_argument, NULL, 's'},
		{"types", required_argument, NULL, 'T'},
		{"expires", required_argument, NULL, 'e'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_conn cc = {0};
	struct delegation d;
	struct cerr err = {0};
	const char *to = NULL, *scope = NULL, *expires = NULL;
	char *types = NULL, *items[TOKEN_MAX_TYPES];
	msgpack_packer *pk;
	msgpack_unpacked reply;
	uint8_t *blob;
	size_t len;
	int c, n, i;

	memset(&d, 0, sizeof(d));
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_conn_opt(&cc, c, optarg))
			continue;
		switch (c) {
		case 't': to = optarg; break;
		case 's': scope = optarg; break;
		case 'T': types = optarg; break;
		case 'e': expires = optarg; break;
		case 'h': return fputs(delegate_help_text(), stdout), 0;
		default: return cli_usage(delegate_help_text());
		}
	}
	if (to == NULL || scope == NULL || optind != argc)
		return cli_usage(delegate_help_text());
	if (id_decode(to, d.to) != 0)
		return cli_failx("delegate grant", "--to: not a carnet id");
	if (strcmp(scope, "view") == 0)
		d.scope = DELEG_VIEW;
	else if (strcmp(scope, "manage") == 0)
		d.scope = DELEG_MANAGE;
	else
		return cli_failx("delegate grant", "--scope is view or manage");
	if (types != NULL) {
		if ((n = cli_split(types, items, TOKEN_MAX_TYPES)) <= 0)
			return cli_failx("delegate grant", "--types: 1 to %d "
			    "types", TOKEN_MAX_TYPES);
		for (i = 0; i < n; i++)
			if ((d.types[d.ntypes++] = schema_by_name(items[i],
			    strlen(items[i]))) == NULL)
				return cli_failx("delegate grant", "unknown "
				    "record type '%s' (see carnet schema)",
				    items[i]);
	}
	d.issued = (int64_t)time(NULL);
	if (expires != NULL && end_parse(expires, d.issued, &d.expires) != 0)
		return cli_failx("delegate grant", "--expires: want a "
		    "duration (90d, 1y) or a date to come");
	cli_connect(&cc, "delegate grant");
	memcpy(d.user, cc.kp.pk, ID_BYTES);
	randombytes_buf(d.id, sizeof(d.id));
	if (delegation_sign(&d, cc.kp.sk, &blob, &len, &err) != 0) {
		cli_disconnect(&cc);
		return cli_fail("delegate grant", &err);
	}
	pk = client_begin(cc.c, 1);
	mpk_pack_cstr(pk, "delegation");
	mpk_pack_binn(pk, blob, len);
	free(blob);
	cli_call(&cc, "DELEGATE", "delegate grant", &reply);
	msgpack_unpacked_destroy(&reply);
	cli_disconnect(&cc);
	printf("%s may now %s your consents%s%s; end it with: carnet delegate "
	    "revoke %s\n", to, d.scope == DELEG_MANAGE ? "see and manage" :
	    "see", types ? " about " : "", types ? types : "", to);
	return 0;
}

static void
print_delegs(json_t *list, bool json)
{
	json_t *o;
	size_t k;

	json_array_foreach(list, k, o) {
		json_t *jt = json_object_get(o, "types");
		char *ts;

		if (json) {
			cli_print_json(o);
			continue;
		}
		ts = json_array_size(jt) ? json_dumps(jt, JSON_COMPACT) : NULL;
		printf("%-8s %-12s %-6s %-7s %s types=%s until=%s\n",
		    json_string_value(json_object_get(o, "direction")),
		    text_term(json_string_value(json_object_get(o, "name"))),
		    json_string_value(json_object_get(o, "scope")),
		    json_string_value(json_object_get(o, "state")),
		    json_string_value(json_object_get(o, "id")),
		    ts ? ts : "all", json_is_string(json_object_get(o, "until")) ?
		    json_string_value(json_object_get(o, "until")) :
		    "you revoke it");
		free(ts);
	}
}

static int
delegate_list(int argc, char **argv)
{
	struct cli_conn cc = {0};
	msgpack_unpacked reply;
	json_t *list;
	bool json;
	int rc;

	if ((rc = cli_query(argc, argv, delegate_help_text(), "delegate list",
	    "DELEGATES", &cc, &json, &reply)) >= 0)
		return rc;
	list = person_delegations_json(&reply.data);
	msgpack_unpacked_destroy(&reply);
	print_delegs(list, json);
	json_decref(list);
	cli_disconnect(&cc);
	return 0;
}

/* The shape of "CMD ID" subcommands: connection options, one id. */
static int
one_id_cmd(int argc, char **argv, const char *help, const char *what,
    struct cli_conn *cc, uint8_t id[ID_BYTES])
{
	int rc;

	if ((rc = cli_one_arg(argc, argv, help, false, NULL, NULL, NULL,
	    cc)) >= 0)
		return rc;
	if (id_decode(argv[optind], id) != 0)
		return cli_failx(what, "'%.60s' is not a carnet id",
		    argv[optind]);
	return -1;
}

static int
delegate_revoke(int argc, char **argv)
{
	struct cli_conn cc = {0};
	struct cerr err = {0};
	uint8_t to[ID_BYTES];
	int rc;

	if ((rc = one_id_cmd(argc, argv, delegate_help_text(), "delegate revoke", &cc,
	    to)) >= 0)
		return rc;
	cli_connect(&cc, "delegate revoke");
	rc = person_undelegate(&cc, to, &err);
	cli_disconnect(&cc);
	if (rc != 0)
		return cli_fail("delegate revoke", &err);
	printf("access of %s ended\n", argv[argc - 1]);
	return 0;
}

int
cmd_delegate(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "grant") == 0)
		return delegate_grant(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return delegate_list(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "revoke") == 0)
		return delegate_revoke(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0))
		return fputs(delegate_help_text(), stdout), 0;
	return cli_usage(delegate_help_text());
}
