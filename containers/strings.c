/*
 * strings.c - string literals (.rodata.str1.1) used by printf and copied
 * into the context.
 *
 * Context (64 bytes):
 *   struct strings_ctx {
 *       uint32_t count;      offset 0   in: printed with %u; bit 0 selects
 *                                           the greeting (0: even, 1: odd)
 *       uint32_t length;     offset 4   out: characters copied (no NUL)
 *       char     text[56];   offset 8   out: NUL-terminated greeting
 *   };
 * Returns: the number of characters copied into text:
 *          29 for "Hello from a Femto-Container!" (count even),
 *          33 for "Greetings from an odd invocation!" (count odd).
 * Branch budget: one taken jump per copied character (~33) plus a few
 *          for the selection; default 200 is enough.
 *
 * The greeting is chosen at run time, so the copy is a real byte loop
 * reading .rodata.str1.1 (not constant-folded into stores, no memcpy).
 */
#include <fc_helpers.h>

#define STRINGS_TEXT_LEN 56

struct strings_ctx {
	uint32_t count;
	uint32_t length;
	char text[STRINGS_TEXT_LEN];
};

_Static_assert(sizeof(struct strings_ctx) == 64, "context layout");

int64_t strings(struct strings_ctx *ctx)
{
	const char *greeting = (ctx->count & 1) ? "Greetings from an odd invocation!"
					       : "Hello from a Femto-Container!";
	uint32_t n = 0;

	/* Byte loop on purpose: no memcpy call, no helper. */
	while (n < STRINGS_TEXT_LEN - 1 && greeting[n] != '\0') {
		ctx->text[n] = greeting[n];
		n++;
	}
	ctx->text[n] = '\0';
	ctx->length = n;

	bpf_printf("strings: plain literal format\n");
	bpf_printf("strings: %s, count=%u\n", "literal argument", ctx->count);
	bpf_printf("strings: copied %d chars: '%s' (first %c)\n", (int)n,
		   ctx->text, ctx->text[0]);
	bpf_printf("strings: 100%% done\n");

	return n;
}
