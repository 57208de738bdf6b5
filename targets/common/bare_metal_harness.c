/*
 * bare_metal_harness.c - runs one translated container (container `prog`, function
 * `main`) on every target outside the host's process: the bare-metal SoCs under
 * qemu-user (no libc: crt.c, own start-up: start.S) and the Linux ISAs under qemu-user
 * (targets/linux/crt.c over the C library). The one harness of `fc-aot run --target T`
 * and of the conformance suite there.
 *
 *     prog [HEX] [-b<budget>|-boff] [-n<runs>] [-s<frame>] [-priot] [-v]
 *
 * r1 = a private copy of the memory given as HEX (absent or empty: no context,
 * r1 = 0), r2 = its length; frames of -s bytes (default 512); budget 1 << 24 units
 * unless -b says otherwise (-boff: no bound; memcpy and printf are charged their work,
 * as docs/budget.md says). The container's rodata (read-only), data + bss (writable,
 * kept across the runs of one process, like a loaded VM's) are mapped at their slots.
 *
 * Helpers: the `conformance` profile's helper 5 (uBPF's unwind: returns r1, and 0
 * ends the program with r0 = 0) and the `sming` profile's built-ins (RIOT's
 * numbering with -priot: the stores' ids swapped): 0x01 printf (the Rust runtime's
 * formats, each line printed as `printf: LINE`), 0x02 memcpy (memmove semantics,
 * both ranges checked), 0x10/0x11 store global/local and 0x12/0x13 fetch
 * global/local (one pool of 16 entries shared by both stores; a fetch of a missing
 * key adds it with 0), 0x20 now_ms (always 0: there is no clock under qemu-user, and
 * a fixed time keeps runs reproducible). No application helpers. The verifier admits
 * only one profile's ids into a program, so one dispatcher serves every profile.
 *
 * Output: without -v only the last line `0x<r0>` (exit 0) or
 * `error <code> at insn <slot>` (exit 1), the way the conformance runner reads it.
 * With -v, per run: its printf lines, then `ctx: HEX`, `data: HEX`,
 * `global store: k=v, ...`, `local store: k=v, ...` (keys ascending, as
 * `fc-aot run` prints them) and the r0 / error line. What the harness cannot hold
 * (a context, data or stack larger than its buffers) is refused before any run with
 * `harness: <reason>` (exit 2).
 */
#include <stdint.h>

#include "crt.h"
#include "fc_abi.h"
#include "fc_cmdline.h"
#include "fc_hex.h"

extern uint64_t fc_prog_main(fc_env *env, uint64_t r1, uint64_t r2);
extern const uint32_t fc_prog_main_depth;
extern const uint32_t fc_prog_abi_version;
extern const uint8_t fc_prog_rodata[], fc_prog_data[];
extern const uint32_t fc_prog_rodata_len, fc_prog_data_len, fc_prog_bss_len;

#define FRAME 512u
#define MAX_FRAMES 33u
#define STACK_BYTES (FRAME * MAX_FRAMES)
#define BUDGET (1ull << 24)
#define MAX_MEMORY (1u << 16)
#define MAX_DATA (1u << 14)
#define POOL 16u
#define FAIL UINT64_MAX

static uint8_t memory[MAX_MEMORY];
static uint8_t memory_init[MAX_MEMORY];
static uint8_t stack[STACK_BYTES] __attribute__((aligned(16)));
static uint8_t data[MAX_DATA] __attribute__((aligned(16)));

/* ---- the stores: one pool, entries owned by the global store or the local one ---- */
enum { FREE = 0, GLOBAL = 1, LOCAL = 2 };
static struct { uint32_t owner, key, value; } pool[POOL];

static int store_update(uint32_t owner, uint32_t key, uint32_t value) {
    for (uint32_t i = 0; i < POOL; i++) {
        if (pool[i].owner == owner && pool[i].key == key) {
            pool[i].value = value;
            return 1;
        }
    }
    for (uint32_t i = 0; i < POOL; i++) {
        if (pool[i].owner == FREE) {
            pool[i].owner = owner;
            pool[i].key = key;
            pool[i].value = value;
            return 1;
        }
    }
    return 0;
}

/* The value of key; a missing key is added with 0. 0 when the pool is full. */
static int store_fetch(uint32_t owner, uint32_t key, uint32_t *value) {
    for (uint32_t i = 0; i < POOL; i++) {
        if (pool[i].owner == owner && pool[i].key == key) {
            *value = pool[i].value;
            return 1;
        }
    }
    *value = 0;
    return store_update(owner, key, 0);
}

static void print_store(const char *name, uint32_t owner) {
    uint32_t done = 0, last = 0;
    fc_puts(name);
    fc_puts(" store:");
    /* Keys ascending: pick the smallest key above the last one printed. */
    for (;;) {
        int found = 0;
        uint32_t best = 0, value = 0;
        for (uint32_t i = 0; i < POOL; i++) {
            if (pool[i].owner != owner || (done && pool[i].key <= last)) continue;
            if (!found || pool[i].key < best) {
                found = 1;
                best = pool[i].key;
                value = pool[i].value;
            }
        }
        if (!found) break;
        fc_puts(done ? ", " : " ");
        fc_put_udec(best);
        fc_putc('=');
        fc_put_udec(value);
        done = 1;
        last = best;
    }
    fc_putc('\n');
}

/* ---- container memory, checked the way the Rust runtime's MemoryMap checks it ---- */
static uint8_t *at(fc_env *env, uint64_t addr, uint64_t n, int write) {
    if (addr >> 32) return 0;
    const fc_region *r = &env->regions[(uint32_t)addr >> FC_SLOT_SHIFT];
    uint32_t off = (uint32_t)addr & ((1u << FC_SLOT_SHIFT) - 1);
    if (r->len == 0 || n > r->len || off > r->len - n || (write && !r->writable)) return 0;
    return r->base + off;
}

/* The NUL-terminated string at addr (inside one region), or 0. */
static const uint8_t *c_string(fc_env *env, uint64_t addr, uint32_t *len) {
    if (addr >> 32) return 0;
    const fc_region *r = &env->regions[(uint32_t)addr >> FC_SLOT_SHIFT];
    uint32_t off = (uint32_t)addr & ((1u << FC_SLOT_SHIFT) - 1);
    if (r->len == 0 || off > r->len) return 0;
    for (uint32_t i = off; i < r->len; i++) {
        if (r->base[i] == 0) {
            *len = i - off;
            return r->base + off;
        }
    }
    return 0;
}

/* ---- the budget: a helper's work (docs/budget.md) ---- */
/* Charges a helper call that moves or prints `bytes` bytes: one unit per started 4 KiB
 * past the first 4 KiB. When the budget cannot pay, the run ends with
 * FC_OUT_OF_BRANCHES at the call and the helper does nothing; -boff charges nothing. */
static int charge(fc_env *env, uint64_t bytes) {
    if (env->flags & FC_FLAG_BUDGET_OFF) return 1;
    uint64_t cost = bytes == 0 ? 0 : (bytes - 1) / 4096;
    if (cost > env->budget) {
        env->error = FC_OUT_OF_BRANCHES;
        env->stop = 1;
        return 0;
    }
    env->budget -= cost;
    return 1;
}

/* ---- printf: each output line becomes `printf: LINE` ---- */
static int line_open;
/* Set while a pass only checks the arguments and counts the bytes. */
static int quiet;

static void emit(uint8_t c) {
    if (quiet) return;
    if (!line_open) {
        fc_puts("printf: ");
        line_open = 1;
    }
    if (c == '\n') {
        line_open = 0;
    }
    fc_putc((char)c);
}

/* Ends a line the program left open (the runtime delivers it when the run ends). */
static void end_output(void) {
    if (line_open) emit('\n');
}

static void emit_str(const char *s, uint64_t *count) {
    for (; *s; s++, ++*count) emit((uint8_t)*s);
}

static void emit_udec(uint64_t v, uint64_t *count) {
    char buf[21];
    int n = 20;
    buf[n] = 0;
    do {
        buf[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    emit_str(buf + n, count);
}

static void emit_hex(uint64_t v, int upper, uint64_t *count) {
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char buf[17];
    int n = 16;
    buf[n] = 0;
    do {
        buf[--n] = digits[v & 15];
        v >>= 4;
    } while (v);
    emit_str(buf + n, count);
}

/* One pass over the format, counting the bytes printed; 0 when a %s argument is not
 * a readable string. */
static int format(fc_env *env, const uint8_t *fmt, uint32_t fmt_len, const uint64_t args[5], uint64_t *count) {
    uint32_t next_arg = 1, i = 0;
    while (i < fmt_len) {
        if (fmt[i] != '%') {
            emit(fmt[i]), ++*count;
            i++;
            continue;
        }
        uint32_t start = i++;
        int longs = 0;
        while (i < fmt_len && fmt[i] == 'l' && longs < 2) longs++, i++;
        int conv = i < fmt_len ? fmt[i] : -1;
        i++;
        int known = conv == 'd' || conv == 'i' || conv == 'u' || conv == 'x' ||
                    (longs == 0 && (conv == 'X' || conv == 's' || conv == 'c' || conv == 'p' || conv == '%'));
        if (!known) {
            uint32_t end = i < fmt_len ? i : fmt_len;
            for (uint32_t k = start; k < end; k++) emit(fmt[k]), ++*count;
            continue;
        }
        if (conv == '%') {
            emit('%'), ++*count;
            continue;
        }
        /* Conversions past the fourth argument print nothing: r1..r5 hold fmt + 4. */
        if (next_arg > 4) continue;
        uint64_t v = args[next_arg++];
        switch (conv) {
        case 's': {
            uint32_t n;
            const uint8_t *s = c_string(env, v, &n);
            if (!s) return 0;
            for (uint32_t k = 0; k < n; k++) emit(s[k]), ++*count;
            break;
        }
        case 'd':
        case 'i': {
            int64_t x = longs ? (int64_t)v : (int64_t)(int32_t)v;
            if (x < 0) {
                emit('-'), ++*count;
                emit_udec(0 - (uint64_t)x, count);
            } else {
                emit_udec((uint64_t)x, count);
            }
            break;
        }
        case 'u': emit_udec(longs ? v : (uint32_t)v, count); break;
        case 'x': emit_hex(longs ? v : (uint32_t)v, 0, count); break;
        case 'X': emit_hex((uint32_t)v, 1, count); break;
        case 'c': emit((uint8_t)v), ++*count; break;
        default: /* %p */
            emit_str("0x", count);
            emit_hex(v, 0, count);
            break;
        }
    }
    return 1;
}

static uint64_t printf_helper(fc_env *env, const uint64_t args[5]) {
    uint32_t fmt_len;
    const uint8_t *fmt = c_string(env, args[0], &fmt_len);
    if (!fmt) return FAIL;
    /* A quiet pass checks every %s and counts; the cost is what it prints, charged
     * before anything is; then the printing pass. */
    uint64_t count = 0;
    quiet = 1;
    int ok = format(env, fmt, fmt_len, args, &count);
    quiet = 0;
    if (!ok) return FAIL;
    if (!charge(env, count)) return 0;
    count = 0;
    (void)format(env, fmt, fmt_len, args, &count);
    return count;
}

/* -priot: RIOT numbers the stores the other way round (0x10 <-> 0x11, 0x12 <-> 0x13). */
static int riot;

static uint64_t helper(fc_env *env, uint32_t id, uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5) {
    const uint64_t args[5] = {r1, r2, r3, r4, r5};
    if (riot && id >= 0x10 && id <= 0x13) id ^= 1;
    switch (id) {
    case 0x05: /* unwind (conformance profile): returns r1; 0 ends the program with r0 = 0 */
        if (r1 == 0) env->stop = 1;
        return r1;
    case 0x01: return printf_helper(env, args);
    case 0x02: { /* memcpy(dst, src, n): 0 or -1, nothing copied unless both ranges are valid */
        if (r3 == 0) return 0;
        uint8_t *d = at(env, r1, r3, 1);
        uint8_t *s = at(env, r2, r3, 0);
        if (!d || !s) return FAIL;
        if (!charge(env, r3)) return 0;
        memmove(d, s, (size_t)r3);
        return 0;
    }
    case 0x10: return store_update(GLOBAL, (uint32_t)r1, (uint32_t)r2) ? 0 : FAIL;
    case 0x11: return store_update(LOCAL, (uint32_t)r1, (uint32_t)r2) ? 0 : FAIL;
    case 0x12:
    case 0x13: { /* the pointer is checked before the store is touched */
        uint8_t *p = at(env, r2, 4, 1);
        uint32_t v;
        if (!p || !store_fetch(id == 0x12 ? GLOBAL : LOCAL, (uint32_t)r1, &v)) return FAIL;
        p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
        return 0;
    }
    case 0x20: return 0; /* now_ms: no clock here */
    default: return FAIL;
    }
}

int main(int argc, char **argv) {
    uint64_t budget = BUDGET, frame = FRAME;
    uint32_t flags = 0;
    uint32_t runs = 1, len = 0;
    int verbose = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (fc_starts(a, "-boff")) budget = UINT64_MAX, flags = FC_FLAG_BUDGET_OFF;
        else if (fc_starts(a, "-b")) budget = fc_parse_dec(a + 2), flags = 0;
        else if (fc_starts(a, "-n")) runs = (uint32_t)fc_parse_dec(a + 2);
        else if (fc_starts(a, "-s")) frame = fc_parse_dec(a + 2);
        else if (fc_starts(a, "-priot")) riot = 1;
        else if (fc_starts(a, "-v")) verbose = 1;
        else if (fc_hex_bytes(a) > MAX_MEMORY) return fc_refuse("the context is larger than its 65536 bytes");
        else len = (uint32_t)fc_hex_parse_loose(a, memory_init, MAX_MEMORY);
    }
    if (fc_prog_abi_version != FC_ABI_VERSION) return fc_refuse("ABI version mismatch");
    uint64_t frames = fc_prog_main_depth + 1;
    /* Both factors are below 2^32, so the product cannot wrap. */
    if (frame > UINT32_MAX || frame * frames > STACK_BYTES) return fc_refuse("the stack (frame size times call depth + 1) is larger than its 16896 bytes");
    uint32_t data_len = fc_prog_data_len + fc_prog_bss_len;
    if (data_len > MAX_DATA) return fc_refuse("data + bss are larger than its 16384 bytes");
    memcpy(data, fc_prog_data, fc_prog_data_len);
    memset(data + fc_prog_data_len, 0, fc_prog_bss_len);

    int status = 0;
    for (uint32_t run = 0; run < runs; run++) {
        fc_env env;
        memset(&env, 0, sizeof env);
        memcpy(memory, memory_init, len);
        memset(stack, 0, (size_t)(frame * frames));
        env.regions[FC_SLOT_RODATA] = (fc_region){(uint8_t *)fc_prog_rodata, fc_prog_rodata_len, 0};
        env.regions[FC_SLOT_DATA] = (fc_region){data, data_len, 1};
        env.regions[FC_SLOT_STACK] = (fc_region){stack, (uint32_t)(frame * frames), 1};
        if (len > 0) env.regions[FC_SLOT_CONTEXT] = (fc_region){memory, len, 1};
        env.helper = helper;
        env.budget = budget;
        env.flags = flags;
        env.frame_size = frame;
        env.stack_top = ((uint64_t)FC_SLOT_STACK << FC_SLOT_SHIFT) + frame * frames;
        uint64_t r1 = len > 0 ? (uint64_t)FC_SLOT_CONTEXT << FC_SLOT_SHIFT : 0;
        uint64_t r0 = fc_prog_main(&env, r1, len);
        end_output();
        if (verbose) {
            fc_put_bytes("ctx", memory, len);
            fc_put_bytes("data", data, data_len);
            print_store("global", GLOBAL);
            print_store("local", LOCAL);
        }
        if (env.error != 0) {
            fc_put_error(env.error, env.error_pc);
            status = 1;
        } else {
            fc_puts("0x");
            fc_put_hex(r0);
            fc_putc('\n');
            status = 0;
        }
    }
    fc_flush();
    return status;
}
