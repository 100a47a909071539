/*
 * cmd_erase.c: carnet erase: the person's records erased at the broker.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/mpk.h"
#include "cmds.h"

static const char erase_help[] =
"usage: carnet erase --yes [connection options]\n"
"\n"
"Erase all your records at the broker.  Your log stays whole (it holds\n"
"ids and hashes, never the data) and records the erasure.  A holder that\n"
"sends the same records again does not bring them back.  Apps that\n"
"received your data before keep what they were sent: revoke their\n"
"consents (carnet consent revoke) to ask them to erase it.\n"
"\n" CLI_CONN_HELP;

int
cmd_erase(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_CONN_OPTIONS,
		{"yes", no_argument, NULL, 'y'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_conn cc = {0};
	msgpack_unpacked reply;
	uint64_t n = 0;
	bool yes = false;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_conn_opt(&cc, c, optarg))
			continue;
		if (c == 'y')
			yes = true;
		else if (c == 'h')
			return fputs(erase_help, stdout), 0;
		else
			return cli_usage(erase_help);
	}
	if (!yes || optind != argc)
		return cli_usage(erase_help);
	cli_connect(&cc, "erase");
	client_begin(cc.c, 0);
	cli_call(&cc, "ERASE", "erase", &reply);
	mpk_u64(mpk_get(&reply.data, "erased"), &n);
	msgpack_unpacked_destroy(&reply);
	cli_disconnect(&cc);
	printf("%llu records erased\n", (unsigned long long)n);
	return 0;
}
