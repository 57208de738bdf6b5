/*
 * test_runtime.c - exercises fc_runtime.h from C against real containers.
 *
 * Usage: test_runtime INCREMENT.bin STORE.bin FIBONACCI.bin APP_HELPER.bin UNREGISTERED.bin
 *   increment, store, fibonacci: the samples in containers/;
 *   app_helper, unregistered: tests/c/containers/ of the fc-runtime-capi crate.
 * Prints "fc_runtime C test: all N checks passed" and exits 0, or names every
 * failed check on stderr and exits 1.
 */
#include "fc_runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int checks;
static int failures;

#define CHECK(cond)                                                                 \
	do {                                                                        \
		checks++;                                                           \
		if (!(cond)) {                                                      \
			failures++;                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,      \
				__LINE__, #cond);                                   \
		}                                                                   \
	} while (0)

#define CHECK_I64(expr, expected)                                                   \
	do {                                                                        \
		long long got_ = (long long)(expr);                                 \
		long long want_ = (long long)(expected);                            \
		checks++;                                                           \
		if (got_ != want_) {                                                \
			failures++;                                                 \
			fprintf(stderr, "%s:%d: %s = %lld, expected %lld\n",        \
				__FILE__, __LINE__, #expr, got_, want_);            \
		}                                                                   \
	} while (0)

#define CHECK_STR(got, expected)                                                    \
	do {                                                                        \
		const char *got_ = (got);                                           \
		checks++;                                                           \
		if (got_ == NULL || strcmp(got_, (expected)) != 0) {                \
			failures++;                                                 \
			fprintf(stderr, "%s:%d: %s = \"%s\", expected \"%s\"\n",    \
				__FILE__, __LINE__, #got, got_ ? got_ : "(null)",   \
				(expected));                                        \
		}                                                                   \
	} while (0)

struct blob {
	uint8_t *bytes;
	size_t len;
};

static struct blob read_file(const char *path)
{
	struct blob b = { NULL, 0 };
	FILE *f = fopen(path, "rb");
	long size;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "%s: cannot read\n", path);
		exit(2);
	}
	b.len = (size_t)size;
	b.bytes = malloc(b.len);
	if (b.bytes == NULL || fread(b.bytes, 1, b.len, f) != b.len) {
		fprintf(stderr, "%s: cannot read\n", path);
		exit(2);
	}
	fclose(f);
	return b;
}

/* ---- callbacks ----------------------------------------------------------- */

struct capture {
	char text[512];
	size_t len;
	int lines;
};

static void capture_output(void *user, const char *text, size_t len)
{
	struct capture *c = user;

	CHECK(text[len] == '\0');
	if (c->len + len < sizeof c->text) {
		memcpy(c->text + c->len, text, len + 1);
		c->len += len;
	}
	c->lines++;
}

static void capture_reset(struct capture *c)
{
	c->text[0] = '\0';
	c->len = 0;
	c->lines = 0;
}

static int lock_depth, lock_calls, unlock_calls;

static void test_lock(void)
{
	CHECK(lock_depth == 0);
	lock_depth++;
	lock_calls++;
}

static void test_unlock(void)
{
	CHECK(lock_depth == 1);
	lock_depth--;
	unlock_calls++;
}

static uint32_t test_clock(void *user)
{
	return *(const uint32_t *)user;
}

/* The context of app_helper.c. */
struct app_ctx {
	uint64_t a;
	uint64_t b;
	uint32_t out;
	uint32_t now;
};

struct helper_state {
	fc_vm *vm;
	struct app_ctx *ctx;
	int mix_calls;
	int log_calls;
	char log[64];
};

/* 0x100: app_mix(a, b, uint32_t *out) -> a * b + 7, writes 0xABCD1234 to *out. */
static uint64_t app_mix(void *user, fc_mem *mem, const uint64_t args[5])
{
	struct helper_state *st = user;
	uint32_t value = 0xABCD1234u;
	uint64_t a = 0;

	st->mix_calls++;
	CHECK(args[0] == st->ctx->a);
	CHECK(args[1] == st->ctx->b);
	/* The context is mapped in place: the pointer translates to the host's own field. */
	CHECK(fc_mem_translate(mem, args[2], sizeof(uint32_t), true) == (void *)&st->ctx->out);
	CHECK(fc_mem_translate(mem, args[2], 64, false) == NULL); /* past the context's end */
	CHECK(fc_mem_translate(mem, 0, 1, false) == NULL);         /* slot 0 is never mapped */
	CHECK(fc_mem_write(mem, args[2], &value, sizeof value));
	CHECK(fc_mem_read(mem, args[2] - 16, &a, sizeof a) && a == st->ctx->a);
	CHECK(!fc_mem_write(mem, args[2] + 4, &a, sizeof a)); /* 4 bytes past the end */
	/* The API from inside the run: the VM is busy, its stores are not. */
	CHECK_I64(fc_vm_execute(st->vm, NULL, 0), FC_ILLEGAL_CALL);
	CHECK(fc_vm_is_loaded(st->vm));
	CHECK(fc_local_update(st->vm, 9, 99));
	return args[0] * args[1] + 7;
}

/* 0x101: app_log(const char *text, uint32_t len) -> len. */
static uint64_t app_log(void *user, fc_mem *mem, const uint64_t args[5])
{
	struct helper_state *st = user;
	size_t len = 0;
	const char *text = fc_mem_string(mem, args[0], &len);

	st->log_calls++;
	CHECK(text != NULL);
	CHECK(len == args[1]);
	CHECK(fc_mem_translate(mem, args[0], len, true) == NULL); /* rodata is read-only */
	snprintf(st->log, sizeof st->log, "%s", text ? text : "");
	return len;
}

/* 0x1ff: returns its argument + 1000. */
static uint64_t app_missing(void *user, fc_mem *mem, const uint64_t args[5])
{
	(void)user;
	(void)mem;
	return args[0] + 1000;
}

/* ---- tests --------------------------------------------------------------- */

static void test_texts(void)
{
	CHECK_STR(fc_error_string(FC_OK), "OK");
	CHECK_STR(fc_error_string(FC_ILLEGAL_CALL), "ILLEGAL_CALL");
	CHECK_STR(fc_error_string(FC_OUT_OF_BRANCHES), "OUT_OF_BRANCHES");
	CHECK_STR(fc_error_string(FC_NO_MEMORY), "NO_MEMORY");
	CHECK_STR(fc_error_string(-42), "ERROR -42");
	CHECK(fc_runtime_version() != NULL && fc_runtime_version()[0] != '\0');
	CHECK(fc_store_capacity() >= 8);
}

static void test_nulls(void)
{
	uint32_t v = 5;

	CHECK(fc_vm_new(NULL) == NULL);
	fc_vm_free(NULL);
	fc_stores_free(NULL);
	fc_vm_unload(NULL);
	CHECK(!fc_vm_load(NULL, NULL, 0, FC_DEFAULT_STACK_SIZE));
	CHECK_I64(fc_vm_execute(NULL, NULL, 0), FC_NO_MEMORY);
	CHECK_I64(fc_vm_execute_function(NULL, "x", NULL, 0), FC_NO_MEMORY);
	CHECK_I64(fc_vm_last_error(NULL), FC_NO_MEMORY);
	CHECK(!fc_vm_set_output(NULL, capture_output, NULL));
	CHECK(!fc_vm_register_helper(NULL, 0x100, 3, app_mix, NULL));
	CHECK(!fc_global_update(NULL, 1, 2));
	CHECK(!fc_global_fetch(NULL, 1, &v) && v == 5);
	CHECK(!fc_local_update(NULL, 1, 2));
	CHECK(fc_mem_translate(NULL, 0x10000000, 1, false) == NULL);
	CHECK(fc_mem_string(NULL, 0x10000000, NULL) == NULL);
}

static void test_increment(struct blob inc)
{
	fc_stores *stores = fc_stores_new();
	fc_vm *vm = fc_vm_new(stores);
	uint64_t value = 41;
	uint8_t garbage[16] = { 1, 2, 3 };
	char text[128];
	uint8_t *copy;

	CHECK(stores != NULL && vm != NULL);
	CHECK(!fc_vm_is_loaded(vm));
	CHECK_I64(fc_vm_execute(vm, &value, sizeof value), FC_NO_MEMORY);
	CHECK_I64(fc_vm_last_error(vm), FC_NO_MEMORY);

	CHECK(fc_vm_load(vm, inc.bytes, inc.len, FC_DEFAULT_STACK_SIZE));
	CHECK(fc_vm_is_loaded(vm));
	CHECK_I64(fc_vm_execute(vm, &value, sizeof value), 42);
	CHECK_I64(fc_vm_last_error(vm), FC_OK);
	CHECK_I64(fc_vm_execute_function(vm, "increment", &value, sizeof value), 42);
	CHECK_I64(fc_vm_execute_function(vm, "missing", &value, sizeof value), FC_ILLEGAL_CALL);
	CHECK_I64(fc_vm_last_error(vm), FC_ILLEGAL_CALL);
	CHECK_I64(fc_vm_execute(vm, NULL, sizeof value), FC_ILLEGAL_LEN);

	/* A copied container does not need the caller's bytes any more. */
	copy = malloc(inc.len);
	CHECK(copy != NULL);
	memcpy(copy, inc.bytes, inc.len);
	CHECK(fc_vm_load_copy(vm, copy, inc.len, FC_DEFAULT_STACK_SIZE));
	memset(copy, 0xff, inc.len);
	free(copy);
	value = 99;
	CHECK_I64(fc_vm_execute(vm, &value, sizeof value), 100);

	/* Bad loads. */
	CHECK(!fc_vm_load(vm, garbage, sizeof garbage, FC_DEFAULT_STACK_SIZE));
	CHECK_I64(fc_vm_last_error(vm), FC_ILLEGAL_LEN);
	CHECK(!fc_vm_is_loaded(vm));
	CHECK(fc_vm_load_error_text(vm, text, sizeof text) > 0 && text[0] != '\0');
	CHECK(!fc_vm_load(vm, inc.bytes, inc.len, 7));
	CHECK_I64(fc_vm_last_error(vm), FC_ILLEGAL_LEN);

	CHECK(fc_vm_load(vm, inc.bytes, inc.len, FC_DEFAULT_STACK_SIZE));
	CHECK_I64(fc_vm_load_error_text(vm, text, sizeof text), 0);
	fc_vm_unload(vm);
	CHECK(!fc_vm_is_loaded(vm));
	CHECK_I64(fc_vm_execute(vm, &value, sizeof value), FC_NO_MEMORY);
	CHECK_I64(fc_vm_last_error(vm), FC_NO_MEMORY);
	fc_vm_free(vm);
	fc_stores_free(stores);
}

/* The context of containers/store.c. */
struct store_ctx {
	uint32_t key;
	uint32_t value;
};

static void test_store(struct blob store)
{
	fc_stores *stores = fc_stores_new();
	fc_vm *vm, *vm2;
	struct capture out, out2;
	struct store_ctx ctx = { 7, 42 };
	size_t cap = fc_store_capacity(), filled = 0;
	uint32_t keys[4], values[4], v = 0;

	CHECK(fc_stores_set_lock(stores, test_lock, test_unlock));
	CHECK(fc_global_update(stores, 7, 1));
	vm = fc_vm_new(stores);
	CHECK(!fc_stores_set_lock(stores, NULL, NULL)); /* a VM uses the context now */
	capture_reset(&out);
	CHECK(fc_vm_set_output(vm, capture_output, &out));
	CHECK(fc_vm_load(vm, store.bytes, store.len, FC_DEFAULT_STACK_SIZE));

	CHECK_I64(fc_vm_execute(vm, &ctx, sizeof ctx), 1);
	CHECK_STR(out.text, "store: call 1 (static 1), previous value 12648430\n");
	CHECK_I64(out.lines, 1);
	capture_reset(&out);
	ctx.value = 43;
	CHECK_I64(fc_vm_execute(vm, &ctx, sizeof ctx), 2);
	CHECK_STR(out.text, "store: call 2 (static 2), previous value 42\n");
	CHECK_I64(fc_global_get(stores, 7), 43);
	CHECK_I64(fc_local_get(vm, 1), 2);
	CHECK(fc_local_fetch(vm, 1, &v) && v == 2);
	CHECK_I64(fc_local_entries(vm, keys, values, 4), 1);
	CHECK(keys[0] == 1 && values[0] == 2);
	CHECK_I64(fc_global_entries(stores, keys, values, 4), 1);
	CHECK(keys[0] == 7 && values[0] == 43);
	CHECK_I64(fc_stores_free_entries(stores), cap - 2);

	/* A second VM on the same pool: shared globals, its own locals and statics. */
	vm2 = fc_vm_new(stores);
	capture_reset(&out2);
	CHECK(fc_vm_set_output(vm2, capture_output, &out2));
	CHECK(fc_vm_load(vm2, store.bytes, store.len, FC_DEFAULT_STACK_SIZE));
	ctx.key = 8;
	ctx.value = 5;
	CHECK_I64(fc_vm_execute(vm2, &ctx, sizeof ctx), 1);
	CHECK_STR(out2.text, "store: call 1 (static 1), previous value 12648430\n");
	CHECK_I64(fc_global_get(stores, 8), 5);
	CHECK_I64(fc_stores_free_entries(stores), cap - 4);

	/* reset_data restores .data and .bss; the local store keeps counting. */
	CHECK(fc_vm_reset_data(vm));
	capture_reset(&out);
	ctx.key = 7;
	ctx.value = 44;
	CHECK_I64(fc_vm_execute(vm, &ctx, sizeof ctx), 3);
	CHECK_STR(out.text, "store: call 3 (static 1), previous value 12648430\n");

	/* Fill the pool: the container's store_global of a new key then fails. */
	while (fc_global_update(stores, 1000 + (uint32_t)filled, (uint32_t)filled))
		filled++;
	CHECK_I64(filled, cap - 4);
	CHECK_I64(fc_stores_free_entries(stores), 0);
	ctx.key = 9;
	CHECK_I64(fc_vm_execute(vm, &ctx, sizeof ctx), -1);
	CHECK_I64(fc_vm_last_error(vm), FC_OK);

	/* Unloading vm2 returns its local entry to the pool. */
	fc_vm_unload(vm2);
	CHECK_I64(fc_stores_free_entries(stores), 1);
	CHECK(fc_global_update(stores, 2000, 1));
	CHECK(!fc_global_update(stores, 2001, 1));
	CHECK_I64(fc_vm_execute(vm2, &ctx, sizeof ctx), FC_NO_MEMORY);
	CHECK_I64(fc_vm_last_error(vm2), FC_NO_MEMORY);

	/* Freeing vm releases its local entry too. */
	fc_vm_free(vm);
	CHECK_I64(fc_stores_free_entries(stores), 1);
	fc_vm_free(vm2);
	CHECK(lock_calls > 0);
	CHECK_I64(lock_calls, unlock_calls);
	CHECK_I64(lock_depth, 0);
	fc_stores_free(stores);
}

/* The context of containers/fibonacci.c. */
struct fibonacci_ctx {
	uint32_t n;
	uint32_t reserved;
	uint64_t result;
};

static void test_budget_and_engines(struct blob fib)
{
	fc_stores *stores = fc_stores_new();
	fc_vm *vm = fc_vm_new(stores);
	struct fibonacci_ctx ctx = { 20, 0, 0 };
	int engine;

	for (engine = FC_ENGINE_REFERENCE; engine <= FC_ENGINE_INTERP; engine++) {
		CHECK(fc_vm_set_engine(vm, engine));
		CHECK(fc_vm_set_budget(vm, 200, true));
		CHECK(fc_vm_load(vm, fib.bytes, fib.len, FC_DEFAULT_STACK_SIZE));
		ctx.n = 20;
		CHECK_I64(fc_vm_execute(vm, &ctx, sizeof ctx), 6765);
		CHECK(ctx.result == 6765);
		CHECK(fc_vm_set_budget(vm, 3, true));
		CHECK_I64(fc_vm_execute(vm, &ctx, sizeof ctx), FC_OUT_OF_BRANCHES);
		CHECK_I64(fc_vm_last_error(vm), FC_OUT_OF_BRANCHES);
		CHECK(fc_vm_last_error_pc(vm) > 0);
		CHECK(fc_vm_set_budget(vm, 0, false));
		ctx.n = 93;
		fc_vm_execute(vm, &ctx, sizeof ctx);
		CHECK_I64(fc_vm_last_error(vm), FC_OK);
		CHECK(ctx.result == 12200160415121876738ull);
	}
	CHECK(!fc_vm_set_engine(vm, 42));
	CHECK(!fc_vm_set_profile(vm, 42));
	fc_vm_free(vm);
	fc_stores_free(stores);
}

static void test_app_helpers(struct blob app, struct blob unregistered)
{
	fc_stores *stores = fc_stores_new();
	fc_vm *vm = fc_vm_new(stores);
	struct app_ctx ctx = { 6, 7, 0, 0 };
	struct helper_state st;
	uint32_t now = 12345;
	char text[160];

	memset(&st, 0, sizeof st);
	st.vm = vm;
	st.ctx = &ctx;

	/* Helpers are checked at load: without them the load fails. */
	CHECK(!fc_vm_load(vm, app.bytes, app.len, FC_DEFAULT_STACK_SIZE));
	CHECK_I64(fc_vm_last_error(vm), FC_ILLEGAL_CALL);

	CHECK(!fc_vm_register_helper(vm, 0xff, 3, app_mix, &st)); /* below 0x100 */
	CHECK(!fc_vm_register_helper(vm, 0x100, 6, app_mix, &st)); /* arity above 5 */
	CHECK(fc_vm_register_helper(vm, 0x100, 3, app_mix, &st));
	CHECK(fc_vm_register_helper(vm, 0x101, 2, app_log, &st));
	CHECK(fc_vm_set_clock(vm, test_clock, &now));
	CHECK(fc_vm_load(vm, app.bytes, app.len, FC_DEFAULT_STACK_SIZE));
	CHECK_I64(fc_vm_execute(vm, &ctx, sizeof ctx), 6 * 7 + 7 + 1);
	CHECK_I64(fc_vm_last_error(vm), FC_OK);
	CHECK_I64(st.mix_calls, 1);
	CHECK_I64(st.log_calls, 1);
	CHECK_STR(st.log, "hello from the container");
	CHECK(ctx.out == 0xABCD1234u);
	CHECK_I64(ctx.now, 12345);
	CHECK_I64(fc_local_get(vm, 9), 99);

	/* A container calling a helper nobody registered does not load. */
	CHECK(!fc_vm_load(vm, unregistered.bytes, unregistered.len, FC_DEFAULT_STACK_SIZE));
	CHECK_I64(fc_vm_last_error(vm), FC_ILLEGAL_CALL);
	CHECK(fc_vm_load_error_text(vm, text, sizeof text) > 0);
	printf("unregistered helper: %s (%s at insn %zu)\n", text, fc_error_string(fc_vm_last_error(vm)),
	       fc_vm_last_error_pc(vm));
	CHECK(!fc_vm_is_loaded(vm));
	CHECK_I64(fc_vm_execute(vm, &ctx, sizeof ctx), FC_NO_MEMORY);
	CHECK_I64(fc_local_entries(vm, NULL, NULL, 0), 0); /* the failed load unloaded */

	/* Registered, it loads and runs. */
	CHECK(fc_vm_register_helper(vm, 0x1ff, 1, app_missing, NULL));
	CHECK(fc_vm_load(vm, unregistered.bytes, unregistered.len, FC_DEFAULT_STACK_SIZE));
	CHECK_I64(fc_vm_execute(vm, NULL, 0), 1001);
	fc_vm_free(vm);
	fc_stores_free(stores);
}

static void test_stores_lifetime(struct blob inc)
{
	fc_stores *stores = fc_stores_new();
	fc_vm *vm = fc_vm_new(stores);
	uint64_t value = 1;

	/* The handle goes; the VM keeps the pool alive until it is freed. */
	CHECK(fc_global_update(stores, 1, 2));
	fc_stores_free(stores);
	CHECK(fc_vm_load(vm, inc.bytes, inc.len, FC_DEFAULT_STACK_SIZE));
	CHECK_I64(fc_vm_execute(vm, &value, sizeof value), 2);
	CHECK(fc_local_update(vm, 3, 4));
	CHECK_I64(fc_local_get(vm, 3), 4);
	fc_vm_free(vm);
}

int main(int argc, char **argv)
{
	struct blob inc, store, fib, app, unregistered;

	if (argc != 6) {
		fprintf(stderr, "usage: %s INCREMENT.bin STORE.bin FIBONACCI.bin APP_HELPER.bin UNREGISTERED.bin\n",
			argv[0]);
		return 2;
	}
	inc = read_file(argv[1]);
	store = read_file(argv[2]);
	fib = read_file(argv[3]);
	app = read_file(argv[4]);
	unregistered = read_file(argv[5]);

	test_texts();
	test_nulls();
	test_increment(inc);
	test_store(store);
	test_budget_and_engines(fib);
	test_app_helpers(app, unregistered);
	test_stores_lifetime(inc);

	free(inc.bytes);
	free(store.bytes);
	free(fib.bytes);
	free(app.bytes);
	free(unregistered.bytes);
	if (failures) {
		fprintf(stderr, "fc_runtime C test: %d of %d checks failed\n", failures, checks);
		return 1;
	}
	printf("fc_runtime C test: all %d checks passed\n", checks);
	return 0;
}
