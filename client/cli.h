/*
 * cli.h: what every carnet command-line program shares (the carnet CLI,
 * the holder agents, the apps): connection options, errors, prompts,
 * and JSON output.
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
#include "client.h"

#define EXIT_USAGE 2
#define DEFAULT_BROKER "tcp://127.0.0.1:7450"
#define DEFAULT_DATA "./carnet-data"

/* How a client command reaches the broker and as whom. */
struct cli_conn {
	const char *broker;    /* --broker, $CARNET_BROKER */
	const char *key;       /* --key, $CARNET_KEY */
	const char *broker_id; /* --broker-id, $CARNET_BROKER_ID */
	const char *data;      /* --data: read DIR/broker.pub */
	const char *for_id;    /* --for: act as a delegate of this person */
	bool has_for;
	uint8_t who[ID_BYTES]; /* the person acted for: --for, or oneself */
	struct keypair kp;
	struct client *c;
};

/* getopt_long entries for the connection options (values 0x100..0x103). */
#define CLI_CONN_OPTIONS                                                      \
	{"broker", required_argument, NULL, 0x100},                           \
	{"key", required_argument, NULL, 0x101},                              \
	{"broker-id", required_argument, NULL, 0x102},                        \
	{"data", required_argument, NULL, 0x103}

/* --for PUBID: for the person commands a delegate may send. */
#define CLI_FOR_OPTION {"for", required_argument, NULL, 0x104}
#define CLI_FOR_HELP                                                          \
"  --for PUBID         act for this person, as their delegate (carnet\n"       \
"                      delegate): logged under them, naming you\n"

#define CLI_CONN_HELP                                                         \
"Connection (or the environment variables in brackets):\n"                    \
"  --broker ENDPOINT   the broker's ZeroMQ endpoint [CARNET_BROKER]\n"          \
"                      (default " DEFAULT_BROKER ")\n"                          \
"  --key FILE          your key file, from carnet keygen [CARNET_KEY]\n"        \
"  --broker-id ID      the broker's public id [CARNET_BROKER_ID], or\n"         \
"  --data DIR          the broker's directory, to read DIR/broker.pub\n"

/* Take a connection option; false if c is not one. */
bool cli_conn_opt(struct cli_conn *cc, int c, const char *arg);
/* The broker id from --broker-id, $CARNET_BROKER_ID or DIR/broker.pub. */
int cli_conn_broker_id(struct cli_conn *cc, uint8_t id[ID_BYTES],
    struct cerr *err);
/* Read the key, connect and wait for the handshake: 0, or the reason
 * (CARNET_E_AUTH: the broker refused the key, CARNET_E_TIMEOUT: no broker
 * answered) with nothing left open. */
int cli_open(struct cli_conn *cc, struct cerr *err)
    __attribute__((warn_unused_result));
/* cli_open, exiting with the reason on failure. */
void cli_connect(struct cli_conn *cc, const char *cmd);
void cli_disconnect(struct cli_conn *cc);

/* Print "carnet CMD: message [code]" on stderr; returns 1. */
int cli_fail(const char *cmd, const struct cerr *err);
int cli_failx(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Print usage text and return EXIT_USAGE. */
int cli_usage(const char *text);

/* client_begin, plus "for" when acting as a delegate (cli_connect must
 * have run); nkeys counts the caller's keys only. */
msgpack_packer *cli_begin(struct cli_conn *cc, uint32_t nkeys);

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
