/*
 * fuzz_fhir.c: carnet import fhir on any JSON document, with the Blue
 * Button beneficiary enrolled.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <sodium.h>

#include "../../client/csvmap.h"
#include "../../common/id.h"
#include "../../fhir/import.h"
#include "fuzz.h"

static struct enrollment *enr;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[] = "/tmp/carnet-fuzz-enr.XXXXXX", id[ID_STR_LEN + 1];
	uint8_t pk[32] = {9};
	FILE *f;
	int fd;

	(void)argc, (void)argv;
	id_encode(pk, id);
	if ((fd = mkstemp(path)) < 0 || (f = fdopen(fd, "w")) == NULL)
		abort();
	/* the people of the corpus: Blue Button's, Synthea's, the ANS
	 * examples', one by identifier */
	fprintf(f, "customer,carnet_id\n-20140000008325,%s\n"
	    "475d72ca-91c7-7211-97e3-f000af33fc04,%s\nExamplefrPatient001,%s\n"
	    "urn:oid:1.2.250.1.213.1.4.8|2800175123456,%s\n", id, id, id, id);
	fclose(f);
	if (enroll_load(path, &enr, NULL) != 0)
		abort();
	unlink(path);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fhir_import im;
	json_t *doc = json_loadb((const char *)data, size, 0, NULL);
	struct cerr err;

	if (doc == NULL)
		return 0;
	fhir_import_init(&im, enroll_lookup_fn, enr, "USD");
	if (fhir_import_doc(&im, doc, &err) != 0 && im.n != 0)
		abort(); /* a refused document keeps nothing */
	fhir_import_release(&im);
	json_decref(doc);
	return 0;
}
