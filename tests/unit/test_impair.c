/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the link impairment engine (vswitch/impair.c): exact due
 * times for delay and rate, jitter bounds with FIFO order, a seeded loss
 * rate, queue limits and run-time reconfiguration. Pure: the test supplies
 * every time stamp and seed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vswitch/impair.h"

#define SEED 0x5eedf00dull

static struct impair *mk(const struct impair_conf *c, unsigned max_frames, uint32_t max_len)
{
	struct impair *imp = NULL;

	assert_int_equal(impair_new(&imp, c, max_frames, max_len, SEED), 0);
	assert_non_null(imp);
	return imp;
}

/* Offers a frame whose bytes all equal 'tag' (mod 256) and whose meta is 'tag' itself. */
static int offer(struct impair *imp, uint32_t tag, uint32_t len, uint64_t now_us)
{
	uint8_t buf[2048];

	assert_true(len <= sizeof(buf));
	memset(buf, (int)(tag & 0xff), len);
	return impair_enqueue(imp, buf, len, &tag, sizeof(tag), now_us);
}

static void check_frame(const struct impair_frame *f, uint32_t tag, uint32_t len)
{
	uint32_t meta;

	assert_non_null(f);
	assert_int_equal(f->len, len);
	for (uint32_t i = 0; i < len; i++)
		assert_int_equal(f->data[i], tag & 0xff);
	assert_int_equal(f->meta_len, sizeof(meta));
	memcpy(&meta, f->meta, sizeof(meta));
	assert_int_equal(meta, tag);
}

static void test_empty(void **state)
{
	struct impair_conf c = { .delay_us = 1000 };
	struct impair *imp = mk(&c, 4, 64);
	struct impair_stats st;

	(void)state;
	assert_true(impair_next_us(imp) == UINT64_MAX);
	assert_null(impair_dequeue(imp, UINT64_MAX));
	impair_get_stats(imp, &st);
	assert_int_equal(st.queued, 0);
	assert_int_equal(st.sent, 0);
	assert_int_equal(st.depth, 0);
	impair_free(imp);
	impair_free(NULL);
}

static void test_conf_check(void **state)
{
	struct impair_conf ok = { .delay_us = IMPAIR_MAX_DELAY_US,
				  .jitter_us = IMPAIR_MAX_DELAY_US,
				  .loss_ppm = IMPAIR_PPM,
				  .rate_bps = 1 };
	struct impair_conf c;
	struct impair *imp = (struct impair *)&c; /* must stay untouched on failure */

	(void)state;
	assert_int_equal(impair_conf_check(&ok), 0);
	c = ok;
	c.delay_us++;
	assert_int_equal(impair_conf_check(&c), -EINVAL);
	c = ok;
	c.delay_us = 10;
	c.jitter_us = 11;
	assert_int_equal(impair_conf_check(&c), -EINVAL);
	c = ok;
	c.loss_ppm++;
	assert_int_equal(impair_conf_check(&c), -EINVAL);

	c = (struct impair_conf){ 0 };
	assert_int_equal(impair_conf_is_noop(&c), 1);
	c.rate_bps = 1;
	assert_int_equal(impair_conf_is_noop(&c), 0);

	c = ok;
	c.delay_us = 5;
	c.jitter_us = 6;
	assert_int_equal(impair_new(&imp, &c, 4, 64, SEED), -EINVAL);
	assert_ptr_equal(imp, (struct impair *)&c);
	assert_int_equal(impair_new(&imp, &ok, 0, 64, SEED), -EINVAL);
	assert_int_equal(impair_new(&imp, &ok, 4, 0, SEED), -EINVAL);
	assert_int_equal(impair_new(&imp, &ok, IMPAIR_MAX_FRAMES + 1, 64, SEED), -EINVAL);
	assert_int_equal(impair_new(&imp, &ok, 4, IMPAIR_MAX_FRAME_LEN + 1, SEED), -EINVAL);
	assert_ptr_equal(imp, (struct impair *)&c);
}

static void test_delay_only(void **state)
{
	struct impair_conf c = { .delay_us = 50000 };
	struct impair *imp = mk(&c, 8, 1514);
	const struct impair_frame *f;
	struct impair_stats st;

	(void)state;
	assert_int_equal(offer(imp, 7, 60, 1000), 0);
	assert_int_equal(offer(imp, 8, 1514, 1001), 0);
	assert_true(impair_next_us(imp) == 51000);
	assert_null(impair_dequeue(imp, 50999));
	f = impair_dequeue(imp, 51000);
	check_frame(f, 7, 60);
	assert_int_equal(f->due_us, 51000);
	assert_true(impair_next_us(imp) == 51001);
	assert_null(impair_dequeue(imp, 51000));
	f = impair_dequeue(imp, 60000);
	check_frame(f, 8, 1514);
	assert_int_equal(f->due_us, 51001);
	assert_true(impair_next_us(imp) == UINT64_MAX);
	assert_null(impair_dequeue(imp, 60000));

	impair_get_stats(imp, &st);
	assert_int_equal(st.queued, 2);
	assert_int_equal(st.sent, 2);
	assert_int_equal(st.lost, 0);
	assert_int_equal(st.overflow, 0);
	assert_int_equal(st.depth, 0);
	impair_free(imp);
}

static void test_no_impairment(void **state)
{
	struct impair_conf c = { 0 };
	struct impair *imp = mk(&c, 2, 64);

	(void)state;
	assert_int_equal(impair_enqueue(imp, "x", 1, NULL, 0, 42), 0);
	assert_true(impair_next_us(imp) == 42);
	const struct impair_frame *f = impair_dequeue(imp, 42);
	assert_non_null(f);
	assert_int_equal(f->len, 1);
	assert_int_equal(f->data[0], 'x');
	assert_int_equal(f->meta_len, 0);
	assert_non_null(f->meta);
	impair_free(imp);
}

/* Frames far apart: each due time is its own draw, inside [delay - jitter, delay + jitter]. */
static void test_jitter_bounds(void **state)
{
	struct impair_conf c = { .delay_us = 20000, .jitter_us = 5000 };
	struct impair *imp = mk(&c, 4, 64);
	uint64_t lo = UINT64_MAX, hi = 0, sum = 0;
	const unsigned n = 10000;

	(void)state;
	for (unsigned i = 0; i < n; i++) {
		uint64_t now = 1000000 + (uint64_t)i * 100000, d;
		const struct impair_frame *f;

		assert_int_equal(offer(imp, i, 64, now), 0);
		d = impair_next_us(imp) - now;
		assert_true(d >= 15000 && d <= 25000);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
		sum += d;
		f = impair_dequeue(imp, now + d);
		check_frame(f, i, 64);
	}
	/* Uniform over 10001 values: 10000 draws reach near both ends and average near the middle.
	 */
	assert_true(lo < 15100);
	assert_true(hi > 24900);
	assert_true(sum / n > 19900 && sum / n < 20100);
	impair_free(imp);
}

/*
 * Frames closer together than the jitter: never reordered, each within its
 * own window (a frame held behind an earlier one waits for a due time inside
 * that earlier, so earlier, window), and many held.
 */
static void test_jitter_fifo(void **state)
{
	struct impair_conf c = { .delay_us = 10000, .jitter_us = 8000 };
	const unsigned n = 1000;
	struct impair *imp = mk(&c, n, 64);
	uint64_t prev = 0;
	unsigned held = 0;

	(void)state;
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(offer(imp, i, 64, (uint64_t)i * 100), 0);
	for (unsigned i = 0; i < n; i++) {
		uint64_t now = (uint64_t)i * 100, due = impair_next_us(imp);
		const struct impair_frame *f;

		assert_true(due >= now + 2000 && due <= now + 18000);
		assert_true(due >= prev);
		if (due == prev)
			held++;
		f = impair_dequeue(imp, due);
		check_frame(f, i, 64);
		assert_int_equal(f->due_us, due);
		prev = due;
	}
	assert_true(held > n / 2);
	assert_null(impair_dequeue(imp, UINT64_MAX));
	impair_free(imp);
}

static unsigned run_loss(uint32_t loss_ppm, uint64_t seed, uint8_t *trace, unsigned n)
{
	struct impair_conf c = { .loss_ppm = loss_ppm };
	struct impair *imp = NULL;
	struct impair_stats st;
	unsigned lost = 0;

	assert_int_equal(impair_new(&imp, &c, 1, 64, seed), 0);
	for (unsigned i = 0; i < n; i++) {
		int r = offer(imp, i, 64, i);

		assert_true(r == 0 || r == IMPAIR_LOST);
		if (trace)
			trace[i] = (uint8_t)r;
		if (r == IMPAIR_LOST)
			lost++;
		else
			check_frame(impair_dequeue(imp, i), i, 64);
	}
	impair_get_stats(imp, &st);
	assert_int_equal(st.lost, lost);
	assert_int_equal(st.queued + st.lost, n);
	assert_int_equal(st.sent, st.queued);
	assert_int_equal(st.overflow, 0);
	impair_free(imp);
	return lost;
}

static void test_loss(void **state)
{
	static uint8_t a[100000], b[100000];
	const unsigned n = 100000;
	unsigned lost;

	(void)state;
	/* Binomial(100000, 0.1): sd is 95 frames; +-300 is over 3 sd, and the seed fixes the draw.
	 */
	lost = run_loss(100000, SEED, a, n);
	assert_true(lost >= 9700 && lost <= 10300);
	/* Same seed, same frames lost. */
	assert_int_equal(run_loss(100000, SEED, b, n), lost);
	assert_memory_equal(a, b, n);
	/* 0.5 % */
	lost = run_loss(5000, SEED, NULL, n);
	assert_true(lost >= 410 && lost <= 590);
	assert_int_equal(run_loss(0, SEED, NULL, 1000), 0);
	assert_int_equal(run_loss(IMPAIR_PPM, SEED, NULL, 1000), 1000);
}

static void test_rate(void **state)
{
	struct impair_conf c = { .rate_bps = 1000000 };
	struct impair *imp = mk(&c, 16, 1514);
	const struct impair_frame *f;

	(void)state;
	/* 1250 bytes = 10000 bits = 10 ms at 1 Mbit/s, back to back. */
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(offer(imp, i, 1250, 1000), 0);
	for (unsigned i = 0; i < 5; i++) {
		assert_true(impair_next_us(imp) == 1000 + 10000 * (i + 1));
		assert_null(impair_dequeue(imp, 1000 + 10000 * (i + 1) - 1));
		f = impair_dequeue(imp, 1000 + 10000 * (i + 1));
		check_frame(f, i, 1250);
	}
	/* An idle link: only the frame's own serialization time. */
	assert_int_equal(offer(imp, 9, 1250, 500000), 0);
	assert_true(impair_next_us(imp) == 510000);
	check_frame(impair_dequeue(imp, 510000), 9, 1250);

	/* Delay plus rate: serialization after the delay, as netem. */
	c.delay_us = 30000;
	assert_int_equal(impair_set(imp, &c), 0);
	assert_int_equal(offer(imp, 1, 125, 1000000), 0);
	assert_int_equal(offer(imp, 2, 125, 1000000), 0);
	check_frame(impair_dequeue(imp, 1031000), 1, 125);
	assert_null(impair_dequeue(imp, 1031999));
	check_frame(impair_dequeue(imp, 1032000), 2, 125);
	impair_free(imp);
}

/* 1 byte at 3 Mbit/s is 2666.67 ns: 3000 such frames take exactly 8 ms, no drift. */
static void test_rate_no_drift(void **state)
{
	struct impair_conf c = { .rate_bps = 3000000 };
	struct impair *imp = mk(&c, 3000, 1);
	uint64_t due = 0;

	(void)state;
	for (unsigned i = 0; i < 3000; i++)
		assert_int_equal(impair_enqueue(imp, "z", 1, NULL, 0, 0), 0);
	for (unsigned i = 0; i < 3000; i++) {
		const struct impair_frame *f = impair_dequeue(imp, UINT64_MAX - 1);

		assert_non_null(f);
		assert_true(f->due_us >= due);
		due = f->due_us;
		/* i + 1 frames take (i + 1) * 8000 / 3 ns, rounded up to the microsecond. */
		assert_int_equal(due, ((uint64_t)(i + 1) * 8000 / 3 + 999) / 1000);
	}
	assert_int_equal(due, 8000);
	impair_free(imp);
}

static void test_queue_full(void **state)
{
	struct impair_conf c = { .delay_us = 1000 };
	struct impair *imp = mk(&c, 4, 64);
	struct impair_stats st;

	(void)state;
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(offer(imp, i, 64, 0), 0);
	assert_int_equal(offer(imp, 4, 64, 0), -ENOBUFS);
	assert_int_equal(offer(imp, 5, 64, 0), -ENOBUFS);
	impair_get_stats(imp, &st);
	assert_int_equal(st.queued, 4);
	assert_int_equal(st.overflow, 2);
	assert_int_equal(st.depth, 4);

	/* A freed slot takes the next frame; the ring wraps with contents intact. */
	check_frame(impair_dequeue(imp, 1000), 0, 64);
	assert_int_equal(offer(imp, 6, 64, 10), 0);
	assert_int_equal(offer(imp, 7, 64, 10), -ENOBUFS);
	check_frame(impair_dequeue(imp, 1000), 1, 64);
	check_frame(impair_dequeue(imp, 1000), 2, 64);
	check_frame(impair_dequeue(imp, 1000), 3, 64);
	assert_null(impair_dequeue(imp, 1009));
	check_frame(impair_dequeue(imp, 1010), 6, 64);
	impair_get_stats(imp, &st);
	assert_int_equal(st.queued, 5);
	assert_int_equal(st.sent, 5);
	assert_int_equal(st.overflow, 3);
	assert_int_equal(st.depth, 0);
	impair_free(imp);
}

static void test_oversize(void **state)
{
	struct impair_conf c = { 0 };
	struct impair *imp = mk(&c, 4, 100);
	uint8_t meta[IMPAIR_META_MAX + 1] = { 0 };
	struct impair_stats st;

	(void)state;
	assert_int_equal(offer(imp, 1, 101, 0), -EMSGSIZE);
	assert_int_equal(offer(imp, 2, 100, 0), 0);
	assert_int_equal(impair_enqueue(imp, meta, 10, meta, sizeof(meta), 0), -EMSGSIZE);
	assert_int_equal(impair_enqueue(imp, meta, 10, meta, IMPAIR_META_MAX, 0), 0);
	impair_get_stats(imp, &st);
	assert_int_equal(st.oversize, 2);
	assert_int_equal(st.queued, 2);
	assert_int_equal(st.depth, 2);
	check_frame(impair_dequeue(imp, 0), 2, 100);
	assert_int_equal(impair_dequeue(imp, 0)->meta_len, IMPAIR_META_MAX);
	impair_free(imp);
}

static void test_set_while_queued(void **state)
{
	struct impair_conf c = { .delay_us = 100000 }, got;
	struct impair_conf bad = { .delay_us = 1, .jitter_us = 2 };
	struct impair *imp = mk(&c, 8, 64);

	(void)state;
	assert_int_equal(offer(imp, 1, 64, 0), 0);
	c.delay_us = 10000;
	assert_int_equal(impair_set(imp, &c), 0);
	assert_int_equal(impair_set(imp, &bad), -EINVAL);
	impair_get_conf(imp, &got);
	assert_int_equal(got.delay_us, 10000);
	/* Queued frame keeps its time; a new one would be due at 11000 but waits behind it. */
	assert_int_equal(offer(imp, 2, 64, 1000), 0);
	assert_true(impair_next_us(imp) == 100000);
	check_frame(impair_dequeue(imp, 100000), 1, 64);
	assert_true(impair_next_us(imp) == 100000);
	check_frame(impair_dequeue(imp, 100000), 2, 64);
	/* Later frames get the new delay. */
	assert_int_equal(offer(imp, 3, 64, 200000), 0);
	assert_true(impair_next_us(imp) == 210000);

	/* A longer delay holds new frames, queued ones keep theirs. */
	c.delay_us = 500000;
	assert_int_equal(impair_set(imp, &c), 0);
	assert_int_equal(offer(imp, 4, 64, 200001), 0);
	check_frame(impair_dequeue(imp, 210000), 3, 64);
	assert_true(impair_next_us(imp) == 700001);
	impair_free(imp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),	      cmocka_unit_test(test_conf_check),
		cmocka_unit_test(test_delay_only),    cmocka_unit_test(test_no_impairment),
		cmocka_unit_test(test_jitter_bounds), cmocka_unit_test(test_jitter_fifo),
		cmocka_unit_test(test_loss),	      cmocka_unit_test(test_rate),
		cmocka_unit_test(test_rate_no_drift), cmocka_unit_test(test_queue_full),
		cmocka_unit_test(test_oversize),      cmocka_unit_test(test_set_while_queued),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
