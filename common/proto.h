/*
 * proto.h: the carnet wire protocol's one command table.
 *
 * Every message is two frames, [command][msgpack map body] (ROUTER adds the
 * routing id in front on the broker side).  A request body may hold
 * "req": uint, echoed in its reply so a client can match replies.  Every
 * refusal is ERR {code: stable name, message: text, req}.
 *
 * CARNET_COMMANDS below is the list: each command's name, the roles that
 * may send it, whether a person's delegate may send it for them (view or
 * manage), how the broker takes it (the C_* flags below), and its handler
 * in the broker.  The broker's dispatch table and handler declarations,
 * its role and delegation checks, what it does differently per command
 * and `carnetd --commands` are derived from it: a command without a
 * handler does not link (carnetd, and test_proto, which links the
 * dispatcher).  What each command carries and answers is documented once,
 * in README.md ("The protocol"), and a test checks that table against
 * `carnetd --commands`.
 */
#ifndef CARNET_PROTO_H
#define CARNET_PROTO_H

#include <stddef.h>

/* Role bits: (1u << enum party_role). */
#define R_USER (1u << 1)
#define R_HOLDER (1u << 2)
#define R_APP (1u << 3)
#define R_OPERATOR (1u << 4)
#define R_ANY (R_USER | R_HOLDER | R_APP | R_OPERATOR)

/* What a person's delegate needs to send a command for them (the values
 * of policy/token.h's enum deleg_scope); D_NONE: a delegate may not. */
#define D_NONE 0
#define D_VIEW 1
#define D_MANAGE 2

/*
 * How the broker takes a command, where commands differ (the names
 * `carnetd --commands` prints):
 * C_BUSY_OK  "busy-ok": taken from a connection whose unread replies are at
 *            their bound (BROKER_CONN_QUEUE_BYTES), which gets ERR busy for
 *            anything else: it queues no reply (C_NO_REPLY), and an app
 *            stuck behind its own feed must still ACK, give CREDIT, leave;
 * C_NO_REPLY "no-reply": nothing is answered when it succeeds (ERR when it
 *            fails);
 * C_HEAD     "head": its reply to a person (or their delegate) carries the
 *            person's log head as the command leaves it, signed;
 * C_AHEAD    "ahead": it stops a person's data, so it is committed in a
 *            transaction of its own ahead of the rest of its turn (unless
 *            its connection sent something earlier in the turn): a turn
 *            whose commit fails never takes it along;
 * C_RESERVE  "reserve": it may make the store grow in the store's reserve
 *            (past BROKER_RESERVE_FILL_PCT), where everything else is
 *            refused store_full.
 */
#define C_NONE 0u
#define C_BUSY_OK (1u << 0)
#define C_NO_REPLY (1u << 1)
#define C_HEAD (1u << 2)
#define C_AHEAD (1u << 3)
#define C_RESERVE (1u << 4)
/* a person's way out: REVOKE, PAUSE, ERASE, UNDELEGATE */
#define C_STOP (C_HEAD | C_AHEAD | C_RESERVE)
/* what an app sends about its feed: no reply, taken when it is busy */
#define C_FEED (C_BUSY_OK | C_NO_REPLY)

/* X(NAME, roles that may send it, delegation it needs, C_* flags,
 * handler: the broker's handle_HANDLER, so a command without one does not
 * link) */
#define CARNET_COMMANDS(X)                                                    \
	X(HELLO, R_ANY, D_NONE, C_HEAD, hello)                                \
	X(PUT, R_HOLDER, D_NONE, C_NONE, put)                                 \
	X(SUB, R_APP, D_NONE, C_NONE, sub)                                    \
	X(CREDIT, R_APP, D_NONE, C_FEED, credit)                              \
	X(ACK, R_APP, D_NONE, C_FEED, ack)                                    \
	X(UNSUB, R_APP, D_NONE, C_FEED, unsub)                                \
	X(REQUEST, R_APP, D_NONE, C_NONE, request)                            \
	X(APPINFO, R_USER, D_VIEW, C_HEAD, appinfo)                           \
	X(GRANT, R_USER, D_MANAGE, C_HEAD, grant)                             \
	X(REVOKE, R_USER, D_MANAGE, C_STOP, revoke)                           \
	X(PAUSE, R_USER, D_MANAGE, C_STOP, pause)                             \
	X(RESUME, R_USER, D_MANAGE, C_HEAD, resume)                           \
	X(TOKENS, R_USER, D_VIEW, C_HEAD, tokens)                             \
	X(LOG, R_USER, D_VIEW, C_HEAD, log)                                   \
	X(REQUESTS, R_USER, D_VIEW, C_HEAD, requests)                         \
	X(EXPORT, R_USER, D_NONE, C_HEAD, export)                             \
	X(ERASE, R_USER, D_NONE, C_STOP, erase)                               \
	X(STATS, R_OPERATOR, D_NONE, C_NONE, stats)                           \
	X(ERASED, R_APP, D_NONE, C_NONE, erased)                              \
	X(RENEW, R_USER, D_MANAGE, C_HEAD, renew)                             \
	X(RECEIPT, R_USER, D_VIEW, C_HEAD, receipt)                           \
	X(DELEGATE, R_USER, D_NONE, C_HEAD, delegate)                         \
	X(UNDELEGATE, R_USER, D_NONE, C_STOP, undelegate)                     \
	X(DELEGATES, R_USER, D_NONE, C_HEAD, delegates)                       \
	X(EMERGENCY_SET, R_USER, D_NONE, C_HEAD, emergency_set)               \
	X(EMERGENCY_SHOW, R_USER, D_VIEW, C_HEAD, emergency_show)             \
	X(EMERGENCY_OPEN, R_APP, D_NONE, C_NONE, emergency_open)              \
	X(EMERGENCY_READ, R_APP, D_NONE, C_NONE, emergency_read)              \
	X(DECLINE, R_USER, D_MANAGE, C_HEAD, decline)

enum carnet_cmd {
	CMD__NONE = 0,
#define X(n, r, d, f, h) CMD_##n,
	CARNET_COMMANDS(X)
#undef X
	CMD__LAST
};

/* Replies and pushes, broker to client. */
#define MSG_OK "OK"
#define MSG_ERR "ERR"
#define MSG_ACK "ACK"
#define MSG_REC "REC"
#define MSG_REVOKED "REVOKED"

/* The command named by a frame, or CMD__NONE. */
enum carnet_cmd proto_cmd_parse(const void *frame, size_t len);
const char *proto_cmd_name(enum carnet_cmd c);
/* Mask of roles (1u << role) allowed to send c. */
unsigned proto_cmd_roles(enum carnet_cmd c);
/* The delegation a delegate needs to send c for a person (D_*). */
unsigned proto_cmd_deleg(enum carnet_cmd c);
/* How the broker takes c (C_*); C_NONE for CMD__NONE. */
unsigned proto_cmd_flags(enum carnet_cmd c);

#endif
