/*
 * partyfields.h: a party's fields from text, checked the same way for
 * carnet party add (options) and carnet party import (a file's rows).
 */
#ifndef CARNET_CLI_PARTYFIELDS_H
#define CARNET_CLI_PARTYFIELDS_H

#include <stddef.h>

#include "../common/error.h"
#include "../policy/party.h"
#include "../store/store.h"

/* Copy src, shown to people, into dst (sz bytes): UTF-8, printable, not
 * starting with = + - @ (a spreadsheet formula). */
int party_text(char *dst, size_t sz, const char *src, const char *what,
    struct cerr *err) __attribute__((warn_unused_result));
/* Add a record type (by name) a holder may push. */
int party_add_type(struct party *p, const char *name, struct cerr *err)
    __attribute__((warn_unused_result));
/* Add a purpose an app declares. */
int party_add_purpose(struct party *p, const char *purpose, struct cerr *err)
    __attribute__((warn_unused_result));
/* Role, name and id, then what the role needs (a holder's types, an
 * app's purposes) and has alone (types a holder's; purposes, owner and
 * business model an app's); the party is ready to store when this
 * returns 0. */
int party_finish(struct party *p, const char *role, const char *name,
    const char *id, struct cerr *err) __attribute__((warn_unused_result));
/* Open the store of the broker whose directory is dir (it must be one). */
int party_open_store(const char *dir, struct store **s, struct cerr *err)
    __attribute__((warn_unused_result));

#endif
