/*
 * recjson.h: records to and from JSON, one object per line.
 *
 * A JSON record has the envelope fields beside the type's fields:
 *   {"user": "<party id>", "ref": "c-1", "time": "2017-03-02T10:00:00Z",
 *    "act_code": "C", "label": "...", "amount_eur": 25.0, ...}
 * "type" may be given (it must then match the type asked for), "holder"
 * likewise; "time" is ISO 8601 or seconds since the epoch.  Encoding goes
 * through record_decode, so JSON input meets exactly the same checks as
 * msgpack from the network.
 */
#ifndef CARNET_RECJSON_H
#define CARNET_RECJSON_H

#include <jansson.h>
#include <msgpack.h>

#include "record.h"

/*
 * Encode one JSON object as a record appended to out.  type may be NULL
 * when obj names its own type.  0 or a CARNET_E_* code (err names the field);
 * nothing is appended on error.
 */
int recjson_encode(const json_t *obj, const struct schema *type,
    msgpack_sbuffer *out, struct cerr *err)
    __attribute__((warn_unused_result));

/* Parse one line of JSON text, then recjson_encode. */
int recjson_encode_line(const char *line, size_t len,
    const struct schema *type, msgpack_sbuffer *out, struct cerr *err)
    __attribute__((warn_unused_result));

/* A new JSON object for r (ids printed, time ISO 8601); NULL on no memory. */
json_t *recjson_from_record(const struct record *r);

/* A msgpack scalar or list of scalars as JSON; NULL if o is another kind. */
json_t *recjson_value(const msgpack_object *o);

/* A record type and its documented fields, as carnet schema --json:
 * {type, version, doc, fields: [{name, kind, required, doc}]}. */
json_t *recjson_schema(const struct schema *s);

#endif
