/*
 * cli.h: what every carnet command-line program shares (the carnet CLI,
 * the holder agents, the apps): errors, prompts, calls that check the
 * broker's signed head (kept.h), and JSON output; the connection itself
 * (options, open, close) is cliconn.h's.
 */
#ifndef CARNET_CLI_H
#define CARNET_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>
#include <msgpack.h>

#include "../common/error.h"
#include "../common/id.h"
#include "../common/limits.h"
#include "cliconn.h"

#define EXIT_USAGE 2
/* cli_open, exiting with the reason on failure. */
void cli_connect(struct cli_conn *cc, const char *cmd);

/* Print "carnet CMD: message [code]" on stderr; returns 1. */
int cli_fail(const char *cmd, const struct cerr *err);
int cli_failx(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Print usage text and return EXIT_USAGE. */
int cli_usage(const char *text);

/* Call the broker: as client_call (CARNET_E_TRANSPORT if not connected). */
int cli_try(struct cli_conn *cc, const char *cmd, msgpack_unpacked *reply,
    struct cerr *err) __attribute__((warn_unused_result));
/* Call the broker; on error print it and exit 1. */
void cli_call(struct cli_conn *cc, const char *cmd, const char *what,
    msgpack_unpacked *reply);

/*
 * The shape of the read-only commands: [--json] and the connection
 * options, then one call of cmd with an empty body (none when cmd is
 * NULL: the caller calls).  Returns -1 with *reply set (the caller
 * destroys it and calls cli_disconnect), or an exit
 * status for the caller to return (help shown, bad usage); exits with the
 * reason when the broker refuses.
 */
int cli_query(int argc, char **argv, const char *help, const char *what,
    const char *cmd, struct cli_conn *cc, bool *json, msgpack_unpacked *reply);

/*
 * The shape of "CMD ARG" subcommands: the connection options (and --for
 * when with_for), at most CLI_ONE_ARG_EXTRA_MAX extra options each handed
 * to opt (non-zero: bad usage), --help, then exactly one argument, left at
 * argv[optind].  -1 to go on, else an exit status for the caller to return.
 */
#define CLI_ONE_ARG_EXTRA_MAX 8
int cli_one_arg(int argc, char **argv, const char *help, bool with_for,
    const struct option *extra, int (*opt)(void *arg, int c, const char *val),
    void *arg, struct cli_conn *cc);

/* Ask a yes/no question on stderr, answer from stdin. */
bool cli_confirm(const char *question);
/* Split "a,b,c" into at most max items (pointers into s, which is changed). */
int cli_split(char *s, char **items, int max);

/* Print a JSON value on stdout, one line. */
void cli_print_json(json_t *v);
/* A party id in a msgpack bin as a JSON string, or null. */
json_t *cli_json_id(const msgpack_object *o);
/* Add a reply's "names" ({id bin: name}) to into ({id string: name}). */
void cli_names_merge(json_t *into, const msgpack_object *names);


#endif
