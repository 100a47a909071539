/*
 * client.h: the carnet client library, for holders, apps and users.
 *
 * Hides ZeroMQ, CurveZMQ keys, msgpack framing, request matching and the
 * handshake.  One client is one DEALER connection to the broker; not
 * thread-safe.  Typical use:
 *
 *     client_new(endpoint, broker_id, &key, &c, &err);
 *     client_wait_ready(c, 5000, &err);      // CARNET_E_AUTH if refused
 *     pk = client_begin(c, 1);               // body: a map of 1 key
 *     mpk_pack_cstr(pk, "app"); mpk_pack_binn(pk, app_id, 32);
 *     client_call(c, "APPINFO", &reply, &err);
 *     ... msgpack_unpacked_destroy(&reply);
 *     client_destroy(&c);
 */
#ifndef CARNET_CLIENT_H
#define CARNET_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include <msgpack.h>

#include "../common/error.h"
#include "../common/id.h"
#include "../policy/key.h"

struct client;

/*
 * Connect (in the background) to endpoint, expecting the broker whose
 * public id is broker_id, as the party whose key is kp (copied; the copy
 * is wiped by client_destroy).
 */
int client_new(const char *endpoint, const uint8_t broker_id[ID_BYTES],
    const struct keypair *kp, struct client **out, struct cerr *err)
    __attribute__((warn_unused_result));
/* Close (waiting up to a second for queued messages) and set *c to NULL. */
void client_destroy(struct client **c);

/*
 * Wait until the CurveZMQ handshake succeeded.  CARNET_E_AUTH when the
 * broker refused our key (not a registered party), CARNET_E_TIMEOUT when
 * no broker answered (not running, or not the broker we expect).
 */
int client_wait_ready(struct client *c, int timeout_ms, struct cerr *err)
    __attribute__((warn_unused_result));

/* How long client_call waits for a reply (default CLIENT_CALL_TIMEOUT_MS). */
void client_set_timeout(struct client *c, int ms);

/* Start a request body, a map of nkeys keys (the req id is added). */
msgpack_packer *client_begin(struct client *c, uint32_t nkeys);
/*
 * Send the body built since client_begin as cmd and wait for its reply.
 * 0 on OK or ACK with *reply holding the body (caller destroys it); on
 * ERR the broker's code, with err holding its message; CARNET_E_TIMEOUT,
 * CARNET_E_AUTH.  Pushes arriving meanwhile are kept for client_recv.
 */
int client_call(struct client *c, const char *cmd, msgpack_unpacked *reply,
    struct cerr *err) __attribute__((warn_unused_result));
/*
 * Pipelining: the request id of the body begun last (read it before
 * client_send), and the wait for that request's reply, as client_call.
 * Replies come in the order requests were sent: await them in that order
 * (a reply to an earlier request that nobody awaits is dropped).
 */
uint64_t client_last_req(const struct client *c);
int client_reply(struct client *c, uint64_t req, msgpack_unpacked *reply,
    struct cerr *err) __attribute__((warn_unused_result));
/* Send the body built since client_begin without waiting. */
int client_send(struct client *c, const char *cmd, struct cerr *err)
    __attribute__((warn_unused_result));
/*
 * The next push (REC, REVOKED) or ERR not matching a call: cmd gets its
 * name, *body its unpacked body (caller destroys).  CARNET_E_TIMEOUT when
 * none came in timeout_ms, or when a signal interrupted the wait.
 */
int client_recv(struct client *c, int timeout_ms, char cmd[16],
    msgpack_unpacked *body, struct cerr *err)
    __attribute__((warn_unused_result));
/*
 * Send n frames exactly as given, for tests and tools that speak the
 * protocol by hand (hostile-input tests, fuzzing over the wire).
 */
int client_send_frames(struct client *c, const void *const *frames,
    const size_t *lens, int n, struct cerr *err)
    __attribute__((warn_unused_result));
/* True once after the connection was re-established (re-subscribe). */
bool client_reconnected(struct client *c);
/* Our own party id. */
const uint8_t *client_id(const struct client *c);

#endif
