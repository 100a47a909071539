/*
 * walk.c: typed, located reads of a FHIR document (see walk.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/id.h"
#include "terms.h"
#include "walk.h"

int
walk_fail(struct fhir_walk *w, int code, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	if (w->rc != 0)
		return w->rc;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	w->rc = code;
	cerr_set(w->err, code, "%s: %s%s%s", w->where, w->elem,
	    w->elem[0] != '\0' ? "." : "", msg);
	return code;
}

json_t *
walk_at(json_t *v, const char *path)
{
	char buf[160], *part, *save = NULL, *end;

	snprintf(buf, sizeof(buf), "%s", path);
	for (part = strtok_r(buf, ".", &save); part && v;
	    part = strtok_r(NULL, ".", &save)) {
		long i = strtol(part, &end, 10);

		v = *end == '\0' && end != part ? json_array_get(v, (size_t)i) :
		    json_object_get(v, part);
	}
	return v;
}

/* "item.0.amount" as "item[0].amount", for messages. */
static const char *
path_text(const char *path, char *buf, size_t size)
{
	const char *p = path;
	size_t o = 0;

	buf[0] = '\0';
	while (*p != '\0' && o < size) {
		size_t n = strcspn(p, ".");
		bool idx = strspn(p, "0123456789") == n && n > 0;

		o += (size_t)snprintf(buf + o, size - o, idx ? "[%.*s]" :
		    (o ? ".%.*s" : "%.*s"), (int)n, p);
		p += n + (p[n] == '.');
	}
	return buf;
}

static const char *
kind_name(json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "a list";
	case JSON_STRING: return "a string";
	case JSON_INTEGER:
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "?";
}

static json_t *
typed(struct fhir_walk *w, json_t *v, const char *path, json_type type,
    const char *want)
{
	char pt[160];
	json_t *x;

	if (w->rc != 0 || (x = walk_at(v, path)) == NULL)
		return NULL;
	if (json_typeof(x) == type || (type == JSON_REAL &&
	    json_typeof(x) == JSON_INTEGER))
		return x;
	walk_fail(w, CARNET_E_MALFORMED, "%s: want %s, got %s",
	    path_text(path, pt, sizeof(pt)), want, kind_name(x));
	return NULL;
}

const char *
walk_str(struct fhir_walk *w, json_t *v, const char *path)
{
	json_t *x = typed(w, v, path, JSON_STRING, "a string");
	const char *s = x ? json_string_value(x) : NULL;

	/* FHIR strings hold something other than white space: one that
	 * does not is absent, so the mapper's fallbacks apply */
	return s && s[strspn(s, " \t\r\n")] != '\0' ? s : NULL;
}

json_t *
walk_num(struct fhir_walk *w, json_t *v, const char *path)
{
	return typed(w, v, path, JSON_REAL, "a number");
}

json_t *
walk_arr(struct fhir_walk *w, json_t *v, const char *path)
{
	return typed(w, v, path, JSON_ARRAY, "a list");
}

json_t *
walk_obj(struct fhir_walk *w, json_t *v, const char *path)
{
	return typed(w, v, path, JSON_OBJECT, "an object");
}

const char *
walk_first_str(struct fhir_walk *w, json_t *v, const char *const *paths)
{
	const char *s = NULL;

	for (; *paths && s == NULL; paths++)
		s = walk_str(w, v, *paths);
	return s;
}

int
walk_date(struct fhir_walk *w, json_t *v, const char *path, int64_t *t,
    const char **precision)
{
	const char *s = walk_str(w, v, path), *given = s;
	char full[16], pt[160];
	size_t n;

	if (s == NULL)
		return 0;
	/* FHIR's partial dates, YYYY and YYYY-MM, as their first day; the
	 * rest (a day, a time with its zone) is common time_parse's */
	n = strlen(s);
	*precision = n == 4 ? "year" : n == 7 ? "month" : n == 10 ? "day" :
	    NULL;
	if (n == 4 || n == 7) {
		if (strspn(s, "0123456789") != 4 || (n == 7 && (s[4] != '-' ||
		    strspn(s + 5, "0123456789") != 2)))
			goto bad;
		snprintf(full, sizeof(full), "%.7s%s", s, n == 4 ? "-01-01" :
		    "-01");
		s = full;
	}
	if (time_parse(s, t) == 0)
		return 1;
bad:
	walk_fail(w, CARNET_E_BAD_VALUE, "%s: \"%.40s\" is not a FHIR date "
	    "of years 0001 to 9999 (YYYY, YYYY-MM, YYYY-MM-DD or a dateTime "
	    "with seconds and zone)", path_text(path, pt, sizeof(pt)), given);
	return 0;
}

void
walk_set_text(json_t *o, const char *key, const char *s)
{
	if (s != NULL && s[0] != '\0')
		json_object_set_new(o, key, json_string(s));
}

const char *
walk_system(struct fhir_walk *w, json_t *coding)
{
	return terms_system(walk_str(w, coding, "system"));
}

bool
walk_coding(struct fhir_walk *w, json_t *coding, char *buf, size_t size)
{
	const char *sys = walk_system(w, coding);
	const char *code = walk_str(w, coding, "code");

	if (code == NULL)
		return false;
	snprintf(buf, size, "%s|%s", sys ? sys : "", code);
	return true;
}

void
walk_index(struct fhir_walk *w, const char *key, json_t *res)
{
	if (json_object_get(w->index, key) == NULL)
		json_object_set(w->index, key, res);
}

json_t *
walk_resolve(struct fhir_walk *w, const char *ref)
{
	char tail[200];
	const char *h, *p, *slash;
	json_t *r, *c;
	size_t i;

	if (ref == NULL || ref[0] == '\0')
		return NULL;
	if (ref[0] == '#') {
		json_array_foreach(json_object_get(w->res, "contained"), i, c)
			if (json_is_string(json_object_get(c, "id")) &&
			    strcmp(json_string_value(json_object_get(c, "id")),
			    ref + 1) == 0)
				return c;
		return NULL;
	}
	if ((r = json_object_get(w->index, ref)) != NULL)
		return r;
	/* Type/id: the last two segments, a version (_history/n) dropped */
	snprintf(tail, sizeof(tail), "%s", ref);
	if ((h = strstr(tail, "/_history/")) != NULL)
		tail[h - tail] = '\0';
	if ((slash = strrchr(tail, '/')) == NULL)
		return NULL;
	for (p = slash - 1; p > tail && p[-1] != '/'; p--)
		;
	return json_object_get(w->index, p);
}
