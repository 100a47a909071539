/*
 * proto.h: the carnet wire protocol, written once.
 *
 * Every message is two frames, [command][msgpack map body] (ROUTER adds the
 * routing id in front on the broker side).  A request body may hold
 * "req": uint, echoed in its reply so a client can match replies.
 *
 * Requests, by role (the broker refuses a command outside its sender's role
 * with ERR forbidden):
 *   any     HELLO {}                       -> OK {id, role, name}
 *   holder  PUT {recs: [record...]}        -> ACK {stored, dup, seqs: [..]}
 *                                             (after the durable commit)
 *   app     SUB {}                         -> OK {tokens}; then REC pushes
 *           CREDIT {n}                     (no reply) may send n more records
 *           ACK {acks: [[token, seq]...]}  (no reply) advances cursors
 *           UNSUB {}                       (no reply) leaving: nothing more
 *                                          is sent to this connection
 *           REQUEST {user, types, purpose, note} -> OK
 *   user    APPINFO {app}                  -> OK {name, owner, purposes, business_model}
 *           GRANT {token: signed bytes, request: seq}
 *                                          -> OK {token: id}; request, when
 *                                             given, answers that request
 *           DECLINE {request: seq, note}   -> OK   the request is answered no
 *           REVOKE {revocation: signed}    -> OK {token: id}
 *           PAUSE {token: id}              -> OK   nothing sent until RESUME
 *           RESUME {token: id, skip: bool} -> OK   skip: what came during
 *                                                  the pause is never sent
 *           TOKENS {}                      -> OK {tokens: [{token, state, ended_at,
 *                                             erased_at, granted_at, app_name...}]}
 *           LOG {from, limit}              -> OK {entries: [bin], head: {seq, hash, sig}, names, more}
 *           REQUESTS {}                    -> OK {requests: [...]}
 *           EXPORT {from, limit}           -> OK {records: [bin], next, more}
 *           ERASE {}                       -> OK {erased}
 *           RENEW {token: signed bytes}    -> OK  same id and scope, new end
 *           RECEIPT {token: id}            -> OK {receipt: JSON text, sig, broker}
 *                                             sig: the broker's Ed25519 over it
 *           DELEGATE {delegation: signed}  -> OK
 *           UNDELEGATE {to: id}            -> OK
 *           DELEGATES {}                   -> OK {given: [...], received: [...]}
 *           EMERGENCY_SET {types, apps}    -> OK   (empty types: no card)
 *           EMERGENCY_SHOW {}              -> OK {card: {types, apps, time}|nil}
 *   app     ERASED {token}                 -> OK   erased what it got under
 *                                             an ended token
 *           EMERGENCY_OPEN {user, reason}  -> OK {until, types}
 *           EMERGENCY_READ {user, from}    -> OK {records, next, more, until}
 *   A person's delegate sends the person's commands with "for": person id
 *   (view: TOKENS, LOG, REQUESTS, RECEIPT, APPINFO, DELEGATES,
 *   EMERGENCY_SHOW; manage: also GRANT, DECLINE, REVOKE, PAUSE, RESUME, RENEW, with
 *   tokens and revocations signed by the delegate: "by").
 *   operator STATS {}                      -> OK {stats: {name: n}}
 * Pushes from the broker to apps:
 *   REC {recs: [{seq, token, rec}]}        records, minimised to the token
 *   REVOKED {token, user, reason, erase: {types, holders, through}}
 *                                          a token the app used has ended:
 *                                          erase, then confirm with ERASED
 *                                          (sent again on each SUB until then)
 * Every refusal is ERR {code: stable name, message: text, req}.
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

/* X(NAME, roles that may send it) */
#define CARNET_COMMANDS(X)                                                    \
	X(HELLO, R_ANY)                                                       \
	X(PUT, R_HOLDER)                                                      \
	X(SUB, R_APP)                                                         \
	X(CREDIT, R_APP)                                                      \
	X(ACK, R_APP)                                                         \
	X(UNSUB, R_APP)                                                       \
	X(REQUEST, R_APP)                                                     \
	X(APPINFO, R_USER)                                                    \
	X(GRANT, R_USER)                                                      \
	X(REVOKE, R_USER)                                                     \
	X(PAUSE, R_USER)                                                      \
	X(RESUME, R_USER)                                                     \
	X(TOKENS, R_USER)                                                     \
	X(LOG, R_USER)                                                        \
	X(REQUESTS, R_USER)                                                   \
	X(EXPORT, R_USER)                                                     \
	X(ERASE, R_USER)                                                      \
	X(STATS, R_OPERATOR)                                                  \
	X(ERASED, R_APP)                                                      \
	X(RENEW, R_USER)                                                      \
	X(RECEIPT, R_USER)                                                    \
	X(DELEGATE, R_USER)                                                   \
	X(UNDELEGATE, R_USER)                                                 \
	X(DELEGATES, R_USER)                                                  \
	X(EMERGENCY_SET, R_USER)                                              \
	X(EMERGENCY_SHOW, R_USER)                                             \
	X(EMERGENCY_OPEN, R_APP)                                              \
	X(EMERGENCY_READ, R_APP)                                              \
	X(DECLINE, R_USER)

enum carnet_cmd {
	CMD__NONE = 0,
#define X(n, r) CMD_##n,
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

#endif
