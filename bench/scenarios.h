/*
 * scenarios.h: the benchmark's sections (scenarios.c).
 */
#ifndef CARNET_BENCH_SCENARIOS_H
#define CARNET_BENCH_SCENARIOS_H

#include <stdbool.h>

struct bench_opts {
	bool quick;
	const char *out, *carnetd, *only;
};

/* Run every section asked for, report, write the files; exit status. */
int bench_all(const struct bench_opts *o);
/* fhir.c */
void section_fhir(bool quick);

#endif
