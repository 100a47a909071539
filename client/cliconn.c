/*
 * cliconn.c: a command-line program's connection to the broker
 * (cliconn.h).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "../common/limits.h"
#include "../common/mpk.h"
#include "../common/plainfile.h"
#include "cliconn.h"

bool
cli_conn_opt(struct cli_conn *cc, int c, const char *arg)
{
	switch (c) {
	case 0x100:
		cc->broker = arg;
		return true;
	case 0x101:
		cc->key = arg;
		return true;
	case 0x102:
		cc->broker_id = arg;
		return true;
	case 0x103:
		cc->data = arg;
		return true;
	case 0x104:
		cc->for_id = arg;
		return true;
	}
	return false;
}

int
cli_conn_broker_id(struct cli_conn *cc, uint8_t id[ID_BYTES],
    struct cerr *err)
{
	const char *s = cc->broker_id ? cc->broker_id : getenv("CARNET_BROKER_ID");
	char path[4096], line[128];
	FILE *f;
	size_t n;

	if (s == NULL || cc->data != NULL) {
		snprintf(path, sizeof(path), "%s/broker.pub",
		    cc->data ? cc->data : DEFAULT_DATA);
		if ((f = plainfile_open(path)) == NULL)
			return cerr_set(err, CARNET_E_BAD_ARG,
			    "no broker id: give --broker-id, CARNET_BROKER_ID "
			    "or --data DIR (cannot read %s)", path);
		if (fgets(line, sizeof(line), f) == NULL)
			line[0] = '\0';
		fclose(f);
		n = strlen(line);
		while (n > 0 && isspace((unsigned char)line[n - 1]))
			line[--n] = '\0';
		s = line;
	}
	if (id_decode(s, id) != 0)
		return cerr_set(err, CARNET_E_BAD_ARG,
		    "the broker id '%.60s' is not a carnet id", s);
	return 0;
}

int
cli_open(struct cli_conn *cc, struct cerr *err)
{
	const char *endpoint = cc->broker ? cc->broker : getenv("CARNET_BROKER");
	const char *key = cc->key ? cc->key : getenv("CARNET_KEY");
	uint8_t bid[ID_BYTES];
	int rc;

	if (endpoint == NULL)
		endpoint = DEFAULT_BROKER;
	if (key == NULL)
		return cerr_set(err, CARNET_E_BAD_ARG, "no key: give --key FILE "
		    "or set CARNET_KEY (make one with carnet keygen)");
	if (cc->for_id != NULL) {
		if (id_decode(cc->for_id, cc->who) != 0)
			return cerr_set(err, CARNET_E_BAD_ARG, "--for: '%.60s' "
			    "is not a carnet id", cc->for_id);
		cc->has_for = true;
	}
	if ((rc = cli_conn_broker_id(cc, bid, err)) != 0 ||
	    (rc = key_read(key, &cc->kp, err)) != 0 ||
	    (rc = client_new(endpoint, bid, &cc->kp, &cc->c, err)) != 0)
		return rc;
	if ((rc = client_wait_ready(cc->c, CLIENT_CONNECT_TIMEOUT_MS,
	    err)) != 0) {
		cli_disconnect(cc);
		return rc;
	}
	if (!cc->has_for)
		memcpy(cc->who, cc->kp.pk, ID_BYTES);
	return 0;
}

msgpack_packer *
cli_begin(struct cli_conn *cc, uint32_t nkeys)
{
	msgpack_packer *pk = client_begin(cc->c, nkeys + (cc->has_for ? 1 : 0));

	if (cc->has_for) {
		mpk_pack_cstr(pk, "for");
		mpk_pack_binn(pk, cc->who, ID_BYTES);
	}
	return pk;
}

void
cli_disconnect(struct cli_conn *cc)
{
	client_destroy(&cc->c);
	key_wipe(&cc->kp);
}
