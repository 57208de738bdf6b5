/*
 * counter.cpp - C++ container: a class template with inline members.
 *
 * Context (16 bytes):
 *   struct counter_ctx {
 *       uint32_t step;      offset 0    in: amount to add (0 is treated as 1)
 *       uint32_t limit;     offset 4    in: wrap to 0 when the count
 *                                           would exceed limit (0 = no limit)
 *       uint32_t count;     offset 8    out: count after this call
 *       uint32_t calls;     offset 12   out: number of calls so far
 *   };
 * State: local store keys 0x10 (count) and 0x11 (calls) persist across
 *        calls (fetched in the constructor, stored in the destructor).
 * Returns: the new count.
 * Branch budget: < 10 taken jumps (default 200 is plenty).
 *
 * Compile with clang++ ... -fno-exceptions -fno-rtti. The entry point is
 * extern "C" so its symbol is `counter`; everything else lives in an
 * anonymous namespace (internal linkage, no weak/COMDAT symbols) and is
 * inlined. No constructors run at load time (no .init_array).
 */
#include <fc_helpers.h>

struct counter_ctx {
	uint32_t step;
	uint32_t limit;
	uint32_t count;
	uint32_t calls;
};

static_assert(sizeof(counter_ctx) == 16, "context layout");

namespace {

/* A uint32_t-backed value kept in the local store under key Key. */
template <typename T, uint32_t Key> class Persistent {
public:
	Persistent()
	{
		uint32_t raw = 0;
		bpf_fetch_local(Key, &raw);
		value_ = static_cast<T>(raw);
	}
	~Persistent() { bpf_store_local(Key, static_cast<uint32_t>(value_)); }

	Persistent(const Persistent &) = delete;
	Persistent &operator=(const Persistent &) = delete;

	T get() const { return value_; }
	void set(T v) { value_ = v; }

	Persistent &operator+=(T delta)
	{
		value_ += delta;
		return *this;
	}

private:
	T value_;
};

template <typename T> constexpr T max_of(T a, T b) { return a > b ? a : b; }

class Counter {
public:
	explicit Counter(uint32_t limit) : limit_(limit) {}

	uint32_t advance(uint32_t step)
	{
		calls_ += 1;
		step = max_of<uint32_t>(step, 1);
		uint32_t next = count_.get() + step;
		if (limit_ != 0 && next > limit_)
			next = 0;
		count_.set(next);
		return next;
	}

	uint32_t calls() const { return calls_.get(); }

private:
	uint32_t limit_;
	Persistent<uint32_t, 0x10> count_;
	Persistent<uint32_t, 0x11> calls_;
};

} // namespace

extern "C" int64_t counter(counter_ctx *ctx)
{
	Counter c(ctx->limit);
	uint32_t count = c.advance(ctx->step);

	ctx->count = count;
	ctx->calls = c.calls();
	return count;
}
