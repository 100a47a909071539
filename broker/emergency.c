/*
 * emergency.c: the emergency card: EMERGENCY_SET and EMERGENCY_SHOW (the
 * person), EMERGENCY_OPEN and EMERGENCY_READ (an emergency app, for a
 * fixed window, each read logged first in the person's log).
 */
#include <stdio.h>
#include <string.h>

#include "../common/mpk.h"
#include "../common/text.h"
#include "../policy/consent.h"
#include "broker.h"


/* The person's card, unpacked, or CARNET_E_NOT_FOUND. */
static int
card_load(struct req *r, const uint8_t user[ID_BYTES], msgpack_unpacked *card)
{
	MDB_val v;
	int rc;

	if ((rc = store_card_get(r->b->store, r->txn, user, &v)) != 0)
		return rc;
	return mpk_unpack(v.mv_data, v.mv_size, CARD_MAX_DEPTH, card);
}

static bool
card_lists(const msgpack_object *card, const char *key, const void *p,
    size_t n)
{
	const msgpack_object *l = mpk_get(card, key);
	uint32_t i;

	for (i = 0; l && l->type == MSGPACK_OBJECT_ARRAY &&
	    i < l->via.array.size; i++) {
		const msgpack_object *o = &l->via.array.ptr[i];

		if ((o->type == MSGPACK_OBJECT_BIN && o->via.bin.size == n &&
		    memcmp(o->via.bin.ptr, p, n) == 0) ||
		    (o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
		    memcmp(o->via.str.ptr, p, n) == 0))
			return true;
	}
	return false;
}

int
handle_emergency_set(struct req *r, struct cerr *err)
{
	const msgpack_object *types = mpk_get(r->body, "types");
	const msgpack_object *apps = mpk_get(r->body, "apps");
	const struct party *app;
	struct uselog_entry e;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint32_t i;
	int rc;

	if ((rc = body_keys(r, err, "types", "apps", NULL)) != 0)
		return rc;
	if (types == NULL || types->type != MSGPACK_OBJECT_ARRAY ||
	    types->via.array.size > TOKEN_MAX_TYPES || apps == NULL ||
	    apps->type != MSGPACK_OBJECT_ARRAY ||
	    apps->via.array.size > TOKEN_MAX_HOLDERS ||
	    (types->via.array.size == 0) != (apps->via.array.size == 0))
		return cerr_set(err, CARNET_E_MALFORMED,
		    "EMERGENCY_SET: want types (1 to %d) and apps (1 to %d), "
		    "or both empty to remove the card", TOKEN_MAX_TYPES,
		    TOKEN_MAX_HOLDERS);
	if ((rc = body_types(r, types, err)) != 0)
		return rc;
	for (i = 0; i < apps->via.array.size; i++) {
		const msgpack_object *a = &apps->via.array.ptr[i];

		if (a->type != MSGPACK_OBJECT_BIN || a->via.bin.size != ID_BYTES ||
		    party_of_role(r, (const uint8_t *)a->via.bin.ptr, ROLE_APP,
		    &app) != 0)
			return cerr_set(err, CARNET_E_UNKNOWN_PARTY,
			    "EMERGENCY_SET: apps[%u] is not a registered app",
			    i + 1);
	}
	msgpack_sbuffer_init(&sb);
	if (types->via.array.size > 0) {
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		msgpack_pack_map(&pk, 3);
		mpk_pack_cstr(&pk, "types");
		msgpack_pack_object(&pk, *types);
		mpk_pack_cstr(&pk, "apps");
		msgpack_pack_object(&pk, *apps);
		mpk_pack_cstr(&pk, "time");
		msgpack_pack_int64(&pk, r->now);
	}
	rc = store_card_put(r->b->store, r->txn, r->from->id, sb.data, sb.size,
	    err);
	msgpack_sbuffer_destroy(&sb);
	if (rc != 0)
		return rc;
	ulog_entry_init(&e, r, USE_EMERGENCY_SET);
	if (types->via.array.size == 0) {
		strcpy(e.note, "card removed: nothing opens in an emergency");
	} else {
		size_t n = 0;

		for (i = 0; i < types->via.array.size && n < sizeof(e.note);
		    i++)
			n += (size_t)snprintf(e.note + n, sizeof(e.note) - n,
			    "%s%.*s", i ? "," : "types ",
			    (int)types->via.array.ptr[i].via.str.size,
			    types->via.array.ptr[i].via.str.ptr);
		if (n < sizeof(e.note))
			snprintf(e.note + n, sizeof(e.note) - n, "; %u app%s",
			    apps->via.array.size,
			    apps->via.array.size > 1 ? "s" : "");
	}
	if ((rc = ulog_append(r->b, r->txn, r->from->id, &e, err)) != 0)
		return rc;
	reply_begin(r, 0);
	return 0;
}

int
handle_emergency_show(struct req *r, struct cerr *err)
{
	msgpack_unpacked card;
	int rc;

	if ((rc = body_keys(r, err, NULL)) != 0 ||
	    (rc = ulog_view(r, "emergency card", err)) != 0)
		return rc;
	rc = card_load(r, r->who->id, &card);
	if (rc != 0 && rc != CARNET_E_NOT_FOUND)
		return cerr_set(err, rc, "EMERGENCY_SHOW: %s",
		    carnet_strerror(rc));
	if (rc == 0 && !deleg_covers_names(r, mpk_get(&card.data, "types"))) {
		msgpack_unpacked_destroy(&card);
		return cerr_set(err, CARNET_E_BEYOND_DELEGATION,
		    "EMERGENCY_SHOW: %s's card holds types %s did not "
		    "delegate to you", r->who->name, r->who->name);
	}
	reply_begin(r, 1);
	mpk_pack_cstr(&r->pk, "card");
	if (rc == 0) {
		msgpack_pack_object(&r->pk, card.data);
		msgpack_unpacked_destroy(&card);
	} else {
		msgpack_pack_nil(&r->pk);
	}
	return 0;
}

/* The person named by "user", and whether this app may open their card. */
static int
emergency_card(struct req *r, const struct party **user,
    msgpack_unpacked *card, bool *listed, struct cerr *err)
{
	uint8_t id[ID_BYTES];
	int rc;

	*listed = false;
	if (mpk_bin_n(mpk_get(r->body, "user"), id, ID_BYTES) != 0 ||
	    party_of_role(r, id, ROLE_USER, user) != 0)
		return cerr_set(err, CARNET_E_UNKNOWN_PARTY,
		    "%s: user is not a registered person",
		    proto_cmd_name(r->cmd));
	if ((rc = card_load(r, id, card)) != 0) {
		if (rc != CARNET_E_NOT_FOUND)
			return cerr_set(err, rc, "%s: %s",
			    proto_cmd_name(r->cmd), carnet_strerror(rc));
		return 0;
	}
	*listed = card_lists(&card->data, "apps", r->from->id, ID_BYTES);
	if (!*listed)
		msgpack_unpacked_destroy(card);
	return 0;
}

int
handle_emergency_open(struct req *r, struct cerr *err)
{
	const msgpack_object *reason = mpk_get(r->body, "reason");
	const struct party *user;
	msgpack_unpacked card;
	struct uselog_entry e;
	bool listed;
	int64_t until = r->now + r->b->emergency_secs;
	int rc;

	if ((rc = body_keys(r, err, "user", "reason", NULL)) != 0)
		return rc;
	if (reason == NULL || reason->type != MSGPACK_OBJECT_STR ||
	    reason->via.str.size == 0 ||
	    reason->via.str.size > USELOG_NOTE_MAX_BYTES ||
	    !utf8_valid(reason->via.str.ptr, reason->via.str.size))
		return cerr_set(err, CARNET_E_BAD_VALUE,
		    "EMERGENCY_OPEN: give the reason, 1 to %d bytes of text",
		    USELOG_NOTE_MAX_BYTES);
	if (!text_printable(reason->via.str.ptr, reason->via.str.size))
		return cerr_set(err, CARNET_E_CONTROL_CHARS, "EMERGENCY_OPEN: "
		    "the reason holds control or escape characters: they "
		    "could change what the person is shown");
	if ((rc = emergency_card(r, &user, &card, &listed, err)) != 0)
		return rc;
	if (!listed)
		return refuse_logged(r, user->id, CARNET_E_NO_CARD,
		    "emergency access by %s refused: %s's emergency card does "
		    "not name this app (carnet emergency set)", r->from->name,
		    user->name);
	if ((rc = store_opening_put(r->b->store, r->txn, user->id,
	    r->from->id, until, err)) == 0) {
		ulog_entry_init(&e, r, USE_EMERGENCY);
		e.has_app = true;
		memcpy(e.app, r->from->id, ID_BYTES);
		e.rseq = (uint64_t)until;
		snprintf(e.note, sizeof(e.note), "%.*s",
		    (int)reason->via.str.size, reason->via.str.ptr);
		if ((rc = ulog_append(r->b, r->txn, user->id, &e,
		    err)) == 0)
			rc = stat_add(r, err, 1, "emergency/%s", r->from->name);
	}
	if (rc == 0) {
		log_info("EMERGENCY: app %s opened %s's card for %lld s",
		    r->from->name, user->name, (long long)r->b->emergency_secs);
		reply_begin(r, 2);
		mpk_pack_cstr(&r->pk, "until");
		msgpack_pack_int64(&r->pk, until);
		mpk_pack_cstr(&r->pk, "types");
		msgpack_pack_object(&r->pk, *mpk_get(&card.data, "types"));
	}
	msgpack_unpacked_destroy(&card);
	return rc;
}

/* One record of the card's types, sent and logged as a use. */
static int
emergency_send(struct req *r, const struct party *user,
    const struct recmeta *m, msgpack_packer *pk, struct cerr *err)
{
	/* every field of the card's types; the holder's ref stays here */
	struct record_view view = {
		.fields = FIELDS_ALL, .ref_key = store_ref_key(r->b->store),
		.app = r->from->id, .holder = m->holder, .user = user->id,
	};
	struct uselog_entry e;
	msgpack_sbuffer sb;
	MDB_val v;
	int rc;

	if ((rc = store_record_get(r->b->store, r->txn, user->id, m->seq, &v,
	    err)) != 0)
		return rc == CARNET_E_NOT_FOUND ? 0 : rc;
	msgpack_sbuffer_init(&sb);
	if ((rc = record_copy_minimised(v.mv_data, v.mv_size, m->type, &view,
	    &sb)) != 0) {
		msgpack_sbuffer_destroy(&sb);
		return cerr_set(err, rc, "stored record %llu is damaged",
		    (unsigned long long)m->seq);
	}
	mpk_pack_binn(pk, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	ulog_entry_init(&e, r, USE_DELIVER);
	e.has_app = e.has_holder = true;
	memcpy(e.app, r->from->id, ID_BYTES);
	memcpy(e.holder, m->holder, ID_BYTES);
	e.type = m->type;
	e.rseq = m->seq;
	strcpy(e.purpose, "emergency");
	return ulog_append(r->b, r->txn, user->id, &e, err);
}

int
handle_emergency_read(struct req *r, struct cerr *err)
{
	const struct party *user;
	msgpack_unpacked card;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct recmeta m;
	char when[TIME_STR_LEN + 1];
	uint64_t from = 0, after, n = 0, looked = 0;
	int64_t until = 0;
	bool listed, more = false;
	int rc;

	if ((rc = body_keys(r, err, "user", "from", NULL)) != 0)
		return rc;
	if (mpk_get(r->body, "from") != NULL &&
	    mpk_u64(mpk_get(r->body, "from"), &from) != 0)
		return cerr_set(err, CARNET_E_BAD_VALUE,
		    "EMERGENCY_READ: from is a record seq");
	if ((rc = emergency_card(r, &user, &card, &listed, err)) != 0)
		return rc;
	if (!listed)
		return refuse_logged(r, user->id, CARNET_E_NO_CARD,
		    "emergency read by %s refused: not on %s's emergency card",
		    r->from->name, user->name);
	if (store_opening_get(r->b->store, r->txn, user->id, r->from->id,
	    &until) != 0 || until <= r->now) {
		msgpack_unpacked_destroy(&card);
		if (until == 0)
			return refuse_logged(r, user->id, CARNET_E_NO_CARD,
			    "emergency read by %s refused: open it first, with "
			    "a reason", r->from->name);
		time_format(until, when);
		return refuse_logged(r, user->id, CARNET_E_EXPIRED,
		    "emergency read by %s refused: the access ended at %s",
		    r->from->name, when);
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	after = from;
	while ((rc = store_user_next(r->b->store, r->txn, user->id, after,
	    &m)) == 0) {
		if (n == BROKER_EXPORT_PAGE_RECORDS ||
		    looked++ == EMERGENCY_SCAN_FACTOR * BROKER_EXPORT_PAGE_RECORDS) {
			more = true;
			break;
		}
		after = m.seq;
		if (!card_lists(&card.data, "types", m.type->name,
		    strlen(m.type->name)))
			continue;
		if ((rc = emergency_send(r, user, &m, &pk, err)) != 0)
			break;
		n++;
	}
	msgpack_unpacked_destroy(&card);
	if (rc == CARNET_E_NOT_FOUND)
		rc = 0;
	if (rc == 0) {
		reply_begin(r, 4);
		mpk_pack_cstr(&r->pk, "records");
		msgpack_pack_array(&r->pk, (uint32_t)n);
		msgpack_sbuffer_write(r->reply, sb.data, sb.size);
		reply_page_end(r, more, &after);
		mpk_pack_cstr(&r->pk, "until");
		msgpack_pack_int64(&r->pk, until);
	} else if (err->msg[0] == '\0') {
		cerr_set(err, rc, "EMERGENCY_READ: %s", carnet_strerror(rc));
	}
	msgpack_sbuffer_destroy(&sb);
	return rc;
}
