/*
 * cmd_whoami.c: carnet whoami: who the broker takes this key for.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/mpk.h"
#include "../common/text.h"
#include "cmds.h"

static const char whoami_help[] =
"usage: carnet whoami [connection options]\n"
"\n"
"Connect to the broker with your key and print who it knows you as.\n"
"\n" CLI_CONN_HELP;

int
cmd_whoami(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_CONN_OPTIONS,
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_conn cc = {0};
	msgpack_unpacked reply;
	char name[PARTY_NAME_MAX_BYTES + 1] = "", role[16] = "";
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_conn_opt(&cc, c, optarg))
			continue;
		if (c == 'h')
			return fputs(whoami_help, stdout), 0;
		return cli_usage(whoami_help);
	}
	cli_connect(&cc, "whoami");
	client_begin(cc.c, 0);
	cli_call(&cc, "HELLO", "whoami", &reply);
	if (mpk_cstr(mpk_get(&reply.data, "name"), name, sizeof(name)) != 0 ||
	    mpk_cstr(mpk_get(&reply.data, "role"), role, sizeof(role)) != 0)
		strcpy(name, "?");
	{
		char id[ID_STR_LEN + 1];

		id_encode(client_id(cc.c), id);
		printf("%s %s %s\n", text_term(role), text_term(name), id);
	}
	msgpack_unpacked_destroy(&reply);
	cli_disconnect(&cc);
	return 0;
}
