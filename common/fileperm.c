/*
 * fileperm.c: see fileperm.h.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileperm.h"

/* A user's name, or their uid as text when they have none. */
static const char *
user_name(uid_t uid, char *buf, size_t size)
{
	struct passwd *pw = getpwuid(uid);

	if (pw != NULL && pw->pw_name != NULL && pw->pw_name[0] != '\0')
		snprintf(buf, size, "%s", pw->pw_name);
	else
		snprintf(buf, size, "%lu", (unsigned long)uid);
	return buf;
}

int
fileperm_check(int fd, const char *path, enum fileperm_kind kind,
    struct cerr *err)
{
	char owner[64], me[64];
	struct stat st;
	uid_t euid = geteuid();
	mode_t loose;
	int code = kind == FILEPERM_SECRET ? CARNET_E_KEY_PERMS :
	    CARNET_E_FILE_PERMS;

	if (fstat(fd, &st) != 0)
		return cerr_set(err, CARNET_E_IO, "cannot stat %s: %s", path,
		    strerror(errno));
	if (kind == FILEPERM_DIR ? !S_ISDIR(st.st_mode) :
	    !S_ISREG(st.st_mode))
		return cerr_set(err, CARNET_E_IO, "%s: not a %s", path,
		    kind == FILEPERM_DIR ? "directory" : "regular file");
	if (st.st_uid != euid && st.st_uid != 0)
		return cerr_set(err, code, "bad owner of %s: %s (uid %lu), "
		    "not %s who runs this: run chown %s %s",
		    path, user_name(st.st_uid, owner, sizeof(owner)),
		    (unsigned long)st.st_uid,
		    user_name(euid, me, sizeof(me)), me, path);
	if (kind == FILEPERM_SECRET) {
		if (st.st_mode & (S_IRWXG | S_IRWXO))
			return cerr_set(err, code, "key file %s is open to "
			    "others (mode %04o): run chmod 600 %s", path,
			    (unsigned)(st.st_mode & 07777), path);
		return 0;
	}
	loose = st.st_mode & (S_IWGRP | S_IWOTH);
	if (loose != 0)
		return cerr_set(err, code, "bad permissions on %s: %s may "
		    "write it (mode %04o): run chmod go-w %s", path,
		    loose == S_IWGRP ? "its group" : "others",
		    (unsigned)(st.st_mode & 07777), path);
	return 0;
}
