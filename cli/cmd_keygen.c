/*
 * cmd_keygen.c: carnet keygen: a new key file.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/mpk.h"
#include "../common/text.h"
#include "cmds.h"

static const char keygen_help[] =
"usage: carnet keygen --out FILE\n"
"\n"
"Make a new Ed25519 key pair for a party (a person, a holder, an app or the\n"
"operator) and write it to FILE, readable by you only (mode 0600).  Prints\n"
"the party's public id: give it to the operator (carnet party add) and to\n"
"whoever needs to name you.  Keep FILE secret; it is never sent anywhere.\n";

int
cmd_keygen(int argc, char **argv)
{
	static const struct option opts[] = {
		{"out", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *out = NULL;
	struct keypair kp;
	struct cerr err = {0};
	char id[ID_STR_LEN + 1];
	int c;

	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		if (c == 'o')
			out = optarg;
		else if (c == 'h')
			return fputs(keygen_help, stdout), 0;
		else
			return cli_usage(keygen_help);
	}
	if (out == NULL || optind != argc)
		return cli_usage(keygen_help);
	if (key_generate(&kp) != 0 || key_write(out, &kp, &err) != 0) {
		key_wipe(&kp);
		return cli_fail("keygen", &err);
	}
	id_encode(kp.pk, id);
	key_wipe(&kp);
	fprintf(stderr, "carnet keygen: wrote %s (keep it secret); public id:\n",
	    out);
	printf("%s\n", id);
	return 0;
}
