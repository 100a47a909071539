/*
 * cmds.h: the carnet subcommands, one group per cmd_*.c file.
 */
#ifndef CARNET_CMDS_H
#define CARNET_CMDS_H

#include "../client/cli.h"
#include "../client/export.h"
#include "../client/personlog.h"
#include "../dashboard/dashboard.h"
#include "../schemas/record.h"

/* Subcommands. */
int cmd_keygen(int argc, char **argv);
int cmd_party(int argc, char **argv);
/* carnet party import (cmd_party_import.c), under cmd_party */
int party_import(int argc, char **argv);
int cmd_put(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_subscribe(int argc, char **argv);
int cmd_request(int argc, char **argv);
int cmd_consent(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_erase(int argc, char **argv);
int cmd_schema(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_whoami(int argc, char **argv);
int cmd_delegate(int argc, char **argv);
int cmd_emergency(int argc, char **argv);

#endif
