/*
 * fc_support.c - the C support code of translated containers (see fc_support.h).
 *
 * Every function here mirrors one of the Rust runtime (runtime/src): the pool of
 * stores.rs, the helpers of env.rs and helpers.rs, the access check of
 * memory.rs and the run set-up of vm.rs and native.rs. Where they must agree
 * byte for byte, translator/tests/c_support.rs holds them equal.
 *
 * C99, freestanding: no libc calls (the compiler may still emit memcpy/memset
 * for struct copies, which every freestanding C environment provides).
 */
#include "fc_support.h"

/* Helper failure value: an `int` -1 as the container sees it in r0. */
#define FAIL UINT64_MAX

#define SLOT_SIZE ((uint64_t)1 << FC_SLOT_SHIFT)
/* The largest region the map takes (MemoryMap::set: len <= SLOT_SIZE - 1). */
#define REGION_MAX (SLOT_SIZE - 1)

/* ---- Stores (stores.rs) --------------------------------------------------- */

static void lock(fc_support_stores *s) {
    if (s->lock) s->lock(s->lock_user);
}

static void unlock(fc_support_stores *s) {
    if (s->unlock) s->unlock(s->lock_user);
}

void fc_support_stores_init(fc_support_stores *stores) {
    for (size_t i = 0; i < FC_STORE_NUM_VALUES; i++) {
        stores->pool[i].used = 0;
        stores->pool[i].key = 0;
        stores->pool[i].value = 0;
        stores->pool[i].owner = 0;
    }
    stores->next_local = 0;
    stores->lock = NULL;
    stores->unlock = NULL;
    stores->lock_user = NULL;
}

bool fc_support_stores_set_lock(fc_support_stores *stores, fc_support_lock_fn lock_fn, fc_support_lock_fn unlock_fn,
                                void *user) {
    if ((lock_fn == NULL) != (unlock_fn == NULL)) return false;
    stores->lock = lock_fn;
    stores->unlock = unlock_fn;
    stores->lock_user = user;
    return true;
}

fc_store_owner fc_support_stores_new_local(fc_support_stores *stores) {
    lock(stores);
    uint32_t id = stores->next_local;
    stores->next_local = id + 1u; /* wrapping, as Rust's wrapping_add */
    unlock(stores);
    return (fc_store_owner)id;
}

size_t fc_support_store_capacity(void) {
    return FC_STORE_NUM_VALUES;
}

size_t fc_support_stores_free(fc_support_stores *stores) {
    size_t n = 0;
    lock(stores);
    for (size_t i = 0; i < FC_STORE_NUM_VALUES; i++) n += !stores->pool[i].used;
    unlock(stores);
    return n;
}

/* The entry of `owner` for `key`, or NULL. Call under the lock. */
static fc_support_store_entry *find(fc_support_stores *s, fc_store_owner owner, uint32_t key) {
    for (size_t i = 0; i < FC_STORE_NUM_VALUES; i++) {
        fc_support_store_entry *e = &s->pool[i];
        if (e->used && e->owner == owner && e->key == key) return e;
    }
    return NULL;
}

bool fc_support_store_update(fc_support_stores *stores, fc_store_owner owner, uint32_t key, uint32_t value) {
    bool ok = false;
    lock(stores);
    fc_support_store_entry *e = find(stores, owner, key);
    if (e) {
        e->value = value;
        ok = true;
    } else {
        for (size_t i = 0; i < FC_STORE_NUM_VALUES; i++) {
            e = &stores->pool[i];
            if (!e->used) {
                e->used = 1;
                e->owner = owner;
                e->key = key;
                e->value = value;
                ok = true;
                break;
            }
        }
    }
    unlock(stores);
    return ok;
}

bool fc_support_store_fetch(fc_support_stores *stores, fc_store_owner owner, uint32_t key, uint32_t *value) {
    lock(stores);
    fc_support_store_entry *e = find(stores, owner, key);
    bool found = e != NULL;
    uint32_t v = found ? e->value : 0;
    unlock(stores);
    /* A missing key is added with 0 (a second pool access, as in StoreContext::fetch). */
    if (!found && !fc_support_store_update(stores, owner, key, 0)) return false;
    if (value) *value = v;
    return true;
}

uint32_t fc_support_store_get(fc_support_stores *stores, fc_store_owner owner, uint32_t key) {
    uint32_t v = 0;
    return fc_support_store_fetch(stores, owner, key, &v) ? v : 0;
}

void fc_support_store_release(fc_support_stores *stores, fc_store_owner owner) {
    lock(stores);
    for (size_t i = 0; i < FC_STORE_NUM_VALUES; i++) {
        fc_support_store_entry *e = &stores->pool[i];
        if (e->used && e->owner == owner) {
            e->used = 0;
            e->owner = 0;
            e->key = 0;
            e->value = 0;
        }
    }
    unlock(stores);
}

size_t fc_support_store_entries(fc_support_stores *stores, fc_store_owner owner, uint32_t *keys, uint32_t *values,
                                size_t capacity) {
    uint32_t k[FC_STORE_NUM_VALUES], v[FC_STORE_NUM_VALUES];
    size_t n = 0;
    lock(stores);
    for (size_t i = 0; i < FC_STORE_NUM_VALUES; i++) {
        const fc_support_store_entry *e = &stores->pool[i];
        if (e->used && e->owner == owner) {
            k[n] = e->key;
            v[n] = e->value;
            n++;
        }
    }
    unlock(stores);
    /* Keys ascending (keys are unique per owner). */
    for (size_t i = 1; i < n; i++) {
        uint32_t key = k[i], value = v[i];
        size_t j = i;
        while (j > 0 && k[j - 1] > key) {
            k[j] = k[j - 1];
            v[j] = v[j - 1];
            j--;
        }
        k[j] = key;
        v[j] = value;
    }
    for (size_t i = 0; i < n && i < capacity; i++) {
        if (keys) keys[i] = k[i];
        if (values) values[i] = v[i];
    }
    return n;
}

/* ---- The address map (memory.rs) ------------------------------------------ */

void *fc_support_translate(const fc_env *env, uint64_t addr, size_t len, bool write) {
    if (addr >> 32 != 0) return NULL;
    const fc_region *r = &env->regions[addr >> FC_SLOT_SHIFT];
    uint64_t offset = addr & (SLOT_SIZE - 1);
    /* Unmapped slots have len 0: nothing, not even an empty range, is inside them. */
    if (r->len == 0 || (uint64_t)len > r->len || offset > r->len - (uint64_t)len || (write && !r->writable)) return NULL;
    return r->base + (size_t)offset;
}

const char *fc_support_string(const fc_env *env, uint64_t addr, size_t *len) {
    if (addr >> 32 != 0) return NULL;
    const fc_region *r = &env->regions[addr >> FC_SLOT_SHIFT];
    uint64_t offset = addr & (SLOT_SIZE - 1);
    if (offset > r->len) return NULL;
    size_t rest = (size_t)(r->len - offset);
    const uint8_t *s = fc_support_translate(env, addr, rest, false);
    if (!s) return NULL;
    for (size_t i = 0; i < rest; i++) {
        if (s[i] == 0) {
            if (len) *len = i;
            return (const char *)s;
        }
    }
    return NULL;
}

/* ---- The budget (helpers.rs work_units, docs/budget.md) ------------------- */

/* Charges a helper call that moves or prints `bytes` bytes: one unit per started 4 KiB
 * past the first 4 KiB. When the budget cannot pay, the run ends with
 * FC_OUT_OF_BRANCHES (translated code records the call's slot) and the helper does
 * nothing. With the budget off nothing is charged. */
static bool charge(fc_env *env, uint64_t bytes) {
    if (env->flags & FC_FLAG_BUDGET_OFF) return true;
    uint64_t cost = bytes == 0 ? 0 : (bytes - 1) / 4096;
    if (cost > env->budget) {
        env->error = FC_OUT_OF_BRANCHES;
        env->stop = 1;
        return false;
    }
    env->budget -= cost;
    return true;
}

/* ---- printf (env.rs format) ----------------------------------------------- */

static void flush(fc_support_vm *vm) {
    if (vm->line_len > 0) {
        size_t n = vm->line_len;
        vm->line_len = 0;
        if (vm->output) vm->output(vm->output_user, vm->line, n);
    }
}

static void emit(fc_support_vm *vm, uint8_t b) {
    if (vm->line_len == FC_SUPPORT_LINE_MAX) flush(vm);
    vm->line[vm->line_len++] = (char)b;
    if (b == '\n') flush(vm);
}

/* One pass over a format: checking (print == false) or printing, counting the bytes. */
typedef struct printer {
    fc_support_vm *vm;
    bool print;
    uint64_t count;
} printer;

static void put(printer *p, uint8_t b) {
    if (p->print) emit(p->vm, b);
    p->count++;
}

/* `v` in base 10 or 16, after an optional '-'. */
static void put_number(printer *p, uint64_t v, unsigned base, bool upper, bool negative) {
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    uint8_t buf[20];
    size_t n = 0;
    do {
        buf[n++] = (uint8_t)digits[v % base];
        v /= base;
    } while (v != 0);
    if (negative) put(p, '-');
    while (n > 0) put(p, buf[--n]);
}

static void put_signed(printer *p, int64_t v) {
    /* The magnitude as unsigned: INT64_MIN does not overflow this way. */
    uint64_t magnitude = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    put_number(p, magnitude, 10, false, v < 0);
}

/* Renders the format; false when a %s argument is not a readable string (a
 * checking pass finds that before anything is printed). */
static bool format(printer *p, const fc_env *env, const uint8_t *fmt, size_t len, const uint64_t args[5]) {
    size_t next_arg = 1;
    size_t i = 0;
    while (i < len) {
        if (fmt[i] != '%') {
            put(p, fmt[i]);
            i++;
            continue;
        }
        size_t start = i;
        i++;
        unsigned longs = 0;
        while (i < len && fmt[i] == 'l' && longs < 2) {
            longs++;
            i++;
        }
        int conv = i < len ? fmt[i] : -1;
        i++;
        bool known = conv == 'd' || conv == 'i' || conv == 'u' || conv == 'x' ||
                     (longs == 0 && (conv == 'X' || conv == 's' || conv == 'c' || conv == 'p' || conv == '%'));
        if (!known) {
            /* Printed as written (a '%' at the very end included). */
            size_t end = i < len ? i : len;
            for (size_t k = start; k < end; k++) put(p, fmt[k]);
            continue;
        }
        if (conv == '%') {
            put(p, '%');
            continue;
        }
        /* Conversions past the fourth argument print nothing: r1..r5 hold fmt + 4. */
        if (next_arg >= 5) continue;
        uint64_t v = args[next_arg++];
        switch (conv) {
        case 's': {
            size_t n = 0;
            const char *s = fc_support_string(env, v, &n);
            if (!s) return false;
            for (size_t k = 0; k < n; k++) put(p, (uint8_t)s[k]);
            break;
        }
        case 'd':
        case 'i':
            put_signed(p, longs == 0 ? (int64_t)(int32_t)(uint32_t)v : (int64_t)v);
            break;
        case 'u':
            put_number(p, longs == 0 ? (uint32_t)v : v, 10, false, false);
            break;
        case 'x':
            put_number(p, longs == 0 ? (uint32_t)v : v, 16, false, false);
            break;
        case 'X':
            put_number(p, (uint32_t)v, 16, true, false);
            break;
        case 'c':
            put(p, (uint8_t)v);
            break;
        default: /* 'p' */
            put(p, '0');
            put(p, 'x');
            put_number(p, v, 16, false, false);
            break;
        }
    }
    return true;
}

static uint64_t helper_printf(fc_support_vm *vm, fc_env *env, const uint64_t args[5]) {
    size_t len = 0;
    const uint8_t *fmt = (const uint8_t *)fc_support_string(env, args[0], &len);
    if (!fmt) return FAIL;
    /* Check every %s before printing anything. */
    printer check = {vm, false, 0};
    if (!format(&check, env, fmt, len, args)) return FAIL;
    /* Its cost is what it prints, charged before anything is. */
    if (!charge(env, check.count)) return 0;
    printer out = {vm, true, 0};
    (void)format(&out, env, fmt, len, args);
    return out.count;
}

/* ---- memcpy, stores, clock (env.rs) --------------------------------------- */

static uint64_t helper_memcpy(fc_env *env, const uint64_t args[5]) {
    uint64_t dst = args[0], src = args[1], n = args[2];
    if (n == 0) return 0;
    if (n > (uint64_t)SIZE_MAX) return FAIL;
    size_t len = (size_t)n;
    uint8_t *d = fc_support_translate(env, dst, len, true);
    const uint8_t *s = fc_support_translate(env, src, len, false);
    if (!d || !s) return FAIL;
    /* Its cost is what it moves, charged before anything is. */
    if (!charge(env, n)) return 0;
    /* memmove: the ranges may overlap. */
    if (d < s) {
        for (size_t i = 0; i < len; i++) d[i] = s[i];
    } else if (d > s) {
        for (size_t i = len; i > 0; i--) d[i - 1] = s[i - 1];
    }
    return 0;
}

static uint64_t helper_store(fc_support_vm *vm, fc_store_owner owner, const uint64_t args[5]) {
    return fc_support_store_update(vm->stores, owner, (uint32_t)args[0], (uint32_t)args[1]) ? 0 : FAIL;
}

static uint64_t helper_fetch(fc_support_vm *vm, const fc_env *env, fc_store_owner owner, const uint64_t args[5]) {
    /* The pointer is checked before the store is touched: a bad pointer inserts nothing. */
    uint8_t *p = fc_support_translate(env, args[1], 4, true);
    if (!p) return FAIL;
    uint32_t v = 0;
    if (!fc_support_store_fetch(vm->stores, owner, (uint32_t)args[0], &v)) return FAIL;
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
    return 0;
}

/* ---- Helper dispatch (helpers.rs) ----------------------------------------- */

enum builtin { NONE, PRINTF, MEMCPY, STORE_GLOBAL, STORE_LOCAL, FETCH_GLOBAL, FETCH_LOCAL, NOW_MS, UNWIND };

static enum builtin builtin(int profile, uint32_t id) {
    if (profile == FC_PROFILE_CONFORMANCE) return id == 5 ? UNWIND : NONE;
    bool riot = profile == FC_PROFILE_RIOT;
    switch (id) {
    case 0x01:
        return PRINTF;
    case 0x02:
        return MEMCPY;
    case 0x20:
        return NOW_MS;
    case 0x10:
        return riot ? STORE_LOCAL : STORE_GLOBAL;
    case 0x11:
        return riot ? STORE_GLOBAL : STORE_LOCAL;
    case 0x12:
        return riot ? FETCH_LOCAL : FETCH_GLOBAL;
    case 0x13:
        return riot ? FETCH_GLOBAL : FETCH_LOCAL;
    default:
        return NONE;
    }
}

uint64_t fc_support_helper(fc_env *env, uint32_t id, uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5) {
    fc_support_vm *vm = (fc_support_vm *)env->host;
    const uint64_t args[5] = {r1, r2, r3, r4, r5};
    switch (builtin(vm->profile, id)) {
    case PRINTF:
        return helper_printf(vm, env, args);
    case MEMCPY:
        return helper_memcpy(env, args);
    case STORE_GLOBAL:
        return helper_store(vm, FC_STORE_GLOBAL, args);
    case STORE_LOCAL:
        return helper_store(vm, vm->local, args);
    case FETCH_GLOBAL:
        return helper_fetch(vm, env, FC_STORE_GLOBAL, args);
    case FETCH_LOCAL:
        return helper_fetch(vm, env, vm->local, args);
    case NOW_MS:
        return vm->clock ? (uint64_t)vm->clock(vm->clock_user) : 0;
    case UNWIND:
        if (r1 == 0) env->stop = 1; /* the program ends now with r0 = 0 */
        return r1;
    case NONE:
        break;
    }
    if (vm->profile != FC_PROFILE_CONFORMANCE) {
        for (size_t i = 0; i < vm->app_count; i++) {
            if (vm->apps[i].id == id) return vm->apps[i].fn(vm->apps[i].user, env, args);
        }
    }
    /* The Rust runtime's verifier refuses such a container at load; translated code
     * only finds out here: the run ends with ILLEGAL_CALL. */
    env->error = FC_ILLEGAL_CALL;
    env->error_pc = 0;
    env->stop = 1;
    return 0;
}

/* ---- VMs (vm.rs, native.rs) ------------------------------------------------ */

void fc_support_vm_init(fc_support_vm *vm, fc_support_stores *stores) {
    vm->stores = stores;
    vm->local = fc_support_stores_new_local(stores);
    vm->profile = FC_PROFILE_SMING;
    vm->budget = FC_SUPPORT_DEFAULT_BUDGET;
    vm->budget_enabled = true;
    vm->running = false;
    vm->output = NULL;
    vm->output_user = NULL;
    vm->clock = NULL;
    vm->clock_user = NULL;
    vm->app_count = 0;
    vm->container = NULL;
    vm->ram = NULL;
    vm->stack = NULL;
    vm->frame_size = 0;
    vm->last_error = FC_OK;
    vm->last_error_pc = 0;
    vm->line_len = 0;
}

size_t fc_support_ram_size(const fc_support_container *c) {
    return (size_t)*c->data_len + (size_t)*c->bss_len;
}

/* Deepest depth over the function table. */
static uint32_t deepest(const fc_support_container *c) {
    uint32_t d = 0;
    for (size_t i = 0; i < c->function_count; i++) {
        if (c->functions[i].depth && *c->functions[i].depth > d) d = *c->functions[i].depth;
    }
    return d;
}

size_t fc_support_stack_size(const fc_support_container *c, size_t frame_size) {
    uint64_t frames = (uint64_t)deepest(c) + 1;
    if (frame_size != 0 && frames > (uint64_t)SIZE_MAX / frame_size) return SIZE_MAX;
    return (size_t)(frame_size * frames);
}

static void reset_data(fc_support_vm *vm) {
    const fc_support_container *c = vm->container;
    size_t init = *c->data_len, all = fc_support_ram_size(c);
    for (size_t i = 0; i < init; i++) vm->ram[i] = c->data[i];
    for (size_t i = init; i < all; i++) vm->ram[i] = 0;
}

static int load_error(fc_support_vm *vm, int code) {
    vm->last_error = code;
    vm->last_error_pc = 0;
    return code;
}

int fc_support_load(fc_support_vm *vm, const fc_support_container *c, uint8_t *ram, size_t ram_size, uint8_t *stack,
                    size_t stack_size, size_t frame_size) {
    if (vm->running) return FC_ILLEGAL_CALL;
    fc_support_unload(vm);
    if (!c || !c->abi_version || *c->abi_version != FC_ABI_VERSION) return load_error(vm, FC_ILLEGAL_INSTRUCTION);
    if (frame_size == 0 || frame_size % 8 != 0) return load_error(vm, FC_ILLEGAL_LEN);
    if (!c->rodata_len || !c->data_len || !c->bss_len || (c->function_count > 0 && !c->functions))
        return load_error(vm, FC_ILLEGAL_LEN);
    for (size_t i = 0; i < c->function_count; i++) {
        if (!c->functions[i].entry || !c->functions[i].depth) return load_error(vm, FC_ILLEGAL_CALL);
    }
    size_t need_ram = fc_support_ram_size(c);
    if (ram_size < need_ram || (need_ram > 0 && !ram)) return load_error(vm, FC_NO_MEMORY);
    if (stack_size < fc_support_stack_size(c, frame_size) || !stack) return load_error(vm, FC_NO_MEMORY);
    vm->container = c;
    vm->ram = ram;
    vm->stack = stack;
    vm->frame_size = frame_size;
    reset_data(vm);
    vm->last_error = FC_OK;
    vm->last_error_pc = 0;
    return FC_OK;
}

void fc_support_unload(fc_support_vm *vm) {
    if (vm->running) return;
    vm->container = NULL;
    vm->ram = NULL;
    vm->stack = NULL;
    fc_support_store_release(vm->stores, vm->local);
}

bool fc_support_is_loaded(const fc_support_vm *vm) {
    return vm->container != NULL;
}

static int finish(fc_support_vm *vm, int code, uint64_t *r0) {
    vm->last_error = code;
    if (r0) *r0 = (uint64_t)(int64_t)code;
    return code;
}

static bool known_error(int32_t code) {
    return (code <= FC_ILLEGAL_INSTRUCTION && code >= FC_ILLEGAL_DIV) || code == FC_NO_MEMORY;
}

static int run(fc_support_vm *vm, const fc_support_function *f, void *ctx, size_t ctx_len, uint64_t *r0) {
    const fc_support_container *c = vm->container;
    if (!f) return finish(vm, FC_ILLEGAL_CALL, r0);
    uint64_t stack_len = (uint64_t)vm->frame_size * ((uint64_t)*f->depth + 1);
    for (uint64_t i = 0; i < stack_len; i++) vm->stack[i] = 0;
    uint64_t data_len = (uint64_t)fc_support_ram_size(c);
    if (*c->rodata_len > REGION_MAX || data_len > REGION_MAX || stack_len > REGION_MAX ||
        (uint64_t)ctx_len > REGION_MAX || (ctx == NULL && ctx_len > 0))
        return finish(vm, FC_ILLEGAL_LEN, r0);
    fc_env env;
    for (size_t i = 0; i < FC_SLOTS; i++) {
        env.regions[i].base = NULL;
        env.regions[i].len = 0;
        env.regions[i].writable = 0;
    }
    /* rodata is only ever read: the check refuses writes to a region that is not writable. */
    env.regions[FC_SLOT_RODATA].base = (uint8_t *)(uintptr_t)c->rodata;
    env.regions[FC_SLOT_RODATA].len = *c->rodata_len;
    env.regions[FC_SLOT_DATA].base = vm->ram;
    env.regions[FC_SLOT_DATA].len = (uint32_t)data_len;
    env.regions[FC_SLOT_DATA].writable = 1;
    env.regions[FC_SLOT_STACK].base = vm->stack;
    env.regions[FC_SLOT_STACK].len = (uint32_t)stack_len;
    env.regions[FC_SLOT_STACK].writable = 1;
    if (ctx_len > 0) {
        env.regions[FC_SLOT_CONTEXT].base = (uint8_t *)ctx;
        env.regions[FC_SLOT_CONTEXT].len = (uint32_t)ctx_len;
        env.regions[FC_SLOT_CONTEXT].writable = 1;
    }
    env.helper = fc_support_helper;
    env.host = vm;
    env.budget = vm->budget_enabled ? (uint64_t)vm->budget : UINT64_MAX;
    env.flags = vm->budget_enabled ? 0 : FC_FLAG_BUDGET_OFF;
    env.frame_size = vm->frame_size;
    env.stack_top = ((uint64_t)FC_SLOT_STACK << FC_SLOT_SHIFT) + stack_len;
    env.error = 0;
    env.error_pc = 0;
    env.stop = 0;
    uint64_t r1 = ctx_len > 0 ? (uint64_t)FC_SLOT_CONTEXT << FC_SLOT_SHIFT : 0;
    vm->running = true;
    vm->line_len = 0;
    uint64_t result = f->entry(&env, r1, (uint64_t)ctx_len);
    vm->running = false;
    flush(vm);
    if (env.error != 0) {
        vm->last_error_pc = env.error_pc;
        return finish(vm, known_error(env.error) ? env.error : FC_ILLEGAL_INSTRUCTION, r0);
    }
    vm->last_error = FC_OK;
    if (r0) *r0 = result;
    return FC_OK;
}

int fc_support_run(fc_support_vm *vm, void *ctx, size_t ctx_len, uint64_t *r0) {
    if (vm->running) {
        if (r0) *r0 = (uint64_t)(int64_t)FC_ILLEGAL_CALL;
        return FC_ILLEGAL_CALL;
    }
    if (!vm->container) return finish(vm, FC_NO_MEMORY, r0);
    return run(vm, vm->container->function_count > 0 ? &vm->container->functions[0] : NULL, ctx, ctx_len, r0);
}

static bool same_name(const char *a, const char *b) {
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

int fc_support_run_function(fc_support_vm *vm, const char *name, void *ctx, size_t ctx_len, uint64_t *r0) {
    if (vm->running) {
        if (r0) *r0 = (uint64_t)(int64_t)FC_ILLEGAL_CALL;
        return FC_ILLEGAL_CALL;
    }
    if (!vm->container) return finish(vm, FC_NO_MEMORY, r0);
    const fc_support_function *f = NULL;
    for (size_t i = 0; name && i < vm->container->function_count; i++) {
        const char *n = vm->container->functions[i].name;
        if (n && same_name(n, name)) {
            f = &vm->container->functions[i];
            break;
        }
    }
    return run(vm, f, ctx, ctx_len, r0);
}

int fc_support_last_error(const fc_support_vm *vm) {
    return vm->last_error;
}

uint32_t fc_support_last_error_pc(const fc_support_vm *vm) {
    return vm->last_error_pc;
}

void fc_support_reset_data(fc_support_vm *vm) {
    if (vm->container && !vm->running) reset_data(vm);
}

const uint8_t *fc_support_data(const fc_support_vm *vm, size_t *len) {
    if (!vm->container) {
        if (len) *len = 0;
        return NULL;
    }
    if (len) *len = fc_support_ram_size(vm->container);
    return vm->ram;
}

bool fc_support_set_profile(fc_support_vm *vm, int profile) {
    if (profile != FC_PROFILE_SMING && profile != FC_PROFILE_RIOT && profile != FC_PROFILE_CONFORMANCE) return false;
    vm->profile = profile;
    return true;
}

void fc_support_set_budget(fc_support_vm *vm, uint32_t budget, bool enabled) {
    vm->budget = budget;
    vm->budget_enabled = enabled;
}

void fc_support_set_output(fc_support_vm *vm, fc_support_output_fn sink, void *user) {
    vm->output = sink;
    vm->output_user = user;
}

void fc_support_set_clock(fc_support_vm *vm, fc_support_clock_fn clock, void *user) {
    vm->clock = clock;
    vm->clock_user = user;
}

bool fc_support_register_helper(fc_support_vm *vm, uint32_t id, uint8_t arity, fc_support_app_fn fn, void *user) {
    if (id < FC_SUPPORT_FIRST_APP_HELPER || !fn) return false;
    size_t i = 0;
    while (i < vm->app_count && vm->apps[i].id != id) i++;
    if (i == vm->app_count) {
        if (vm->app_count == FC_SUPPORT_APP_HELPERS) return false;
        vm->app_count++;
    }
    vm->apps[i].id = id;
    vm->apps[i].arity = arity > 5 ? 5 : arity;
    vm->apps[i].fn = fn;
    vm->apps[i].user = user;
    return true;
}

fc_store_owner fc_support_local_owner(const fc_support_vm *vm) {
    return vm->local;
}

const char *fc_support_error_name(int code) {
    switch (code) {
    case FC_OK:
        return "OK";
    case FC_ILLEGAL_INSTRUCTION:
        return "ILLEGAL_INSTRUCTION";
    case FC_ILLEGAL_MEM:
        return "ILLEGAL_MEM";
    case FC_ILLEGAL_JUMP:
        return "ILLEGAL_JUMP";
    case FC_ILLEGAL_CALL:
        return "ILLEGAL_CALL";
    case FC_ILLEGAL_LEN:
        return "ILLEGAL_LEN";
    case FC_ILLEGAL_REGISTER:
        return "ILLEGAL_REGISTER";
    case FC_NO_RETURN:
        return "NO_RETURN";
    case FC_OUT_OF_BRANCHES:
        return "OUT_OF_BRANCHES";
    case FC_ILLEGAL_DIV:
        return "ILLEGAL_DIV";
    case FC_NO_MEMORY:
        return "NO_MEMORY";
    default:
        return NULL;
    }
}
