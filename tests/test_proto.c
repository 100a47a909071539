/*
 * test_proto.c: the one command table (common/proto.h): every command has
 * a name that parses back to it, roles, and a delegation only where a
 * person sends it.  This test links the broker's dispatcher, whose table
 * of handlers is generated from the command table: a command without a
 * handler makes it fail to link.
 */
#include "testutil.h"

#include "../broker/broker.h"
#include "../common/proto.h"

static void
test_the_table_is_whole(void **state)
{
	const char *name;
	int c;

	(void)state;
	assert_true(CMD__LAST - CMD__NONE - 1 >= 29);
	for (c = CMD__NONE + 1; c < CMD__LAST; c++) {
		name = proto_cmd_name((enum carnet_cmd)c);
		assert_int_equal(proto_cmd_parse(name, strlen(name)), c);
		assert_true(proto_cmd_roles((enum carnet_cmd)c) != 0);
		/* a delegate acts for a person: only people's commands */
		if (proto_cmd_deleg((enum carnet_cmd)c) != D_NONE)
			assert_int_equal(proto_cmd_roles((enum carnet_cmd)c),
			    R_USER);
	}
	assert_int_equal(proto_cmd_parse("NOPE", 4), CMD__NONE);
	assert_int_equal(proto_cmd_parse("HELL", 4), CMD__NONE);
	assert_string_equal(proto_cmd_name(CMD__LAST), "?");
	/* a delegate may read with view, change with manage, never erase */
	assert_int_equal(proto_cmd_deleg(CMD_LOG), D_VIEW);
	assert_int_equal(proto_cmd_deleg(CMD_REVOKE), D_MANAGE);
	assert_int_equal(proto_cmd_deleg(CMD_ERASE), D_NONE);
	assert_int_equal(proto_cmd_deleg(CMD_EXPORT), D_NONE);
	assert_int_equal(proto_cmd_deleg(CMD_DELEGATE), D_NONE);
}

/* Not called: it makes this test link the dispatcher, and so need every
 * handler the command table names. */
void (*const test_proto_links)(struct req *, struct cerr *, int *) =
    dispatch_request;

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_table_is_whole),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
