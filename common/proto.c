/*
 * proto.c: command names, roles, delegation and flags, derived from
 * CARNET_COMMANDS.
 */
#include <string.h>

#include "proto.h"

static const struct {
	const char *name;
	unsigned roles, deleg, flags;
} cmds[] = {
	[CMD__NONE] = {"", 0, D_NONE, C_NONE},
#define X(n, r, d, f, h) [CMD_##n] = {#n, r, d, f},
	CARNET_COMMANDS(X)
#undef X
};

enum carnet_cmd
proto_cmd_parse(const void *frame, size_t len)
{
	int i;

	for (i = CMD__NONE + 1; i < CMD__LAST; i++)
		if (strlen(cmds[i].name) == len &&
		    memcmp(cmds[i].name, frame, len) == 0)
			return (enum carnet_cmd)i;
	return CMD__NONE;
}

const char *
proto_cmd_name(enum carnet_cmd c)
{
	return c > CMD__NONE && c < CMD__LAST ? cmds[c].name : "?";
}

unsigned
proto_cmd_roles(enum carnet_cmd c)
{
	return c > CMD__NONE && c < CMD__LAST ? cmds[c].roles : 0;
}

unsigned
proto_cmd_deleg(enum carnet_cmd c)
{
	return c > CMD__NONE && c < CMD__LAST ? cmds[c].deleg : D_NONE;
}

unsigned
proto_cmd_flags(enum carnet_cmd c)
{
	return c > CMD__NONE && c < CMD__LAST ? cmds[c].flags : C_NONE;
}
