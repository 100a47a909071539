/*
 * lab.c: carnet-lab, the agent of a medical laboratory: results with their
 * LOINC codes, units and reference ranges.
 */
#include "holder_agent.h"

int
main(int argc, char **argv)
{
	static const char *const types[] = {"lab_result", NULL};
	static const struct holder_kind k = {
		"carnet-lab", "a medical laboratory", types,
		"customer,ref,date,loinc,label,value,unit,ref_low,ref_high",
	};

	return holder_agent_main(&k, argc, argv);
}
