/*
 * terms.c: the tables behind terms.h.
 *
 * Amounts: Blue Button 2.0 names each amount by a CMS variable (the same
 * in v1 and v2); v2 also tags it with an HL7 or CARIN category, which is
 * coarser (BB tags both a line's charge and its per-unit rate
 * "submitted").  So a BB variable decides when one is there.
 */
#include <math.h>
#include <string.h>

#include "terms.h"

#define BB_VARIABLES "bluebutton.cms.gov/resources/variables/"

struct amount_code {
	const char *code;
	enum amount_role role;
};

static const struct amount_code bb_amounts[] = {
	/* line charges: carrier/DME, institutional revenue centres, PDE */
	{"line_sbmtd_chrg_amt", AMOUNT_CHARGE},
	{"rev_cntr_tot_chrg_amt", AMOUNT_CHARGE},
	{"tot_rx_cst_amt", AMOUNT_CHARGE},
	{"clm_tot_chrg_amt", AMOUNT_CHARGE},
	/* what Medicare or the Part D plan paid */
	{"line_nch_pmt_amt", AMOUNT_PAID},
	{"rev_cntr_pmt_amt_amt", AMOUNT_PAID},
	{"clm_pmt_amt", AMOUNT_PAID},
	{"line_prvdr_pmt_amt", AMOUNT_PAID_PART},
	{"line_bene_pmt_amt", AMOUNT_PAID_PART},
	{"rev_cntr_prvdr_pmt_amt", AMOUNT_PAID_PART},
	{"rev_cntr_bene_pmt_amt", AMOUNT_PAID_PART},
	{"cvrd_d_plan_pd_amt", AMOUNT_PAID_PART},
	{"ncvrd_plan_pd_amt", AMOUNT_PAID_PART},
	/* the person's share */
	{"ptnt_pay_amt", AMOUNT_PATIENT},
	{"rev_cntr_ptnt_rspnsblty_pmt", AMOUNT_PATIENT},
};

/* HL7 adjudication (terminology.hl7.org) and CARIN C4BBAdjudication */
static const struct amount_code std_amounts[] = {
	{"submitted", AMOUNT_CHARGE},
	{"drugcost", AMOUNT_CHARGE},
	{"benefit", AMOUNT_PAID},
	{"paidtoprovider", AMOUNT_PAID_PART},
	{"paidtopatient", AMOUNT_PAID_PART},
	{"paidbypatient", AMOUNT_PATIENT},
	{"copay", AMOUNT_OTHER}, {"eligible", AMOUNT_OTHER},
	{"deductible", AMOUNT_OTHER}, {"coinsurance", AMOUNT_OTHER},
	{"priorpayerpaid", AMOUNT_OTHER}, {"discount", AMOUNT_OTHER},
	{"noncovered", AMOUNT_OTHER}, {"memberliability", AMOUNT_OTHER},
	{"tax", AMOUNT_OTHER}, {"unallocdeduct", AMOUNT_OTHER},
	{"eligpercent", AMOUNT_OTHER}, {"denialreason", AMOUNT_OTHER},
	{"adjustmentreason", AMOUNT_OTHER},
};

/* The role of code in table, or AMOUNT_UNKNOWN. */
static enum amount_role
amount_lookup(const struct amount_code *table, size_t n, const char *code)
{
	size_t k;

	for (k = 0; k < n; k++)
		if (strcmp(code, table[k].code) == 0)
			return table[k].role;
	return AMOUNT_UNKNOWN;
}

#define LOOKUP(table, code) \
	amount_lookup(table, sizeof(table) / sizeof(table[0]), code)

enum amount_role
terms_amount_role(json_t *category)
{
	enum amount_role std = AMOUNT_UNKNOWN;
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(category, "coding"), i, c) {
		json_t *jc = json_object_get(c, "code");
		const char *code = json_is_string(jc) ? json_string_value(jc) :
		    NULL, *v;

		if (code == NULL)
			continue;
		if ((v = strstr(code, BB_VARIABLES)) != NULL) {
			enum amount_role bb = LOOKUP(bb_amounts, v +
			    strlen(BB_VARIABLES));

			/* a BB variable carnet does not carry: not a guess */
			return bb == AMOUNT_UNKNOWN ? AMOUNT_OTHER : bb;
		}
		if (LOOKUP(std_amounts, code) != AMOUNT_UNKNOWN)
			std = LOOKUP(std_amounts, code);
		else if (strcmp(code, "mutual") == 0 && json_is_string(
		    json_object_get(c, "system")) && strcmp(json_string_value(
		    json_object_get(c, "system")), CARNET_ADJUDICATION) == 0)
			std = AMOUNT_MUTUAL;
	}
	return std;
}

static const struct vital vitals[] = {
	{"29463-7", "weight_kg", "kg"},        /* body weight */
	{"3141-9", "weight_kg", "kg"},         /* body weight measured */
	{"8302-2", "height_cm", "cm"},         /* body height */
	{"8867-4", "heart_rate_bpm", "/min"},
	{"9279-1", "respiratory_rate_min", "/min"},
	{"55423-8", "steps", "1"},             /* number of steps */
	{"41950-7", "steps", "1"},             /* steps in 24 h */
	{"93832-4", "sleep_min", "min"},
	{"8480-6", "systolic_mmhg", "mm[Hg]"},
	{"8462-4", "diastolic_mmhg", "mm[Hg]"},
	{"85354-9", "blood_pressure", NULL},   /* panel: components */
	{"55284-4", "blood_pressure", NULL},
	{"8310-5", "temperature_c", "Cel"},
	{"8331-1", "temperature_c", "Cel"},    /* oral temperature */
	{"2708-6", "spo2_pct", "%"},
	{"59408-5", "spo2_pct", "%"},
	{"39156-5", "bmi_kg_m2", "kg/m2"},
	/* the first code of a kind is the one the export writes: moles */
	{"15074-8", "glucose_mmol_l", "mmol/L"}, /* glucose, blood, moles */
	{"2339-0", "glucose_mmol_l", "mmol/L"},  /* glucose, blood, mass */
	{"2345-7", "glucose_mmol_l", "mmol/L"},  /* serum or plasma */
	{"14749-6", "glucose_mmol_l", "mmol/L"},
	{"41653-7", "glucose_mmol_l", "mmol/L"}, /* glucometer */
	{"14743-9", "glucose_mmol_l", "mmol/L"}, /* glucometer, moles */
};

/* The first vital whose LOINC code (by_kind: kind) is key, or NULL. */
static const struct vital *
vital_find(const char *key, bool by_kind)
{
	size_t i;

	for (i = 0; key && i < sizeof(vitals) / sizeof(vitals[0]); i++)
		if (strcmp(key, by_kind ? vitals[i].kind : vitals[i].loinc) == 0)
			return &vitals[i];
	return NULL;
}

const struct vital *
terms_vital_of_kind(const char *kind)
{
	return vital_find(kind, true);
}

static const char *const loinc_aliases[] = {
	"https://mos.esante.gouv.fr/NOS/TRE_A04-Loinc/FHIR/TRE-A04-Loinc",
	"urn:oid:2.16.840.1.113883.6.1",
	"http://loinc.org/",
};

const char *
terms_system(const char *system)
{
	size_t i;

	for (i = 0; system && i < sizeof(loinc_aliases) / sizeof(*loinc_aliases);
	    i++)
		if (strcmp(system, loinc_aliases[i]) == 0)
			return LOINC_SYSTEM;
	return system;
}

const struct vital *
terms_vital(const char *loinc)
{
	return vital_find(loinc, false);
}

/*
 * Exact factors to each kind's unit, from the UCUM definitions
 * ([lb_av] = 7000 [gr], [gr] = 64.79891 mg; [in_i] = 2.54 cm; mm[Hg] =
 * 133.322 Pa).  Glucose: its molar mass, 180.156 g/mol, only for the
 * glucose codes above (a mass to moles conversion depends on the analyte).
 */
static const struct {
	const char *to, *from;
	double factor, offset, period_min;
} conversions[] = {
	{"kg", "kg", 1, 0, 0}, {"kg", "g", 0.001, 0, 0},
	{"kg", "[lb_av]", 0.45359237, 0, 0},
	{"kg", "[oz_av]", 0.028349523125, 0, 0},
	{"cm", "cm", 1, 0, 0}, {"cm", "m", 100, 0, 0}, {"cm", "mm", 0.1, 0, 0},
	{"cm", "[in_i]", 2.54, 0, 0}, {"cm", "[ft_i]", 30.48, 0, 0},
	{"/min", "/min", 1, 0, 0}, {"/min", "1/min", 1, 0, 0},
	{"/min", "/h", 1.0 / 60, 0, 0},
	{"1", "1", 1, 0, 0}, {"1", "", 1, 0, 0},
	/* a count per day (ANS steps: 1/(24.h)) is the day's count */
	{"1", "/d", 1, 0, 1440}, {"1", "1/d", 1, 0, 1440},
	{"1", "/(24.h)", 1, 0, 1440}, {"1", "1/(24.h)", 1, 0, 1440},
	{"min", "min", 1, 0, 0}, {"min", "h", 60, 0, 0},
	{"min", "s", 1.0 / 60, 0, 0},
	{"mm[Hg]", "mm[Hg]", 1, 0, 0}, {"mm[Hg]", "kPa", 1000 / 133.322, 0, 0},
	{"Cel", "Cel", 1, 0, 0}, {"Cel", "[degF]", 5.0 / 9, -32 * 5.0 / 9, 0},
	{"Cel", "K", 1, -273.15, 0},
	{"%", "%", 1, 0, 0},
	{"kg/m2", "kg/m2", 1, 0, 0},
	{"mmol/L", "mmol/L", 1, 0, 0},
	{"mmol/L", "mg/dL", 10 / 180.156, 0, 0},
	{"mmol/L", "g/L", 1000 / 180.156, 0, 0},
};

/* u without its annotations: "{beats}/min" -> "/min", "{steps}" -> "". */
static void
strip_annotations(const char *u, char *out, size_t size)
{
	size_t o = 0;
	int depth = 0;

	for (; *u && o + 1 < size; u++) {
		if (*u == '{')
			depth++;
		else if (*u == '}' && depth > 0)
			depth--;
		else if (depth == 0)
			out[o++] = *u;
	}
	out[o] = '\0';
}

bool
terms_convert(const struct vital *k, const char *ucum, double v,
    double *out, const char **accepted, double *period_min)
{
	static char list[200];
	char u[64];
	size_t i, o = 0;

	strip_annotations(ucum, u, sizeof(u));
	list[0] = '\0';
	for (i = 0; i < sizeof(conversions) / sizeof(conversions[0]); i++) {
		if (strcmp(conversions[i].to, k->unit) != 0)
			continue;
		if (strcmp(conversions[i].from, u) == 0) {
			*out = v * conversions[i].factor + conversions[i].offset;
			*period_min = conversions[i].period_min;
			return isfinite(*out);
		}
		if (conversions[i].from[0] != '\0' && o < sizeof(list))
			o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
			    o ? ", " : "", conversions[i].from);
	}
	*accepted = list;
	return false;
}
