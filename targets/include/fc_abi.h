/*
 * fc_abi.h - the one native ABI of translated Femto-Containers.
 *
 * Code that fc-aot translates from a verified container, whether Cranelift or a C
 * compiler produced it, is called the same way: an environment (the address map,
 * helper dispatch, branch budget, stack and error slots) and r1, r2; it returns r0.
 * The Rust runtime mirrors this layout in runtime/src/native.rs (a test holds the
 * two equal) and checks FC_ABI_VERSION before it runs translated code.
 */
#ifndef FC_ABI_H
#define FC_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FC_ABI_VERSION 2u

/* env->flags: the budget is off. Translated code refills the countdown whenever it
 * reaches 0 instead of stopping, and helpers are not charged (docs/budget.md). */
#define FC_FLAG_BUDGET_OFF 1u

/* Error codes (spec section 2, identical to the runtime's ErrorCode): env->error
 * of translated code, and the results of fc_runtime.h and fc_support.h. */
#define FC_OK 0
#define FC_ILLEGAL_INSTRUCTION (-1)
#define FC_ILLEGAL_MEM (-2)
#define FC_ILLEGAL_JUMP (-3)
#define FC_ILLEGAL_CALL (-4)
#define FC_ILLEGAL_LEN (-5)
#define FC_ILLEGAL_REGISTER (-6)
#define FC_NO_RETURN (-7)
#define FC_OUT_OF_BRANCHES (-8)
#define FC_ILLEGAL_DIV (-9)
#define FC_NO_MEMORY (-100)

/* Default stack size per call frame in bytes (Sming's defaultStackSize). */
#define FC_DEFAULT_STACK_SIZE 512

/* Helper-id profiles (spec section 3). */
#define FC_PROFILE_SMING 0       /* Sming's ids (default) */
#define FC_PROFILE_RIOT 1        /* RIOT's ids: stores numbered the other way round */
#define FC_PROFILE_CONFORMANCE 2 /* conformance tests only: helper 5 is unwind */

/* Address map: bits 28-31 of a container address pick one of 16 slots. */
#define FC_SLOT_SHIFT 28
#define FC_SLOTS 16
#define FC_SLOT_RODATA 1
#define FC_SLOT_DATA 2
#define FC_SLOT_STACK 3
#define FC_SLOT_CONTEXT 4

/* One region: host base, length (0: not mapped), whether containers may write it. */
typedef struct fc_region {
    uint8_t *base;
    uint32_t len;
    uint32_t writable;
} fc_region;

typedef struct fc_env fc_env;

/* Helper dispatch: helper `id` with r1..r5; returns r0. A helper that ends the
 * program (unwind) sets env->stop. Unless FC_FLAG_BUDGET_OFF is set, the dispatch first
 * charges the helper's work against env->budget (docs/budget.md: one unit per started
 * 4 KiB past the first 4 KiB it moves or prints); when the budget cannot pay, it sets
 * env->error = FC_OUT_OF_BRANCHES and env->stop, does not run the helper, and
 * translated code records the call's slot in env->error_pc. Translated code stores its
 * countdown to env->budget before every helper call and reloads it after. */
typedef uint64_t (*fc_env_helper_fn)(fc_env *env, uint32_t id, uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
                                 uint64_t r5);

struct fc_env {
    fc_region regions[FC_SLOTS];
    fc_env_helper_fn helper;
    void *host;            /* the host's state for `helper` */
    uint64_t budget;       /* budget units left (taken jumps, helper work); UINT64_MAX with FC_FLAG_BUDGET_OFF */
    uint64_t frame_size;   /* bytes per call level */
    uint64_t stack_top;    /* r10 of the entry function: 0x30000000 + frame_size * (depth + 1) */
    int32_t error;         /* out: error code, 0 when none (FC_ILLEGAL_MEM, FC_OUT_OF_BRANCHES, ...) */
    uint32_t error_pc;     /* out: instruction slot index of the fault */
    uint32_t stop;         /* set by a helper: end now with r0 = its return value */
    uint32_t flags;        /* in: FC_FLAG_BUDGET_OFF; other bits 0 (version 1: reserved) */
};

/* Every translated container exports, for each function-table entry NAME:
 *     uint64_t fc_<container>_<NAME>(fc_env *env, uint64_t r1, uint64_t r2);
 *     const uint32_t fc_<container>_<NAME>_depth;     (nested local calls: reserve depth + 1 frames)
 * and once:
 *     const uint32_t fc_<container>_abi_version;      (== FC_ABI_VERSION)
 *     const uint8_t fc_<container>_rodata[], fc_<container>_data[];   (initial contents)
 *     const uint32_t fc_<container>_rodata_len, fc_<container>_data_len, fc_<container>_bss_len;
 * <container> and <NAME> are the names as symbol parts (docs/native-abi.md): a plain
 * identifier (ASCII letters and digits, single '_' between) stays as it is unless it
 * would collide with another symbol (a NAME "rodata" or ending in "_depth", a name of
 * these headers); any other name becomes '_' followed by its bytes, letters and digits
 * as themselves and every other byte as '_' and two uppercase hex digits ("a-b" is
 * "_a_2Db"). Inside one container no two symbols are equal. */
typedef uint64_t (*fc_entry_fn)(fc_env *env, uint64_t r1, uint64_t r2);

#ifdef __cplusplus
}
#endif

#endif
