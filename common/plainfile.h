/*
 * plainfile.h: opening a small file the program reads itself (a head, a
 * broker id): never blocks on a FIFO or a device someone put in its
 * place, never follows a trick into anything but a regular file.
 */
#ifndef CARNET_PLAINFILE_H
#define CARNET_PLAINFILE_H

#include <stdio.h>

/* path for reading if it is a regular file; NULL with errno set
 * otherwise (EINVAL: not a regular file). */
FILE *plainfile_open(const char *path);

#endif
