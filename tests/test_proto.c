/*
 * test_proto.c: the one command table (common/proto.h): every command has
 * a name that parses back to it, roles, a delegation only where a person
 * sends it, and flags that agree with one another.  This test links the broker's dispatcher, whose table
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

/* The set of commands carrying flag, as a mask of (1 << command). */
static uint64_t
with_flag(unsigned flag)
{
	uint64_t m = 0;
	int c;

	for (c = CMD__NONE + 1; c < CMD__LAST; c++)
		if (proto_cmd_flags((enum carnet_cmd)c) & flag)
			m |= UINT64_C(1) << c;
	return m;
}

#define BIT(c) (UINT64_C(1) << (c))

static void
test_the_flags_agree(void **state)
{
	unsigned f;
	int c;

	(void)state;
	assert_true(CMD__LAST <= 64);
	for (c = CMD__NONE + 1; c < CMD__LAST; c++) {
		f = proto_cmd_flags((enum carnet_cmd)c);
		/* taken while replies wait unread: it must queue none */
		if (f & C_BUSY_OK)
			assert_true(f & C_NO_REPLY);
		/* a head rides on a reply, to a person */
		if (f & C_HEAD) {
			assert_false(f & C_NO_REPLY);
			assert_true(proto_cmd_roles((enum carnet_cmd)c) &
			    R_USER);
		}
		/* every reply to a person holds their signed head */
		if (proto_cmd_roles((enum carnet_cmd)c) & R_USER)
			assert_true(f & C_HEAD);
	}
	assert_int_equal(proto_cmd_flags(CMD__NONE), C_NONE);
	assert_int_equal(proto_cmd_flags(CMD__LAST), C_NONE);
	/* a person's way out: ahead of the turn, and in the reserve */
	assert_true(with_flag(C_AHEAD) == (BIT(CMD_REVOKE) | BIT(CMD_PAUSE) |
	    BIT(CMD_ERASE) | BIT(CMD_UNDELEGATE)));
	assert_true(with_flag(C_RESERVE) == with_flag(C_AHEAD));
	/* what an app sends about its feed */
	assert_true(with_flag(C_BUSY_OK) == (BIT(CMD_ACK) | BIT(CMD_CREDIT) |
	    BIT(CMD_UNSUB)));
	assert_true(with_flag(C_NO_REPLY) == with_flag(C_BUSY_OK));
	/* LOG's page is signed like every other reply to a person */
	assert_true(with_flag(C_HEAD) & BIT(CMD_LOG));
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
		cmocka_unit_test(test_the_flags_agree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
