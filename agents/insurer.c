/*
 * insurer.c: carnet-insurer, the agent of an insurer or a mutual (MGEN in
 * the 2017 experiment): reimbursed care, and the profile it knows.
 */
#include "holder_agent.h"

int
main(int argc, char **argv)
{
	static const char *const types[] = {"claim", "profile", NULL};
	static const struct holder_kind k = {
		"carnet-insurer", "an insurer or a mutual", types,
		"customer,ref,date,act_code,label,amount_eur,reimbursed_eur,"
		"mutual_eur,practitioner",
	};

	return holder_agent_main(&k, argc, argv);
}
