/*
 * proto.h: the carnet wire protocol's one command table.
 *
 * Every message is two frames, [command][msgpack map body] (ROUTER adds the
 * routing id in front on the broker side).  A request body may hold
 * "req": uint, echoed in its reply so a client can match replies.  Every
 * refusal is ERR {code: stable name, message: text, req}.
 *
 * CARNET_COMMANDS below is the list: each command's name, the roles that
 * may send it, and whether a person's delegate may send it for them (view
 * or manage), and its handler in the broker.  The broker's dispatch table
 * and handler declarations, its role and delegation checks and `carnetd
 * --commands` are derived from it: a command without a handler does not
 * link (carnetd, and test_proto, which links the dispatcher).  What each
 * command carries and answers is
 * documented once, in README.md ("The protocol"), and a test checks that
 * table against `carnetd --commands`.
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

/* X(NAME, roles that may send it, delegation it needs, handler: the
 * broker's handle_HANDLER, so a command without one does not link) */
#define CARNET_COMMANDS(X)                                                    \
	X(HELLO, R_ANY, D_NONE, hello)                                         \
	X(PUT, R_HOLDER, D_NONE, put)                                          \
	X(SUB, R_APP, D_NONE, sub)                                             \
	X(CREDIT, R_APP, D_NONE, credit)                                       \
	X(ACK, R_APP, D_NONE, ack)                                             \
	X(UNSUB, R_APP, D_NONE, unsub)                                         \
	X(REQUEST, R_APP, D_NONE, request)                                     \
	X(APPINFO, R_USER, D_VIEW, appinfo)                                    \
	X(GRANT, R_USER, D_MANAGE, grant)                                      \
	X(REVOKE, R_USER, D_MANAGE, revoke)                                    \
	X(PAUSE, R_USER, D_MANAGE, pause)                                      \
	X(RESUME, R_USER, D_MANAGE, resume)                                    \
	X(TOKENS, R_USER, D_VIEW, tokens)                                      \
	X(LOG, R_USER, D_VIEW, log)                                            \
	X(REQUESTS, R_USER, D_VIEW, requests)                                  \
	X(EXPORT, R_USER, D_NONE, export)                                      \
	X(ERASE, R_USER, D_NONE, erase)                                        \
	X(STATS, R_OPERATOR, D_NONE, stats)                                    \
	X(ERASED, R_APP, D_NONE, erased)                                       \
	X(RENEW, R_USER, D_MANAGE, renew)                                      \
	X(RECEIPT, R_USER, D_VIEW, receipt)                                    \
	X(DELEGATE, R_USER, D_NONE, delegate)                                  \
	X(UNDELEGATE, R_USER, D_NONE, undelegate)                              \
	X(DELEGATES, R_USER, D_NONE, delegates)                                \
	X(EMERGENCY_SET, R_USER, D_NONE, emergency_set)                        \
	X(EMERGENCY_SHOW, R_USER, D_VIEW, emergency_show)                      \
	X(EMERGENCY_OPEN, R_APP, D_NONE, emergency_open)                       \
	X(EMERGENCY_READ, R_APP, D_NONE, emergency_read)                       \
	X(DECLINE, R_USER, D_MANAGE, decline)

enum carnet_cmd {
	CMD__NONE = 0,
#define X(n, r, d, h) CMD_##n,
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

#endif
