/*
 * synth.c: carnet-synth, a seeded synthetic panel for experiments.
 *
 * From the carnet ids of N people (one per line, in order) it writes what
 * each holder would export about them, in the holder's own terms: a mutual
 * (claims, profiles), a pharmacy, a lab, with customer ids and one
 * enrollment file per holder (the device maker's too).  Profiles vary
 * (type 2 diabetes, asthma, hypertension, none), and so do ages, care,
 * treatments, results.  Everything follows from --seed.  A few customers
 * of each holder never enrolled: their rows must be skipped.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <getopt.h>
#include <sys/stat.h>

#include "../common/id.h"

#define MAX_PEOPLE 10000
#define OUTSIDERS 5 /* customers of each holder who did not enroll */

static uint64_t rng;

static uint64_t
next(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double
u01(void)
{
	return (double)(next() >> 11) * 0x1.0p-53;
}

static int
pick(int n)
{
	return (int)(u01() * n);
}

enum profile { HEALTHY, DIABETES, ASTHMA, HYPERTENSION };
static const char *const profile_names[] = {"healthy", "diabetes", "asthma",
	"hypertension"};

struct person {
	char id[ID_STR_LEN + 1];
	enum profile prof;
	int birth_year, female;
	const char *name;
	bool pharmacy, lab, device;
};

static const char *const names_f[] = {"Anne", "Brigitte", "Chloe", "Delphine",
	"Emma", "Fatima", "Ines", "Julie", "Lea", "Manon", "Nadia", "Sophie"};
static const char *const names_m[] = {"Bruno", "Cedric", "David", "Eric",
	"Hugo", "Karim", "Louis", "Marc", "Nicolas", "Paul", "Thomas", "Yann"};

struct act {
	const char *code, *label, *practitioner, *kind;
	double amount, reimbursed, mutual;
};

static const struct act acts[] = {
	{"G", "Consultation generaliste", "generaliste", "consultation", 25.00, 16.50, 7.50},
	{"CS", "Consultation specialiste", "specialiste", "consultation", 30.00, 20.00, 9.00},
	{"HBJD001", "Detartrage", "dentiste", "dental", 28.92, 20.24, 8.68},
	{"AMK", "Seance de kinesitherapie", "kinesitherapeute", "other", 16.13, 9.68, 6.45},
	{"B", "Analyses de biologie medicale", "laboratoire", "lab", 18.90, 11.34, 7.56},
	{"OPT", "Verres correcteurs", "opticien", "optical", 250.00, 0.05, 150.00},
};

struct drug {
	const char *cip13, *name, *atc;
	double price, rate;
};

static const struct drug drugs[] = {
	{"3400934862413", "Metformine 1000 mg comprime", "A10BA02", 4.35, 0.65},
	{"3400936578787", "Ventoline 100 ug inhalateur", "R03AC02", 4.56, 0.65},
	{"3400935955855", "Amlodipine 5 mg comprime", "C08CA01", 3.20, 0.65},
	{"3400930145213", "Doliprane 1000 mg comprime", "N02BE01", 2.18, 0.65},
	{"3400933529867", "Amoxicilline 1 g comprime", "J01CA04", 3.00, 0.65},
	{"3400936403522", "Atorvastatine 20 mg comprime", "C10AA05", 5.40, 0.65},
};

struct test {
	const char *loinc, *label, *unit;
	double low, high, mean, sd;
};

static const struct test tests[] = {
	{"4548-4", "Hemoglobine glyquee (HbA1c)", "%", 4.0, 6.0, 5.3, 0.3},
	{"1558-6", "Glycemie a jeun", "mmol/L", 3.9, 5.5, 4.9, 0.4},
	{"2093-3", "Cholesterol total", "mmol/L", 0, 5.2, 5.0, 0.8},
	{"2160-0", "Creatinine", "umol/L", 45, 104, 78, 12},
};

static FILE *
out_file(const char *dir, const char *name, const char *header)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL) {
		fprintf(stderr, "carnet-synth: cannot write %s\n", path);
		exit(1);
	}
	fprintf(f, "%s\n", header);
	return f;
}

static void
date(char out[11], int y, int day)
{
	int64_t t;
	char iso[TIME_STR_LEN + 1], base[12];

	snprintf(base, sizeof(base), "%04d-01-01", y);
	if (time_parse(base, &t) != 0)
		t = 0;
	time_format(t + (int64_t)day * 86400, iso);
	memcpy(out, iso, 10);
	out[10] = '\0';
}

static void
claims(FILE *f, const char *cust, const struct person *p, int year, int *nref)
{
	int visits = 3 + pick(5) + (p->prof != HEALTHY ? 4 : 0), i;
	char d[11];

	for (i = 0; i < visits; i++) {
		const struct act *a = &acts[i % 3 == 2 && p->prof != HEALTHY ? 1 :
		    u01() < 0.6 ? 0 : pick(6)];

		date(d, year, pick(365));
		fprintf(f, "%s,%s-c%d,%s,%s,%s,%.2f,%.2f,%.2f,%s,%s\n", cust,
		    cust, (*nref)++, d, a->code, a->label, a->amount,
		    a->reimbursed, a->mutual, a->practitioner, a->kind);
	}
}

static const char *
allergies(void)
{
	static const char *const a[] = {"", "", "", "penicilline", "pollen",
		"arachide", "penicilline|pollen"};

	return a[pick(7)];
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"ids", required_argument, NULL, 'i'},
		{"seed", required_argument, NULL, 's'},
		{"out", required_argument, NULL, 'o'},
		{"year", required_argument, NULL, 'y'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static struct person people[MAX_PEOPLE];
	const char *ids = NULL, *out = NULL;
	FILE *in, *fpeople, *fclaim, *fprof, *fpharm, *flab, *enr[4];
	static const char *const enr_names[4] = {"mutual_enrollment.csv",
		"pharmacy_enrollment.csv", "lab_enrollment.csv",
		"device_enrollment.csv"};
	static const char *const prefixes[4] = {"MGEN", "PH", "LAB", "DEV"};
	char line[256], cust[32], d[11];
	int n = 0, year = 2017, i, k, m, ref = 0;
	uint64_t seed = 1;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'i': ids = optarg; break;
		case 's': seed = strtoull(optarg, NULL, 10); break;
		case 'o': out = optarg; break;
		case 'y': year = atoi(optarg); break;
		case 'h':
		default:
			fputs("usage: carnet-synth --ids FILE --out DIR [--seed N] "
			    "[--year YYYY]\n\nWrite a seeded synthetic panel: "
			    "people.csv, the exports of a mutual (mutual_claims.csv,\n"
			    "mutual_profiles.csv), a pharmacy (pharmacy.csv), a lab "
			    "(lab.csv), and the\nenrollment file of each holder, "
			    "device maker included.  FILE holds one\ncarnet id per "
			    "line.\n", c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : 2;
		}
	}
	if (ids == NULL || out == NULL || (in = fopen(ids, "r")) == NULL) {
		fprintf(stderr, "carnet-synth: want --ids FILE and --out DIR\n");
		return 2;
	}
	if (mkdir(out, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "carnet-synth: cannot create %s: %s\n", out,
		    strerror(errno));
		return 1;
	}
	rng = seed * 0x2545f4914f6cdd1dULL + 7;
	while (n < MAX_PEOPLE && fgets(line, sizeof(line), in) != NULL) {
		uint8_t pk[ID_BYTES];
		struct person *p = &people[n];

		line[strcspn(line, "\r\n ")] = '\0';
		if (line[0] == '\0')
			continue;
		if (id_decode(line, pk) != 0) {
			fprintf(stderr, "carnet-synth: %s: not a carnet id\n",
			    line);
			return 1;
		}
		strcpy(p->id, line);
		p->prof = u01() < 0.45 ? HEALTHY : (enum profile)(1 + pick(3));
		p->female = pick(2);
		p->birth_year = 1940 + pick(60);
		p->name = p->female ? names_f[pick(12)] : names_m[pick(12)];
		p->pharmacy = u01() < 0.85;
		p->lab = p->prof != HEALTHY || u01() < 0.5;
		p->device = p->prof != HEALTHY || u01() < 0.4;
		n++;
	}
	fclose(in);
	fpeople = out_file(out, "people.csv",
	    "index,carnet_id,name,sex,birth_year,profile,pharmacy,lab,device");
	fclaim = out_file(out, "mutual_claims.csv", "customer,ref,date,act_code,"
	    "label,amount_eur,reimbursed_eur,mutual_eur,practitioner,care_kind");
	fprof = out_file(out, "mutual_profiles.csv", "customer,ref,date,"
	    "birth_year,sex,blood_group,allergies,conditions,treatments,"
	    "emergency_contact,name");
	fpharm = out_file(out, "pharmacy.csv", "customer,ref,date,cip13,drug,"
	    "quantity,amount_eur,reimbursed_eur,atc");
	flab = out_file(out, "lab.csv", "customer,ref,date,loinc,label,value,"
	    "unit,ref_low,ref_high");
	for (k = 0; k < 4; k++)
		enr[k] = out_file(out, enr_names[k], "customer,carnet_id");
	/* The panel, then a few customers who never enrolled. */
	for (i = 0; i < n + OUTSIDERS; i++) {
		struct person outsider, *p = i < n ? &people[i] : &outsider;
		bool enrolled = i < n;
		static const char *const groups[] = {"O+", "A+", "B+", "AB+",
			"O-", "A-"};

		if (!enrolled) {
			memset(&outsider, 0, sizeof(outsider));
			outsider.prof = (enum profile)pick(4);
			outsider.birth_year = 1950 + pick(40);
			outsider.pharmacy = outsider.lab = true;
		} else {
			fprintf(fpeople, "%d,%s,%s,%s,%d,%s,%d,%d,%d\n", i, p->id,
			    p->name, p->female ? "female" : "male", p->birth_year,
			    profile_names[p->prof], p->pharmacy, p->lab,
			    p->device);
			for (k = 0; k < 4; k++)
				if (k == 0 || (k == 1 && p->pharmacy) ||
				    (k == 2 && p->lab) || (k == 3 && p->device))
					fprintf(enr[k], "%s-%06d,%s\n",
					    prefixes[k], 1000 + i * 7, p->id);
		}
		snprintf(cust, sizeof(cust), "MGEN-%06d", 1000 + i * 7);
		claims(fclaim, cust, p, year, &ref);
		date(d, year, pick(30));
		fprintf(fprof, "%s,%s-p,%s,%d,%s,%s,%s,%s,%s,\"%s +33 6 %02d %02d "
		    "%02d %02d\",%s\n", cust, cust, d, p->birth_year,
		    p->female ? "female" : "male", groups[pick(6)], allergies(),
		    p->prof == DIABETES ? "diabete de type 2" :
		    p->prof == ASTHMA ? "asthme" : p->prof == HYPERTENSION ?
		    "hypertension arterielle" : "",
		    p->prof == HEALTHY ? "" : drugs[p->prof - 1].name,
		    p->female ? "Paul (conjoint)" : "Marie (conjointe)", pick(100),
		    pick(100), pick(100), pick(100), p->name ? p->name : "");
		if (p->pharmacy) {
			snprintf(cust, sizeof(cust), "PH-%06d", 1000 + i * 7);
			for (m = 0; m < 12; m++) {
				const struct drug *dr = p->prof != HEALTHY ?
				    &drugs[p->prof - 1] : NULL;

				if (dr == NULL && u01() > 0.25)
					continue;
				if (dr == NULL || u01() < 0.15)
					dr = &drugs[3 + pick(3)];
				date(d, year, m * 30 + pick(28));
				fprintf(fpharm, "%s,%s-d%d,%s,%s,%s,%d,%.2f,%.2f,%s\n",
				    cust, cust, ref++, d, dr->cip13, dr->name,
				    1 + (m % 3 == 0), dr->price, dr->price * dr->rate,
				    dr->atc);
			}
		}
		if (p->lab) {
			snprintf(cust, sizeof(cust), "LAB-%06d", 1000 + i * 7);
			for (m = 0; m < 12; m += p->prof == DIABETES ? 3 : 6) {
				for (k = 0; k < 4; k++) {
					const struct test *t = &tests[k];
					double v = t->mean + t->sd * (u01() * 2 - 1) *
					    1.7;

					if (k == 0 && p->prof == DIABETES)
						v = 7.6 - 0.2 * m / 3 +
						    0.3 * (u01() * 2 - 1);
					if (k == 1 && p->prof == DIABETES)
						v = 7.0 + u01();
					if (k == 2 && p->prof == HYPERTENSION)
						v += 0.8;
					date(d, year, m * 30 + 10 + pick(10));
					fprintf(flab, "%s,%s-l%d,%s,%s,%s,%.1f,%s,"
					    "%g,%g\n", cust, cust, ref++, d, t->loinc,
					    t->label, v, t->unit, t->low, t->high);
				}
			}
		}
	}
	fclose(fpeople);
	fclose(fclaim);
	fclose(fprof);
	fclose(fpharm);
	fclose(flab);
	for (k = 0; k < 4; k++)
		fclose(enr[k]);
	printf("carnet-synth: %d people (+%d customers who did not enroll), "
	    "seed %llu, in %s\n", n, OUTSIDERS, (unsigned long long)seed, out);
	return 0;
}
