/*
 * holder_agent.h: the body of the CSV holder agents (insurer, pharmacy,
 * lab): read the holder's export, keep the rows of enrolled people, push
 * them in durable batches.
 */
#ifndef CARNET_HOLDER_AGENT_H
#define CARNET_HOLDER_AGENT_H

#include <stddef.h>

struct holder_kind {
	const char *prog;         /* carnet-insurer */
	const char *who;          /* "an insurer or a mutual" */
	const char *const *types; /* types it may push, the first by default */
	const char *example;      /* a header line of its export */
};

int holder_agent_main(const struct holder_kind *k, int argc, char **argv);

#endif
