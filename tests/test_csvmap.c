/*
 * test_csvmap.c: holders' CSV exports and enrollment files, on good and
 * malformed input.
 */
#include "testutil.h"

#include <sodium.h>

#include "../client/csvmap.h"
#include "../common/mpk.h"
#include "../schemas/recjson.h"

static char uid[ID_STR_LEN + 1];

static int
setup(void **state)
{
	uint8_t pk[ID_BYTES], sk[64];

	(void)state;
	assert_true(sodium_init() >= 0);
	crypto_sign_keypair(pk, sk);
	id_encode(pk, uid);
	return 0;
}

struct rows {
	struct csvmap map;
	const struct schema *type;
	bool header;
	int n, rc_header;
	msgpack_sbuffer out;
	struct cerr err;
	int fail_line;
};

static int
collect(void *arg, char **cells, int n, unsigned long line)
{
	struct rows *r = arg;
	int rc;

	if (!r->header) {
		r->header = true;
		return r->rc_header = csvmap_header(&r->map, r->type, cells, n,
		    &r->err);
	}
	if ((rc = csvmap_row(&r->map, cells, n, uid, &r->out, &r->err)) != 0) {
		r->fail_line = (int)line;
		return rc;
	}
	r->n++;
	return 0;
}

static int
read_csv(const char *text, const char *type, struct rows *r)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int rc;

	memset(r, 0, sizeof(*r));
	r->type = schema_by_name(type, strlen(type));
	msgpack_sbuffer_init(&r->out);
	assert_non_null(f);
	rc = csv_read(f, collect, r, &r->err);
	fclose(f);
	return rc;
}

static void
test_claims_export_maps_every_column(void **state)
{
	struct rows r;
	msgpack_unpacked tree;
	struct record rec;
	struct cerr err;
	size_t off = 0;
	double v;
	char s[64];

	(void)state;
	assert_int_equal(read_csv(
	    "customer,ref,date,act_code,label,amount_eur,reimbursed_eur,"
	    "mutual_eur,practitioner,care_kind\r\n"
	    "MGEN-1,c1,2017-03-02,G,\"Consultation, generaliste\",25,16.5,"
	    "7.5,generaliste,consultation\r\n"
	    "MGEN-1,c2,15/04/2017,CS,\"Dit \"\"urgent\"\"\",\"30,00\","
	    "\"20,00\",,specialiste,\n", "claim", &r), 0);
	assert_int_equal(r.n, 2);
	/* first record */
	assert_int_equal(mpk_unpack(r.out.data, r.out.size, 8, &tree),
	    CARNET_E_TRAILING); /* two records back to back */
	msgpack_unpacked_init(&tree);
	assert_int_equal(msgpack_unpack_next(&tree, r.out.data, r.out.size,
	    &off), MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(record_from_object(&tree.data, &rec, &err), 0);
	assert_string_equal(rec.ref, "c1");
	assert_int_equal(rec.time, 1488412800);
	assert_int_equal(mpk_cstr(mpk_get(rec.body, "label"), s, sizeof(s)), 0);
	assert_string_equal(s, "Consultation, generaliste");
	assert_int_equal(mpk_num(mpk_get(rec.body, "mutual_eur"), &v), 0);
	assert_true(v == 7.5);
	/* second: decimal commas, a French date, an absent optional field */
	assert_int_equal(msgpack_unpack_next(&tree, r.out.data, r.out.size,
	    &off), MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(record_from_object(&tree.data, &rec, &err), 0);
	assert_int_equal(rec.time, 1492214400);
	assert_int_equal(mpk_num(mpk_get(rec.body, "amount_eur"), &v), 0);
	assert_true(v == 30.0);
	assert_null(mpk_get(rec.body, "mutual_eur"));
	assert_null(mpk_get(rec.body, "care_kind"));
	assert_int_equal(mpk_cstr(mpk_get(rec.body, "label"), s, sizeof(s)), 0);
	assert_string_equal(s, "Dit \"urgent\"");
	msgpack_unpacked_destroy(&tree);
	msgpack_sbuffer_destroy(&r.out);
}

/* A file saved by Excel as "CSV UTF-8" starts with a byte order mark. */
static void
test_byte_order_mark_is_not_a_column(void **state)
{
	struct rows r;

	(void)state;
	assert_int_equal(read_csv("\xEF\xBB\xBF"
	    "customer,ref,date,act_code,label,amount_eur,reimbursed_eur,"
	    "practitioner\r\nMGEN-1,c1,2017-03-02,G,Consultation,25,16.5,"
	    "generaliste\r\n", "claim", &r), 0);
	assert_int_equal(r.rc_header, 0);
	assert_int_equal(r.n, 1);
	msgpack_sbuffer_destroy(&r.out);
	/* only at the start: inside, the same bytes are a character a label
	 * may not hold (an invisible format character), refused as such */
	assert_int_not_equal(read_csv("customer,ref,date,act_code,label,"
	    "amount_eur,reimbursed_eur,practitioner\r\nMGEN-1,c1,2017-03-02,G,"
	    "\xEF\xBB\xBF" "Consultation,25,16.5,generaliste\r\n", "claim",
	    &r), 0);
	assert_int_equal(r.n, 0);
	assert_non_null(strstr(cerr_msg(&r.err), "label: holds control"));
	msgpack_sbuffer_destroy(&r.out);
}

static void
test_profile_lists(void **state)
{
	struct rows r;
	msgpack_unpacked tree;
	struct record rec;
	struct cerr err;

	(void)state;
	assert_int_equal(read_csv(
	    "customer,ref,date,birth_year,sex,blood_group,allergies,conditions,"
	    "treatments,emergency_contact\n"
	    "M-1,p1,2017-01-01,1962,female,O+,penicilline|pollen,,"
	    "Ventoline,Paul\n", "profile", &r), 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(record_decode(r.out.data, r.out.size, &tree, &rec,
	    &err), 0);
	assert_int_equal(mpk_get(rec.body, "allergies")->via.array.size, 2);
	assert_int_equal(mpk_get(rec.body, "conditions")->via.array.size, 0);
	msgpack_unpacked_destroy(&tree);
	msgpack_sbuffer_destroy(&r.out);
}

static void
expect_fail(const char *text, const char *type, int code, const char *needle)
{
	struct rows r;
	int rc = read_csv(text, type, &r);

	assert_int_equal(rc, code);
	if (strstr(r.err.msg, needle) == NULL)
		fail_msg("message '%s' does not name '%s'", r.err.msg, needle);
	msgpack_sbuffer_destroy(&r.out);
}

static void
test_malformed_exports(void **state)
{
	(void)state;
	expect_fail("customer,ref,date,act_code\nM,1,2017-01-01,C\n", "claim",
	    CARNET_E_MISSING_FIELD, "label");
	expect_fail("customer,ref,date,act_code,colour\n", "claim",
	    CARNET_E_UNKNOWN_FIELD, "colour");
	expect_fail("ref,date,loinc,label,value,unit\n", "lab_result",
	    CARNET_E_MISSING_FIELD, "customer");
	expect_fail("customer,ref,date,loinc,label,value,unit\n"
	    "L-1,l1,2017-01-01,4548-4,HbA1c,high,%\n", "lab_result",
	    CARNET_E_FIELD_TYPE, "value");
	expect_fail("customer,ref,date,loinc,label,value,unit\n"
	    "L-1,l1,yesterday,4548-4,HbA1c,6.1,%\n", "lab_result",
	    CARNET_E_BAD_VALUE, "date");
	expect_fail("customer,ref,date,loinc,label,value,unit\n"
	    "L-1,l1,2017-01-01,4548-4,HbA1c,6.1\n", "lab_result",
	    CARNET_E_MALFORMED, "cells");
	expect_fail("customer,ref,date,loinc,label,value,unit\n"
	    "L-1,l1,2017-01-01,4548-4,\"HbA1c,6.1,%\n", "lab_result",
	    CARNET_E_MALFORMED, "line");
	expect_fail("customer,ref,date,loinc,label,value,unit\n"
	    "L-1,l1,2017-01-01,4548-4,HbA1c,,%\n", "lab_result",
	    CARNET_E_MISSING_FIELD, "value");
}

/* Dates of years 0001 to 9999, ISO or DD/MM/YYYY; none outside. */
static void
test_dates_of_years_1_to_9999(void **state)
{
	static const char head[] =
	    "customer,ref,date,act_code,label,practitioner\n";
	struct rows r;
	char text[256];

	(void)state;
	snprintf(text, sizeof(text), "%sM,1,0001-01-01,C,x,gp\n"
	    "M,2,01/01/0001,C,x,gp\nM,3,31/12/9999,C,x,gp\n"
	    "M,4,9999-12-31T23:59:59Z,C,x,gp\n", head);
	assert_int_equal(read_csv(text, "claim", &r), 0);
	assert_int_equal(r.n, 4);
	msgpack_sbuffer_destroy(&r.out);
	snprintf(text, sizeof(text), "%sM,1,31/12/0000,C,x,gp\n", head);
	expect_fail(text, "claim", CARNET_E_BAD_VALUE, "column time: "
	    "'31/12/0000' is not a date from 0001-01-01 to 9999-12-31");
	snprintf(text, sizeof(text), "%sM,1,0001-01-01T00:00:00+01:00,C,x,gp\n",
	    head);
	expect_fail(text, "claim", CARNET_E_BAD_VALUE,
	    "0001-01-01 to 9999-12-31");
}

static char *
write_tmp(const char *dir, const char *text)
{
	char *path = malloc(512);
	FILE *f;

	snprintf(path, 512, "%s/enr.csv", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	return path;
}

static void
test_enrollment(void **state)
{
	char *dir = tu_tmpdir(), *path, text[512];
	struct enrollment *e;
	struct cerr err = {0};

	(void)state;
	snprintf(text, sizeof(text), "customer,carnet_id\nMGEN-1,%s\n", uid);
	path = write_tmp(dir, text);
	assert_int_equal(enroll_load(path, &e, &err), 0);
	assert_int_equal(enroll_count(e), 1);
	assert_string_equal(enroll_lookup(e, "MGEN-1"), uid);
	assert_null(enroll_lookup(e, "MGEN-2"));
	enroll_free(&e);
	enroll_free(&e);
	free(path);
	snprintf(text, sizeof(text), "customer,carnet_id\nA,%s\nA,%s\n", uid,
	    uid);
	path = write_tmp(dir, text);
	assert_int_equal(enroll_load(path, &e, &err), CARNET_E_DUPLICATE);
	free(path);
	path = write_tmp(dir, "customer,carnet_id\nA,not-an-id\n");
	assert_int_equal(enroll_load(path, &e, &err), CARNET_E_BAD_VALUE);
	assert_non_null(strstr(err.msg, "line 2"));
	free(path);
	path = write_tmp(dir, "who,id\n");
	assert_int_equal(enroll_load(path, &e, &err), CARNET_E_MALFORMED);
	free(path);
	tu_rmtree(&dir);
}

static void
test_real_synthetic_panel_round_trips(void **state)
{
	/* the exports carnet-synth writes are what the agents read */
	struct rows r;

	(void)state;
	assert_int_equal(read_csv(
	    "customer,ref,date,cip13,drug,quantity,amount_eur,reimbursed_eur,atc\n"
	    "PH-001000,PH-001000-d10,2017-01-13,3400936578787,Ventoline 100 ug "
	    "inhalateur,2,4.56,2.96,R03AC02\n", "dispense", &r), 0);
	assert_int_equal(r.n, 1);
	msgpack_sbuffer_destroy(&r.out);
}

/* csv_write_cell's output for s, in a static buffer. */
static const char *
cell_of(const char *s)
{
	static char buf[256];
	FILE *f;

	memset(buf, 0, sizeof(buf)); /* fmemopen writes no NUL for nothing */
	assert_non_null(f = fmemopen(buf, sizeof(buf), "w"));
	csv_write_cell(f, s);
	assert_int_equal(ferror(f), 0);
	fclose(f);
	return buf;
}

static int
first_cell(void *arg, char **cells, int n, unsigned long line)
{
	(void)line;
	assert_int_equal(n, 2);
	snprintf(arg, 256, "%s", cells[0]);
	return 0;
}

static void
test_cells_a_spreadsheet_would_run_are_written_inert(void **state)
{
	static const char *const formulas[] = {
		"=HYPERLINK(\"http://evil.example/\",\"see\")", "+1", "-2+3",
		"@SUM(A1:A9)", "\tx", "\rx",
	};
	char text[300], back[256];
	struct cerr err = {0};
	size_t i;
	FILE *f;

	(void)state;
	assert_string_equal(cell_of("claire"), "claire");
	assert_string_equal(cell_of(""), "");
	assert_string_equal(cell_of("a,b"), "\"a,b\"");
	assert_string_equal(cell_of("say \"hi\""), "\"say \"\"hi\"\"\"");
	assert_string_equal(cell_of("a\nb"), "\"a\nb\"");
	assert_string_equal(cell_of("x=1"), "x=1");
	assert_string_equal(cell_of("=1+2"), "\"'=1+2\"");
	assert_string_equal(cell_of(formulas[0]),
	    "\"'=HYPERLINK(\"\"http://evil.example/\"\",\"\"see\"\")\"");
	/* read back, each is the text with a quote in front: shown, not run */
	for (i = 0; i < sizeof(formulas) / sizeof(formulas[0]); i++) {
		snprintf(text, sizeof(text), "%s,x\n", cell_of(formulas[i]));
		assert_non_null(f = fmemopen(text, strlen(text), "r"));
		assert_int_equal(csv_read(f, first_cell, back, &err), 0);
		fclose(f);
		assert_int_equal(back[0], '\'');
		assert_string_equal(back + 1, formulas[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claims_export_maps_every_column),
		cmocka_unit_test(test_byte_order_mark_is_not_a_column),
		cmocka_unit_test(test_profile_lists),
		cmocka_unit_test(test_malformed_exports),
		cmocka_unit_test(test_dates_of_years_1_to_9999),
		cmocka_unit_test(test_enrollment),
		cmocka_unit_test(test_real_synthetic_panel_round_trips),
		cmocka_unit_test(test_cells_a_spreadsheet_would_run_are_written_inert),
	};

	return cmocka_run_group_tests_name("csvmap", tests, setup, NULL);
}
