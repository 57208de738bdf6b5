/*
 * app_helper.c - calls two application helpers the C test registers, and the clock.
 *
 * Context (24 bytes):
 *   struct app_ctx {
 *       uint64_t a;      offset 0   in: first argument of app_mix
 *       uint64_t b;      offset 8   in: second argument of app_mix
 *       uint32_t out;    offset 16  out: written by app_mix through its pointer argument
 *       uint32_t now;    offset 20  out: bpf_now_ms()
 *   };
 * Helpers: 0x100 app_mix(a, b, &ctx->out) -> uint64_t,
 *          0x101 app_log(text, length) -> int (the length on success).
 * Returns: app_mix's result + 1, or -1 if app_log did not return the length.
 */
#include <fc_helpers.h>

FC_APP_HELPER(uint64_t, app_mix, FC_APP_HELPER_BASE, uint64_t a, uint64_t b, uint32_t *out);
FC_APP_HELPER(int, app_log, 0x101, const char *text, uint32_t len);

struct app_ctx {
	uint64_t a;
	uint64_t b;
	uint32_t out;
	uint32_t now;
};

_Static_assert(sizeof(struct app_ctx) == 24, "context layout");

int64_t app_helper(struct app_ctx *ctx)
{
	uint64_t r = app_mix(ctx->a, ctx->b, &ctx->out);

	if (app_log("hello from the container", 24) != 24)
		return -1;
	ctx->now = bpf_now_ms();
	return (int64_t)(r + 1);
}
