/*
 * carnet.c: the command line of carnet, for people, holders, apps and the
 * operator.  Dispatches to one function per subcommand (cmd_*.c).
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cmds.h"

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *summary;
} cmds[] = {
	{"keygen", cmd_keygen, "make a key pair for a party (any role)"},
	{"party", cmd_party, "register or list parties (operator, on the broker's host)"},
	{"schema", cmd_schema, "show the record types and what each field means"},
	{"whoami", cmd_whoami, "check your key against the broker"},
	{"put", cmd_put, "push records as JSON lines (holder)"},
	{"import", cmd_import, "import FHIR R4 documents, e.g. Blue Button (holder)"},
	{"subscribe", cmd_subscribe, "receive the records people consented to (app)"},
	{"request", cmd_request, "ask a person for consent (app)"},
	{"consent", cmd_consent, "grant, list, pause, renew, revoke consents; receipts (person)"},
	{"delegate", cmd_delegate, "let a relative or caregiver see or manage your consents"},
	{"emergency", cmd_emergency, "your emergency card; open one (emergency app)"},
	{"log", cmd_log, "read or verify your dashboard log of uses (person)"},
	{"dashboard", cmd_dashboard, "your dashboard in the browser: consents, requests, uses, data (person)"},
	{"export", cmd_export, "download all your data and your log (person)"},
	{"erase", cmd_erase, "erase your records at the broker (person)"},
	{"stats", cmd_stats, "usage indicators (operator)"},
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f,
"usage: carnet COMMAND [OPTIONS]\n"
"\n"
"carnet sends people's health data from holders to the apps they chose,\n"
"only while they consent, and keeps a log of every use for them.\n"
"\n"
"Commands:\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f,
"\n"
"Run carnet COMMAND --help for a command's options.  Exit status: 0 done,\n"
"1 refused or failed (the reason is printed with its error code), 2 bad usage.\n");
}

int
main(int argc, char **argv)
{
	size_t i;

	if (sodium_init() < 0) {
		fprintf(stderr, "carnet: libsodium failed to start\n");
		return 1;
	}
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "carnet: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
