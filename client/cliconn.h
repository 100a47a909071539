/*
 * cliconn.h: how a command-line program (the carnet CLI, the holder
 * agents, the apps) reaches the broker and as whom: the connection
 * options, the broker's id, opening and closing the connection, and the
 * start of a request sent for someone.  Below cli.h and kept.h: it knows
 * nothing of how errors are shown or of what is kept beside the key.
 */
#ifndef CARNET_CLICONN_H
#define CARNET_CLICONN_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include <msgpack.h>

#include "../common/error.h"
#include "../common/id.h"
#include "client.h"

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
void cli_disconnect(struct cli_conn *cc);

/* client_begin, plus "for" when acting as a delegate (cli_open must
 * have run); nkeys counts the caller's keys only. */
msgpack_packer *cli_begin(struct cli_conn *cc, uint32_t nkeys);

#endif
