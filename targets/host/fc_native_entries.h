/*
 * fc_native_entries.h - the table a build generates for one translated
 * container (entries.c), read by run_native.c. See README.md.
 */
#ifndef FC_NATIVE_ENTRIES_H
#define FC_NATIVE_ENTRIES_H

#include "fc_runtime.h"

/* Every function-table entry of the container: its name and fc_<container>_<name>. */
extern const fc_native_fn fc_native_entries[];
/* How many entries fc_native_entries holds. */
extern const size_t fc_native_count;
/* &fc_<container>_abi_version: the ABI version the object was translated for. */
extern const uint32_t *const fc_native_abi_version;

#endif /* FC_NATIVE_ENTRIES_H */
