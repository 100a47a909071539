/*
 * report.h: the figures of a run, printed as a table as they come and
 * written as RESULTS.md and results.json at the end (report.c).
 */
#ifndef CARNET_BENCH_REPORT_H
#define CARNET_BENCH_REPORT_H

#include <stdbool.h>
#include <stddef.h>

/* Start a section (a table in RESULTS.md). */
void report_section(const char *key, const char *title, const char *about);
/*
 * One figure: key (for results.json), its label, value and unit, and a
 * note (the ratio to the baseline, a goal met or not).  NAN: not run.
 */
void report_fig(const char *key, const char *label, double value,
    const char *unit, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* A goal, reported as met or missed in its own list. */
void report_goal(const char *what, bool met, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The first line cmd prints (its newline cut) in out, or "unknown". */
void report_command_line(const char *cmd, char *out, size_t len);
/* Write DIR/RESULTS.md and DIR/results.json; commands is how it was run. */
int report_write(const char *dir, bool quick, const char *commands,
    double ratio_vs_raw);

#endif
