/*
 * fileperm.h: files and directories carnet trusts (the data directory, its
 * store, key files) must be its own: owned by the user it runs as, or by
 * root, and not writable by group or others; key files not readable by them
 * either.  The check is on a descriptor already open (fstat), never on a
 * path looked at before opening it: what is checked is what is used.
 *
 * As sshd's StrictModes: root is refused a file another user owns, since
 * that user could rewrite it under root's feet.
 */
#ifndef CARNET_FILEPERM_H
#define CARNET_FILEPERM_H

#include "error.h"

enum fileperm_kind {
	FILEPERM_DIR,    /* a directory: nobody else may add or replace files */
	FILEPERM_FILE,   /* a regular file nobody else may write */
	FILEPERM_SECRET, /* a regular file nobody else may read or write */
};

/*
 * 0 if fd, opened from path, is of that kind and safe; else
 * CARNET_E_KEY_PERMS (FILEPERM_SECRET) or CARNET_E_FILE_PERMS (the
 * others), with a message naming path, its mode or owner and the chmod or
 * chown that fixes it; CARNET_E_IO if fd is of another type or fstat fails.
 * path is only used in messages.
 */
int fileperm_check(int fd, const char *path, enum fileperm_kind kind,
    struct cerr *err) __attribute__((warn_unused_result));

#endif
