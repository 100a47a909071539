/*
 * cmd_request.c: carnet request: an app asking a person for consent,
 * saying why.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../client/feed.h"
#include "../client/kept.h"
#include "../common/limits.h"
#include "../common/mpk.h"
#include "../schemas/recjson.h"
#include "cmds.h"

static const char request_help[] =
"usage: carnet request --user ID --types T1,T2 --purpose P [--note TEXT]\n"
"                      [connection options]\n"
"\n"
"As an app, ask a person for consent: they see your request, with your\n"
"owner, business model, the types you want and why, in carnet consent\n"
"requests (and in their log) before they decide.\n"
"\n" CLI_CONN_HELP;

int
cmd_request(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_CONN_OPTIONS,
		{"user", required_argument, NULL, 'u'},
		{"types", required_argument, NULL, 't'},
		{"purpose", required_argument, NULL, 'p'},
		{"note", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_conn cc = {0};
	const char *user = NULL, *purpose = NULL, *note = "";
	char *types = NULL, *items[TOKEN_MAX_TYPES];
	uint8_t uid[ID_BYTES];
	msgpack_packer *pk;
	msgpack_unpacked reply;
	int c, n, i;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_conn_opt(&cc, c, optarg))
			continue;
		switch (c) {
		case 'u': user = optarg; break;
		case 't': types = optarg; break;
		case 'p': purpose = optarg; break;
		case 'n': note = optarg; break;
		case 'h': return fputs(request_help, stdout), 0;
		default: return cli_usage(request_help);
		}
	}
	if (user == NULL || types == NULL || purpose == NULL || optind != argc)
		return cli_usage(request_help);
	if (id_decode(user, uid) != 0)
		return cli_failx("request", "--user: not a carnet id");
	if ((n = cli_split(types, items, TOKEN_MAX_TYPES)) <= 0)
		return cli_failx("request", "--types: 1 to %d types",
		    TOKEN_MAX_TYPES);
	cli_connect(&cc, "request");
	pk = client_begin(cc.c, 4);
	mpk_pack_cstr(pk, "user");
	mpk_pack_binn(pk, uid, ID_BYTES);
	mpk_pack_cstr(pk, "types");
	msgpack_pack_array(pk, (size_t)n);
	for (i = 0; i < n; i++)
		mpk_pack_cstr(pk, items[i]);
	mpk_pack_cstr(pk, "purpose");
	mpk_pack_cstr(pk, purpose);
	mpk_pack_cstr(pk, "note");
	mpk_pack_cstr(pk, note);
	cli_call(&cc, "REQUEST", "request", &reply);
	msgpack_unpacked_destroy(&reply);
	cli_disconnect(&cc);
	printf("request sent to %s\n", user);
	return 0;
}
