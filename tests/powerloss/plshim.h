/*
 * plshim.h: the undo log the power-loss shim writes and pl-undo reads
 * (tests/powerloss/).  Host byte order: both run on the same machine.
 */
#ifndef CARNET_PLSHIM_H
#define CARNET_PLSHIM_H

#include <stdbool.h>
#include <stdint.h>

#define PL_MAGIC 0x706c7531u /* "plu1" */

enum {
	PL_WRITE = 1, /* bytes [off, off + len) held old; the size was size */
	PL_SYNC = 2,  /* everything before this is durable in path */
};

struct plrec {
	uint32_t magic;
	uint8_t kind;
	uint8_t pad[3];
	uint32_t pathlen; /* then the path, not terminated */
	uint32_t pad2;
	uint64_t off;
	uint64_t len; /* then len old bytes */
	uint64_t size;
};

#endif
