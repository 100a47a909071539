/*
 * pharmacy.c: carnet-pharmacy, the agent of a pharmacy: drugs dispensed.
 */
#include "holder_agent.h"

int
main(int argc, char **argv)
{
	static const char *const types[] = {"dispense", NULL};
	static const struct holder_kind k = {
		"carnet-pharmacy", "a pharmacy", types,
		"customer,ref,date,cip13,drug,quantity,amount_eur,reimbursed_eur",
	};

	return holder_agent_main(&k, argc, argv);
}
