/*
 * api_test.c - unit tests of the C support code's API (tests/c_support.rs builds
 * it with fc_support.c and -DFC_SUPPORT_LINE_MAX=8 -DFC_SUPPORT_APP_HELPERS=2).
 *
 * The container here is written by hand against fc_abi.h, so the tests see what
 * translated code sees: the regions, r1/r2, the stack top, the helper dispatch.
 * Prints `ok` and exits 0, or names the first failed check and exits 1.
 */
#include <stdio.h>
#include <string.h>

#include "fc_support.h"

static int failures;

#define CHECK(cond)                                                                \
    do {                                                                           \
        if (!(cond)) {                                                             \
            printf("%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);        \
            failures++;                                                            \
        }                                                                          \
    } while (0)

/* ---- the hand-written container ------------------------------------------- */

static const uint32_t abi_version = FC_ABI_VERSION, wrong_abi = FC_ABI_VERSION + 1;
static const uint8_t rodata[] = "0123456789abcdefghij\n\0%s|\0tail";
static const uint32_t rodata_len = sizeof rodata; /* ends in a NUL */
static const uint8_t data_init[] = {1, 2, 3};
static const uint32_t data_len = sizeof data_init, bss_len = 5;
static const uint32_t depth0 = 0, depth2 = 2;

static fc_support_vm *current;
static fc_env seen;
static uint64_t seen_r1, seen_r2;
static int inner_run, inner_load;

/* Records what the run gave it; writes into data and the stack. */
static uint64_t look(fc_env *env, uint64_t r1, uint64_t r2) {
    seen = *env;
    seen_r1 = r1;
    seen_r2 = r2;
    uint8_t *d = fc_support_translate(env, 0x20000000, 8, true);
    if (d) d[0]++;
    uint8_t *s = fc_support_translate(env, env->stack_top - 8, 8, true);
    if (s) {
        uint8_t old = s[0];
        s[0] = 0xee;
        return old; /* 0: the stack is zeroed per run */
    }
    return 1000;
}

/* Prints through the dispatch: a 21-byte line, then "tail|" without a newline. */
static uint64_t print(fc_env *env, uint64_t r1, uint64_t r2) {
    (void)r1, (void)r2;
    uint64_t a = env->helper(env, 0x01, 0x10000000, 0, 0, 0, 0);
    uint64_t b = env->helper(env, 0x01, 0x10000000 + 22, 0x10000000 + 26, 0, 0, 0);
    return a << 32 | b;
}

/* An application helper that tries to re-enter the VM. */
static uint64_t reenter(void *user, fc_env *env, const uint64_t args[5]) {
    (void)user, (void)env, (void)args;
    uint64_t r0 = 0;
    inner_run = fc_support_run(current, NULL, 0, &r0);
    CHECK(r0 == (uint64_t)(int64_t)FC_ILLEGAL_CALL);
    inner_load = fc_support_load(current, NULL, NULL, 0, NULL, 0, 8);
    fc_support_unload(current); /* does nothing inside a run */
    return 77;
}

/* Calls the helper whose id is the context's first word, with r1..r5 = 1..5; r0 + 1000
 * unless the helper stopped the program. */
static uint64_t call_helper(fc_env *env, uint64_t r1, uint64_t r2) {
    (void)r2;
    const uint8_t *p = fc_support_translate(env, r1, 4, false);
    if (!p) return 0;
    uint32_t id = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    uint64_t r0 = env->helper(env, id, 1, 2, 3, 4, 5);
    if (env->stop) return r0;
    return r0 + 1000;
}

static uint64_t bad_error(fc_env *env, uint64_t r1, uint64_t r2) {
    (void)r1, (void)r2;
    env->error = -42;
    env->error_pc = 9;
    return 0;
}

static const fc_support_function functions[] = {
    {"look", look, &depth2},
    {"print", print, &depth0},
    {"call_helper", call_helper, &depth0},
    {"bad_error", bad_error, &depth0},
};
static const fc_support_container container = {
    &abi_version, functions, 4, rodata, &rodata_len, data_init, &data_len, &bss_len,
};
static const fc_support_container wrong_container = {
    &wrong_abi, functions, 4, rodata, &rodata_len, data_init, &data_len, &bss_len,
};

/* ---- output sink ---------------------------------------------------------- */

static char got[512];
static size_t got_len, pieces;

static void sink(void *user, const char *text, size_t len) {
    (void)user;
    memcpy(got + got_len, text, len);
    got_len += len;
    got[got_len++] = '#'; /* marks where a delivery ended */
    pieces++;
}

/* ---- tests ---------------------------------------------------------------- */

static int locks;

static void count_lock(void *user) {
    (void)user;
    locks++;
}

/* stores.rs `one_pool_for_all_stores`, step by step. */
static void stores_test(void) {
    fc_support_stores s;
    fc_support_stores_init(&s);
    fc_store_owner global = FC_STORE_GLOBAL, local = fc_support_stores_new_local(&s);
    CHECK(local == 0 && fc_support_stores_new_local(&s) == 1);
    CHECK(fc_support_store_capacity() == FC_STORE_NUM_VALUES);
    CHECK(fc_support_store_update(&s, global, 1, 10));
    CHECK(fc_support_store_update(&s, local, 1, 20));
    CHECK(fc_support_store_get(&s, global, 1) == 10 && fc_support_store_get(&s, local, 1) == 20);
    uint32_t v = 99;
    CHECK(fc_support_store_fetch(&s, local, 7, &v) && v == 0);
    for (uint32_t k = 100; k < 100 + FC_STORE_NUM_VALUES; k++) fc_support_store_update(&s, global, k, k);
    CHECK(fc_support_stores_free(&s) == 0);
    CHECK(!fc_support_store_update(&s, global, 5000, 1));
    v = 99;
    CHECK(!fc_support_store_fetch(&s, local, 5001, &v) && v == 99);
    CHECK(fc_support_store_get(&s, local, 5002) == 0);
    CHECK(fc_support_store_update(&s, global, 1, 11));
    fc_support_store_release(&s, local);
    CHECK(fc_support_stores_free(&s) == 2);
    uint32_t keys[4], values[4];
    CHECK(fc_support_store_entries(&s, global, keys, values, 2) == (size_t)FC_STORE_NUM_VALUES - 2);
    CHECK(keys[0] == 1 && values[0] == 11 && keys[1] == 100 && values[1] == 100);
    /* keys ascending whatever the pool order */
    fc_support_stores_init(&s);
    fc_support_store_update(&s, local, 9, 1);
    fc_support_store_update(&s, local, 3, 2);
    fc_support_store_update(&s, local, 5, 3);
    CHECK(fc_support_store_entries(&s, local, keys, values, 4) == 3);
    CHECK(keys[0] == 3 && keys[1] == 5 && keys[2] == 9 && values[0] == 2 && values[2] == 1);
    CHECK(fc_support_store_entries(&s, local, NULL, NULL, 0) == 3);
    CHECK(!fc_support_stores_set_lock(&s, count_lock, NULL, NULL));
    CHECK(fc_support_stores_set_lock(&s, count_lock, count_lock, &s));
    locks = 0;
    CHECK(fc_support_store_get(&s, local, 77) == 0 && locks == 4); /* find, then insert: two pool accesses */
    CHECK(fc_support_store_get(&s, local, 77) == 0 && locks == 6);
    CHECK(fc_support_stores_set_lock(&s, NULL, NULL, NULL));
    CHECK(fc_support_store_get(&s, local, 77) == 0 && locks == 6);
}

/* memory.rs `the_map_checks_every_byte` and `strings_end_inside_their_region`. */
static void map_test(void) {
    static uint8_t ro[4] = {1, 2, 3, 4}, stack[16], str[5] = {'h', 'i', 0, 'a', 'b'};
    fc_env env;
    memset(&env, 0, sizeof env);
    env.regions[1] = (fc_region){ro, 4, 0};
    env.regions[3] = (fc_region){stack, 16, 1};
    env.regions[5] = (fc_region){str, 5, 0};
    CHECK(fc_support_translate(&env, 0x10000000, 4, false) == ro);
    CHECK(fc_support_translate(&env, 0x10000001, 4, false) == NULL);
    CHECK(fc_support_translate(&env, 0x10000000, 1, true) == NULL);
    CHECK(fc_support_translate(&env, 0x30000008, 8, true) == stack + 8);
    CHECK(fc_support_translate(&env, 0x3000000f, 1, false) == stack + 15);
    CHECK(fc_support_translate(&env, 0x30000010, 1, false) == NULL);
    CHECK(fc_support_translate(&env, 0x130000000ull, 1, false) == NULL);
    CHECK(fc_support_translate(&env, 0, 1, false) == NULL);
    CHECK(fc_support_translate(&env, 0x20000000, 1, false) == NULL);
    CHECK(fc_support_translate(&env, 0x30000000, 0, false) != NULL);
    CHECK(fc_support_translate(&env, 0x30000010, 0, false) != NULL);
    CHECK(fc_support_translate(&env, 0x30000011, 0, false) == NULL);
    CHECK(fc_support_translate(&env, 0x40000000, 0, false) == NULL);
    CHECK(fc_support_translate(&env, 0x30000001, SIZE_MAX, false) == NULL);
    size_t n = 9;
    CHECK(fc_support_string(&env, 0x50000000, &n) == (const char *)str && n == 2);
    CHECK(fc_support_string(&env, 0x50000003, &n) == NULL);
    CHECK(fc_support_string(&env, 0x50000005, &n) == NULL);
    CHECK(fc_support_string(&env, 0x50000006, &n) == NULL);
    CHECK(fc_support_string(&env, 0x150000000ull, &n) == NULL);
}

static void vm_test(void) {
    static fc_support_stores stores;
    static fc_support_vm vm;
    static uint8_t ram[16], stack[3 * 64];
    fc_support_stores_init(&stores);
    fc_support_vm_init(&vm, &stores);
    current = &vm;
    uint64_t r0 = 0;

    /* Nothing loaded. */
    CHECK(!fc_support_is_loaded(&vm));
    CHECK(fc_support_run(&vm, NULL, 0, &r0) == FC_NO_MEMORY && r0 == (uint64_t)(int64_t)FC_NO_MEMORY);
    CHECK(fc_support_last_error(&vm) == FC_NO_MEMORY);

    /* Load errors. */
    CHECK(fc_support_ram_size(&container) == 8);
    CHECK(fc_support_stack_size(&container, 64) == 3 * 64);
    CHECK(fc_support_load(&vm, &wrong_container, ram, sizeof ram, stack, sizeof stack, 64) == FC_ILLEGAL_INSTRUCTION);
    CHECK(fc_support_load(&vm, &container, ram, sizeof ram, stack, sizeof stack, 0) == FC_ILLEGAL_LEN);
    CHECK(fc_support_load(&vm, &container, ram, sizeof ram, stack, sizeof stack, 12) == FC_ILLEGAL_LEN);
    CHECK(fc_support_load(&vm, &container, ram, 7, stack, sizeof stack, 64) == FC_NO_MEMORY);
    CHECK(fc_support_load(&vm, &container, NULL, 8, stack, sizeof stack, 64) == FC_NO_MEMORY);
    CHECK(fc_support_load(&vm, &container, ram, sizeof ram, stack, sizeof stack - 1, 64) == FC_NO_MEMORY);
    CHECK(fc_support_last_error(&vm) == FC_NO_MEMORY && !fc_support_is_loaded(&vm));

    /* A load: data copied, bss zeroed. */
    memset(ram, 0x55, sizeof ram);
    CHECK(fc_support_load(&vm, &container, ram, sizeof ram, stack, sizeof stack, 64) == FC_OK);
    size_t len = 0;
    const uint8_t *d = fc_support_data(&vm, &len);
    CHECK(d == ram && len == 8 && d[0] == 1 && d[2] == 3 && d[3] == 0 && d[7] == 0 && ram[8] == 0x55);

    /* The run's regions and registers. */
    uint8_t ctx[6] = {0};
    CHECK(fc_support_run(&vm, ctx, sizeof ctx, &r0) == FC_OK && r0 == 0);
    CHECK(seen_r1 == 0x40000000 && seen_r2 == 6);
    CHECK(seen.regions[1].base == rodata && seen.regions[1].len == rodata_len && seen.regions[1].writable == 0);
    CHECK(seen.regions[2].base == ram && seen.regions[2].len == 8 && seen.regions[2].writable == 1);
    CHECK(seen.regions[3].base == stack && seen.regions[3].len == 3 * 64 && seen.regions[3].writable == 1);
    CHECK(seen.regions[4].base == ctx && seen.regions[4].len == 6 && seen.regions[4].writable == 1);
    CHECK(seen.regions[0].len == 0 && seen.regions[5].len == 0 && seen.regions[15].len == 0);
    CHECK(seen.stack_top == 0x30000000u + 3 * 64 && seen.frame_size == 64 && seen.budget == 200 && seen.flags == 0);
    CHECK(seen.helper == fc_support_helper && seen.host == &vm && seen.error == 0 && seen.stop == 0);
    /* Data kept, stack zeroed, no context: r1 = 0, slot 4 unmapped; no budget. */
    fc_support_set_budget(&vm, 0, false);
    CHECK(fc_support_run(&vm, NULL, 0, &r0) == FC_OK && r0 == 0 && ram[0] == 3);
    CHECK(seen_r1 == 0 && seen_r2 == 0 && seen.regions[4].len == 0 && seen.budget == UINT64_MAX);
    CHECK(seen.flags == FC_FLAG_BUDGET_OFF);
    CHECK(fc_support_run(&vm, ctx, 0, &r0) == FC_OK && seen_r1 == 0 && seen.regions[4].len == 0);
    CHECK(fc_support_run(&vm, NULL, 4, &r0) == FC_ILLEGAL_LEN && r0 == (uint64_t)(int64_t)FC_ILLEGAL_LEN);
    fc_support_reset_data(&vm);
    CHECK(ram[0] == 1);

    /* A frame per function: `print` has depth 0. */
    fc_support_set_budget(&vm, 7, true);
    CHECK(fc_support_run_function(&vm, "look", NULL, 0, &r0) == FC_OK && seen.budget == 7 && seen.flags == 0);
    CHECK(fc_support_run_function(&vm, "nope", NULL, 0, &r0) == FC_ILLEGAL_CALL && r0 == (uint64_t)(int64_t)FC_ILLEGAL_CALL);
    CHECK(fc_support_run_function(&vm, NULL, NULL, 0, &r0) == FC_ILLEGAL_CALL);

    /* printf through the dispatch; lines longer than FC_SUPPORT_LINE_MAX (8) go in pieces. */
    fc_support_set_output(&vm, sink, NULL);
    CHECK(fc_support_run_function(&vm, "print", NULL, 0, &r0) == FC_OK);
    CHECK(r0 == ((uint64_t)21 << 32 | 5));
    got[got_len] = 0;
    CHECK(strcmp(got, "01234567#89abcdef#ghij\n#tail|#") == 0);
    if (strcmp(got, "01234567#89abcdef#ghij\n#tail|#") != 0) printf("got: %s\n", got);
    fc_support_set_output(&vm, NULL, NULL);
    CHECK(fc_support_run_function(&vm, "print", NULL, 0, &r0) == FC_OK && pieces == 4);

    /* Errors the program reports: unknown numbers become ILLEGAL_INSTRUCTION. */
    CHECK(fc_support_run_function(&vm, "bad_error", NULL, 0, &r0) == FC_ILLEGAL_INSTRUCTION);
    CHECK(fc_support_last_error_pc(&vm) == 9 && r0 == (uint64_t)(int64_t)FC_ILLEGAL_INSTRUCTION);
    CHECK(fc_support_run_function(&vm, "look", NULL, 0, &r0) == FC_OK && fc_support_last_error(&vm) == FC_OK);

    /* Helpers by id (the context's first word). */
    uint8_t id[4] = {0x20, 0, 0, 0};
    CHECK(fc_support_run_function(&vm, "call_helper", id, 4, &r0) == FC_OK && r0 == 1000); /* no clock: 0 */
    id[0] = 0x05; /* unwind: not in the Sming profile */
    CHECK(fc_support_run_function(&vm, "call_helper", id, 4, &r0) == FC_ILLEGAL_CALL);
    CHECK(fc_support_last_error_pc(&vm) == 0 && r0 == (uint64_t)(int64_t)FC_ILLEGAL_CALL);
    CHECK(fc_support_set_profile(&vm, FC_PROFILE_CONFORMANCE) && !fc_support_set_profile(&vm, 3));
    CHECK(fc_support_run_function(&vm, "call_helper", id, 4, &r0) == FC_OK && r0 == 1001); /* unwind(1) returns 1 */
    id[0] = 0x01; /* printf: not in the conformance profile */
    CHECK(fc_support_run_function(&vm, "call_helper", id, 4, &r0) == FC_ILLEGAL_CALL);
    CHECK(fc_support_set_profile(&vm, FC_PROFILE_SMING));
    id[0] = 0x00;
    id[1] = 0x01; /* 0x100 */
    CHECK(fc_support_run_function(&vm, "call_helper", id, 4, &r0) == FC_ILLEGAL_CALL); /* not registered */
    CHECK(!fc_support_register_helper(&vm, 0xff, 0, reenter, NULL));
    CHECK(!fc_support_register_helper(&vm, 0x100, 0, NULL, NULL));
    CHECK(fc_support_register_helper(&vm, 0x100, 9, reenter, NULL) && vm.apps[0].arity == 5);
    CHECK(fc_support_register_helper(&vm, 0x101, 0, reenter, NULL));
    CHECK(!fc_support_register_helper(&vm, 0x102, 0, reenter, NULL)); /* FC_SUPPORT_APP_HELPERS == 2 */
    CHECK(fc_support_register_helper(&vm, 0x101, 1, reenter, NULL)); /* replacing needs no room */
    CHECK(fc_support_run_function(&vm, "call_helper", id, 4, &r0) == FC_OK && r0 == 1077);
    CHECK(inner_run == FC_ILLEGAL_CALL && inner_load == FC_ILLEGAL_CALL && fc_support_is_loaded(&vm));
    CHECK(fc_support_last_error(&vm) == FC_OK);
    CHECK(fc_support_set_profile(&vm, FC_PROFILE_CONFORMANCE));
    CHECK(fc_support_run_function(&vm, "call_helper", id, 4, &r0) == FC_ILLEGAL_CALL); /* no application helpers */
    CHECK(fc_support_set_profile(&vm, FC_PROFILE_SMING));

    /* Unload returns the local entries; loading again unloads first. */
    CHECK(fc_support_store_update(&stores, fc_support_local_owner(&vm), 1, 2));
    CHECK(fc_support_store_update(&stores, FC_STORE_GLOBAL, 1, 2));
    CHECK(fc_support_stores_free(&stores) == (size_t)FC_STORE_NUM_VALUES - 2);
    CHECK(fc_support_load(&vm, &container, ram, sizeof ram, stack, sizeof stack, 64) == FC_OK);
    CHECK(fc_support_stores_free(&stores) == (size_t)FC_STORE_NUM_VALUES - 1);
    CHECK(fc_support_store_update(&stores, fc_support_local_owner(&vm), 1, 2));
    fc_support_unload(&vm);
    CHECK(!fc_support_is_loaded(&vm) && fc_support_stores_free(&stores) == (size_t)FC_STORE_NUM_VALUES - 1);
    CHECK(fc_support_data(&vm, &len) == NULL && len == 0);

    CHECK(fc_support_error_name(FC_OUT_OF_BRANCHES) && strcmp(fc_support_error_name(FC_OUT_OF_BRANCHES), "OUT_OF_BRANCHES") == 0);
    CHECK(fc_support_error_name(-42) == NULL);
}

int main(void) {
    stores_test();
    map_test();
    vm_test();
    if (failures) return 1;
    printf("ok\n");
    return 0;
}
