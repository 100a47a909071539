/*
 * feed.c: holder batches and app feeds over one client connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/limits.h"
#include "../common/mpk.h"
#include "../common/plainfile.h"
#include "../schemas/recjson.h"
#include "feed.h"


int
holder_batch_new(struct client *c, struct holder_batch **out)
{
	struct holder_batch *hb = calloc(1, sizeof(*hb));

	if (hb == NULL)
		return CARNET_E_NOMEM;
	hb->c = c;
	msgpack_sbuffer_init(&hb->recs);
	*out = hb;
	return 0;
}

void
holder_batch_destroy(struct holder_batch **hb)
{
	if (*hb == NULL)
		return;
	msgpack_sbuffer_destroy(&(*hb)->recs);
	free(*hb);
	*hb = NULL;
}

/* Wait for the oldest PUT in flight and count its ACK. */
static int
wait_oldest(struct holder_batch *hb, struct cerr *err)
{
	msgpack_unpacked reply;
	uint64_t stored = 0, dup = 0, corrected = 0;
	unsigned n = hb->fly[0].n;
	int rc;

	rc = client_reply(hb->c, hb->fly[0].req, &reply, err);
	hb->failed_first = hb->fly[0].first;
	hb->nfly--;
	memmove(hb->fly, hb->fly + 1, hb->nfly * sizeof(hb->fly[0]));
	if (rc != 0) {
		hb->nfly = 0; /* the holder sends again from its last ACK */
		return rc;
	}
	if (hb->check) {
		if (mpk_u64(mpk_get(&reply.data, "checked"), &stored) != 0 ||
		    stored != n)
			rc = cerr_set(err, CARNET_E_MALFORMED, "the broker's "
			    "ACK does not account for the batch checked");
		else
			hb->checked += stored;
		msgpack_unpacked_destroy(&reply);
		return rc;
	}
	if (mpk_u64(mpk_get(&reply.data, "stored"), &stored) != 0 ||
	    mpk_u64(mpk_get(&reply.data, "dup"), &dup) != 0 ||
	    stored + dup != n)
		rc = cerr_set(err, CARNET_E_MALFORMED,
		    "the broker's ACK does not account for the batch");
	/* brokers before corrections were marked do not say */
	if (mpk_u64(mpk_get(&reply.data, "corrected"), &corrected) != 0)
		corrected = 0;
	msgpack_unpacked_destroy(&reply);
	hb->stored += stored;
	hb->dup += dup;
	hb->corrected += corrected;
	return rc;
}

int
holder_batch_send(struct holder_batch *hb, struct cerr *err)
{
	msgpack_packer *pk;
	int rc;

	if (hb->n == 0)
		return 0;
	if (hb->nfly == CLIENT_PUT_WINDOW && (rc = wait_oldest(hb, err)) != 0)
		return rc;
	pk = client_begin(hb->c, hb->check ? 2 : 1);
	if (hb->check) {
		mpk_pack_cstr(pk, "check");
		msgpack_pack_true(pk);
	}
	mpk_pack_cstr(pk, "recs");
	msgpack_pack_array(pk, hb->n);
	msgpack_sbuffer_write(pk->data, hb->recs.data, hb->recs.size);
	hb->fly[hb->nfly].req = client_last_req(hb->c);
	hb->fly[hb->nfly].n = hb->n;
	hb->fly[hb->nfly].first = hb->added - hb->n;
	if ((rc = client_send(hb->c, "PUT", err)) != 0)
		return rc;
	hb->nfly++;
	hb->n = 0;
	msgpack_sbuffer_clear(&hb->recs);
	return 0;
}

int
holder_batch_flush(struct holder_batch *hb, struct cerr *err)
{
	int rc;

	if ((rc = holder_batch_send(hb, err)) != 0)
		return rc;
	while (hb->nfly > 0)
		if ((rc = wait_oldest(hb, err)) != 0)
			return rc;
	return 0;
}

int
holder_batch_add(struct holder_batch *hb, const void *rec, size_t len,
    struct cerr *err)
{
	int rc;

	if ((hb->n == CLIENT_PUT_BATCH || hb->recs.size + len >
	    CLIENT_PUT_MAX_BYTES) && (rc = holder_batch_send(hb, err)) != 0)
		return rc;
	msgpack_sbuffer_write(&hb->recs, rec, len);
	hb->n++;
	hb->added++;
	return 0;
}

struct app_feed {
	struct client *c;
	uint64_t max, got, seen, window, credited, unacked;
	time_t last_sent;
	uint8_t ack_tok[CLIENT_ACK_MAX_ENTRIES][TOKID_BYTES];
	uint64_t ack_seq[CLIENT_ACK_MAX_ENTRIES];
	unsigned nacks;
	msgpack_unpacked *msg; /* the REC being read */
	uint32_t next;          /* its next record */
	uint8_t (*users)[ID_BYTES]; /* only these people's feeds, if any */
	unsigned nusers;
	/* consents the broker said had ended (final): records under them
	 * are refused, whatever a broker put back to an older state sends */
	uint8_t (*ended)[TOKID_BYTES];
	size_t nended, capended;
	uint64_t refused;
	char *ended_path;       /* where they are kept, if anywhere */
};

static bool
token_ended(const struct app_feed *f, const uint8_t tok[TOKID_BYTES])
{
	size_t i;

	for (i = 0; i < f->nended; i++)
		if (memcmp(f->ended[i], tok, TOKID_BYTES) == 0)
			return true;
	return false;
}

static int
ended_add(struct app_feed *f, const uint8_t tok[TOKID_BYTES])
{
	if (token_ended(f, tok))
		return 0;
	if (f->nended == f->capended) {
		size_t cap = f->capended ? 2 * f->capended : 16;
		uint8_t (*n)[TOKID_BYTES] = realloc(f->ended, cap * TOKID_BYTES);

		if (n == NULL)
			return CARNET_E_NOMEM;
		f->ended = n;
		f->capended = cap;
	}
	memcpy(f->ended[f->nended++], tok, TOKID_BYTES);
	return 0;
}

int
app_feed_keep_ended(struct app_feed *f, const char *path, struct cerr *err)
{
	char line[128];
	uint8_t tok[TOKID_BYTES];
	FILE *in;

	free(f->ended_path);
	if ((f->ended_path = strdup(path)) == NULL)
		return cerr_set(err, CARNET_E_NOMEM, "out of memory");
	if ((in = plainfile_open(path)) == NULL)
		return errno == ENOENT ? 0 : cerr_set(err, CARNET_E_IO,
		    "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), in) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (tokid_decode(line, tok) == 0 && ended_add(f, tok) != 0) {
			fclose(in);
			return cerr_set(err, CARNET_E_NOMEM, "out of memory");
		}
	}
	fclose(in);
	return 0;
}

uint64_t
app_feed_refused(const struct app_feed *f)
{
	return f->refused;
}

/* A consent ended: remember it, on disk too when asked. */
static void
ended_note(struct app_feed *f, const uint8_t tok[TOKID_BYTES])
{
	char id[TOKID_STR_LEN + 1];
	int fd;

	if (token_ended(f, tok) || ended_add(f, tok) != 0 ||
	    f->ended_path == NULL)
		return;
	tokid_encode(tok, id);
	fd = open(f->ended_path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW |
	    O_CLOEXEC | O_NONBLOCK, 0600);
	if (fd < 0 || dprintf(fd, "%s\n", id) < 0 || fsync(fd) != 0)
		fprintf(stderr, "carnet: could not keep ended consent %s in "
		    "%s: %s\n", id, f->ended_path, strerror(errno));
	if (fd >= 0)
		close(fd);
}

static int
send_credit(struct app_feed *f, uint64_t n, struct cerr *err)
{
	msgpack_packer *pk = client_begin(f->c, 1);

	mpk_pack_cstr(pk, "n");
	msgpack_pack_uint64(pk, n);
	f->credited += n;
	f->last_sent = time(NULL);
	return client_send(f->c, "CREDIT", err);
}

/* SUB and credit up to the window, less what is already granted. */
static int
subscribe(struct app_feed *f, struct cerr *err)
{
	msgpack_unpacked reply;
	uint64_t want = f->window;
	int rc;

	msgpack_packer *pk = client_begin(f->c, f->nusers > 0 ? 1 : 0);
	unsigned i;

	if (f->nusers > 0) {
		mpk_pack_cstr(pk, "users");
		msgpack_pack_array(pk, f->nusers);
		for (i = 0; i < f->nusers; i++)
			mpk_pack_binn(pk, f->users[i], ID_BYTES);
	}
	if ((rc = client_call(f->c, "SUB", &reply, err)) != 0)
		return rc;
	msgpack_unpacked_destroy(&reply);
	if (f->max != 0 && f->max - f->got < want)
		want = f->max - f->got;
	f->credited = f->seen; /* the broker's count starts again */
	f->unacked = 0;
	return send_credit(f, want, err);
}

int
app_feed_open(struct client *c, uint64_t max, struct app_feed **out,
    struct cerr *err)
{
	return app_feed_open_users(c, max, NULL, 0, out, err);
}

int
app_feed_open_users(struct client *c, uint64_t max,
    const uint8_t (*users)[ID_BYTES], unsigned nusers, struct app_feed **out,
    struct cerr *err)
{
	struct app_feed *f = calloc(1, sizeof(*f));
	int rc;

	if (f == NULL)
		return cerr_set(err, CARNET_E_NOMEM, "out of memory");
	if (nusers > 0) {
		if ((f->users = calloc(nusers, ID_BYTES)) == NULL) {
			free(f);
			return cerr_set(err, CARNET_E_NOMEM, "out of memory");
		}
		memcpy(f->users, users, (size_t)nusers * ID_BYTES);
		f->nusers = nusers;
	}
	f->c = c;
	f->max = max;
	/* Never let the broker send more than the app will take. */
	f->window = max && max < CLIENT_CREDIT_WINDOW ? max :
	    CLIENT_CREDIT_WINDOW;
	if ((rc = subscribe(f, err)) != 0) {
		free(f->users);
		free(f);
		return rc;
	}
	*out = f;
	return 0;
}

int
app_feed_erased(struct app_feed *f, const struct feed_event *ev,
    struct cerr *err)
{
	msgpack_packer *pk;

	if (ev->kind != FEED_REVOKED)
		return 0;
	pk = client_begin(f->c, 1);
	mpk_pack_cstr(pk, "token");
	mpk_pack_binn(pk, ev->token, TOKID_BYTES);
	f->last_sent = time(NULL);
	return client_send(f->c, "ERASED", err);
}

static int
flush_acks(struct app_feed *f, struct cerr *err)
{
	msgpack_packer *pk;
	uint64_t more;
	bool last = false;
	unsigned i;
	int rc;

	if (f->nacks > 0) {
		pk = client_begin(f->c, 1);
		mpk_pack_cstr(pk, "acks");
		msgpack_pack_array(pk, f->nacks);
		for (i = 0; i < f->nacks; i++) {
			msgpack_pack_array(pk, 2);
			mpk_pack_binn(pk, f->ack_tok[i], TOKID_BYTES);
			msgpack_pack_uint64(pk, f->ack_seq[i]);
		}
		f->nacks = 0;
		if ((rc = client_send(f->c, "ACK", err)) != 0)
			return rc;
		f->last_sent = time(NULL);
	}
	/*
	 * Keep window records in flight, never past max.  Credit goes in
	 * steps of a quarter window at least (fewer messages), but the last
	 * step up to max is whatever max leaves: held back, it would never
	 * be granted, and the feed would stop short of max.
	 */
	more = f->seen + f->window - f->credited;
	if (f->max != 0 && f->credited + more >= f->max) {
		more = f->max - f->credited;
		last = true;
	}
	if (more > 0 && (last || more >= f->window / 4))
		return send_credit(f, more, err);
	return 0;
}

int
app_feed_ack(struct app_feed *f, const struct feed_event *ev,
    struct cerr *err)
{
	unsigned i;

	if (ev->kind != FEED_RECORD)
		return 0;
	for (i = 0; i < f->nacks; i++)
		if (memcmp(f->ack_tok[i], ev->token, TOKID_BYTES) == 0)
			break;
	if (i == f->nacks) {
		if (f->nacks == CLIENT_ACK_MAX_ENTRIES) {
			int rc = flush_acks(f, err);

			if (rc != 0)
				return rc;
			i = 0;
		}
		memcpy(f->ack_tok[i], ev->token, TOKID_BYTES);
		f->ack_seq[i] = 0;
		f->nacks = i + 1 > f->nacks ? i + 1 : f->nacks;
	}
	if (ev->seq > f->ack_seq[i])
		f->ack_seq[i] = ev->seq;
	if (++f->unacked >= CLIENT_ACK_EVERY) {
		f->unacked = 0;
		return flush_acks(f, err);
	}
	return 0;
}

uint64_t
app_feed_count(const struct app_feed *f)
{
	return f->got;
}

static void
drop_msg(struct app_feed *f)
{
	if (f->msg != NULL) {
		msgpack_unpacked_destroy(f->msg);
		free(f->msg);
		f->msg = NULL;
	}
}

/* The next record of the REC being read, if any. */
static int
next_in_msg(struct app_feed *f, struct feed_event *ev, struct cerr *err)
{
	const msgpack_object *recs = mpk_get(&f->msg->data, "recs");

	while (recs && recs->type == MSGPACK_OBJECT_ARRAY &&
	    f->next < recs->via.array.size) {
		const msgpack_object *e = &recs->via.array.ptr[f->next++];

		memset(ev, 0, sizeof(*ev));
		ev->kind = FEED_RECORD;
		f->seen++; /* it used credit, whatever it holds */
		if (mpk_u64(mpk_get(e, "seq"), &ev->seq) != 0 ||
		    mpk_bin_n(mpk_get(e, "token"), ev->token, TOKID_BYTES) != 0) {
			cerr_set(err, CARNET_E_MALFORMED,
			    "a record without seq or token");
			continue;
		}
		if (token_ended(f, ev->token)) {
			/* told ended: never handed to the app, never acked */
			f->refused++;
			cerr_set(err, CARNET_E_REVOKED, "a record under a consent "
			    "the broker said had ended: refused (was the "
			    "broker's store put back to an older copy?)");
			continue;
		}
		if (record_from_object_partial(mpk_get(e, "rec"), &ev->rec,
		    err) != 0)
			continue; /* not acked: the broker will send it again */
		memcpy(ev->user, ev->rec.user, ID_BYTES);
		f->got++;
		return 0;
	}
	drop_msg(f);
	return CARNET_E_NOT_FOUND;
}

/* What an ended token asks the app to erase: its types, up to a seq. */
static void
erase_info(const msgpack_object *er, struct feed_event *ev)
{
	const msgpack_object *types = mpk_get(er, "types");
	size_t n = 0;
	uint32_t i;

	mpk_u64(mpk_get(er, "through"), &ev->erase_through);
	for (i = 0; types && types->type == MSGPACK_OBJECT_ARRAY &&
	    i < types->via.array.size && n < sizeof(ev->erase_types); i++) {
		const msgpack_object *t = &types->via.array.ptr[i];

		if (t->type == MSGPACK_OBJECT_STR)
			n += (size_t)snprintf(ev->erase_types + n,
			    sizeof(ev->erase_types) - n, "%s%.*s", i ? "," : "",
			    (int)t->via.str.size, t->via.str.ptr);
	}
}

int
app_feed_next(struct app_feed *f, int timeout_ms, struct feed_event *ev,
    struct cerr *err)
{
	int64_t waited = 0;
	char cmd[16];
	int rc;

	if (f->max != 0 && f->got >= f->max)
		return cerr_set(err, CARNET_E_TIMEOUT, "maximum reached");
	for (;;) {
		if (f->msg != NULL && next_in_msg(f, ev, err) == 0)
			return 0;
		if (client_reconnected(f->c) && (rc = subscribe(f, err)) != 0)
			return rc;
		if (time(NULL) - f->last_sent >= CLIENT_KEEPALIVE_S &&
		    (rc = send_credit(f, 0, err)) != 0)
			return rc;
		if ((f->msg = malloc(sizeof(*f->msg))) == NULL)
			return cerr_set(err, CARNET_E_NOMEM, "out of memory");
		rc = client_recv(f->c, timeout_ms < 1000 ? timeout_ms : 1000,
		    cmd, f->msg, err);
		if (rc != 0) {
			free(f->msg);
			f->msg = NULL;
			if (rc != CARNET_E_TIMEOUT)
				return rc;
			waited += timeout_ms < 1000 ? timeout_ms : 1000;
			if (waited >= timeout_ms)
				return rc;
			continue;
		}
		f->next = 0;
		if (strcmp(cmd, "REVOKED") == 0) {
			memset(ev, 0, sizeof(*ev));
			ev->kind = FEED_REVOKED;
			if (mpk_bin_n(mpk_get(&f->msg->data, "token"), ev->token,
			    TOKID_BYTES) != 0 ||
			    mpk_bin_n(mpk_get(&f->msg->data, "user"), ev->user,
			    ID_BYTES) != 0 ||
			    mpk_cstr(mpk_get(&f->msg->data, "reason"),
			    ev->reason, sizeof(ev->reason)) != 0)
				strcpy(ev->reason, "ended");
			erase_info(mpk_get(&f->msg->data, "erase"), ev);
			drop_msg(f);
			ended_note(f, ev->token);
			return 0;
		}
		if (strcmp(cmd, "ERR") == 0) {
			char msg[200] = "", code[32] = "";

			mpk_cstr(mpk_get(&f->msg->data, "message"), msg,
			    sizeof(msg));
			mpk_cstr(mpk_get(&f->msg->data, "code"), code,
			    sizeof(code));
			drop_msg(f);
			return cerr_set(err, carnet_errcode(code, strlen(code)),
			    "the broker says: %s", msg);
		}
		if (strcmp(cmd, "REC") != 0)
			drop_msg(f);
	}
}

void
app_feed_close(struct app_feed **fp)
{
	struct app_feed *f = *fp;

	if (f == NULL)
		return;
	flush_acks(f, NULL);
	client_begin(f->c, 0);
	if (client_send(f->c, "UNSUB", NULL) != 0) {
		/* the broker drops the session at its first failed send */
	}
	drop_msg(f);
	free(f->users);
	free(f->ended);
	free(f->ended_path);
	free(f);
	*fp = NULL;
}

void
holder_counts_print(FILE *f, unsigned long long stored,
    unsigned long long dup, unsigned long long corrected)
{
	fprintf(f, "%llu stored, %llu already stored", stored, dup);
	if (corrected > 0)
		fprintf(f, " (%llu of them new versions of records stored "
		    "before: corrections)", corrected);
	fputc('\n', f);
}
