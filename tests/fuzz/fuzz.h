/*
 * fuzz.h: the entry points libFuzzer calls in each harness.
 */
#ifndef CARNET_FUZZ_H
#define CARNET_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#endif
