/* SPDX-License-Identifier: MIT */
/*
 * The link impairment engine (impair.h): a FIFO ring of preallocated frame
 * buffers, each with its due time, fed by the switch core on egress to an
 * impaired port and drained by the core's timer. Pure: calls only libc's
 * allocator (in impair_new) and memcpy; the PRNG is splitmix64, seeded by the
 * caller, so tests and lab runs are repeatable.
 */
#include "vswitch/impair.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define IMPAIR_NS_PER_US  1000u
#define IMPAIR_NS_PER_SEC 1000000000u

struct impair_slot {
	uint64_t due_us;	       /* when the frame may leave */
	uint32_t len;		       /* bytes in the slot's buffer */
	uint8_t meta_len;	       /* bytes in 'meta' */
	uint8_t meta[IMPAIR_META_MAX]; /* caller metadata, e.g. a virtio-net header */
};

struct impair {
	struct impair_conf conf;    /* applies to frames offered from now on */
	uint64_t rng;		    /* splitmix64 state */
	uint64_t last_due_ns;	    /* due time of the last frame queued, ns; 0 before any */
	uint64_t tx_rem;	    /* serialization remainder behind last_due_ns, ns * rate_bps */
	unsigned cap;		    /* slots in the ring (max_frames) */
	unsigned head;		    /* index of the oldest queued frame */
	unsigned n;		    /* frames queued */
	uint32_t max_frame_len;	    /* bytes per buffer */
	uint8_t *bufs;		    /* cap * max_frame_len bytes; owned */
	struct impair_frame out;    /* what impair_dequeue() hands out */
	struct impair_stats stats;  /* counters; 'depth' is filled from 'n' on read */
	struct impair_slot slots[]; /* cap entries */
};

/* splitmix64 (Steele, Lea, Flood 2014): full period, good enough for lab draws. */
static uint64_t impair_rand(struct impair *imp)
{
	uint64_t z = (imp->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A draw in [0, 'n'), n <= 2^32; Lemire's multiply-shift, bias below n / 2^32. */
static uint32_t impair_rand_below(struct impair *imp, uint64_t n)
{
	return (uint32_t)(((impair_rand(imp) >> 32) * n) >> 32);
}

static uint64_t impair_sat_add(uint64_t a, uint64_t b)
{
	uint64_t r;

	return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

/*
 * Nanoseconds a frame of 'len' bytes occupies the link (rate_bps > 0),
 * saturated. The fraction of a nanosecond is carried in 'tx_rem' to the next
 * frame, so a stream of frames keeps the exact rate.
 */
static uint64_t impair_tx_ns(struct impair *imp, uint32_t len)
{
	uint64_t rate = imp->conf.rate_bps;
	unsigned __int128 t = (unsigned __int128)len * 8u * IMPAIR_NS_PER_SEC + imp->tx_rem;
	unsigned __int128 ns = t / rate;

	imp->tx_rem = (uint64_t)(t % rate);
	return ns > UINT64_MAX ? UINT64_MAX : (uint64_t)ns;
}

int impair_conf_check(const struct impair_conf *c)
{
	if (c->delay_us > IMPAIR_MAX_DELAY_US || c->jitter_us > IMPAIR_MAX_DELAY_US)
		return -EINVAL;
	if (c->jitter_us > c->delay_us)
		return -EINVAL;
	if (c->loss_ppm > IMPAIR_PPM)
		return -EINVAL;
	return 0;
}

int impair_conf_is_noop(const struct impair_conf *c)
{
	return !c->delay_us && !c->jitter_us && !c->loss_ppm && !c->rate_bps;
}

int impair_new(struct impair **ret, const struct impair_conf *c, unsigned max_frames,
	       uint32_t max_frame_len, uint64_t seed)
{
	struct impair *imp;
	size_t bufs_len, slots_len;
	int r;

	r = impair_conf_check(c);
	if (r < 0)
		return r;
	if (!max_frames || max_frames > IMPAIR_MAX_FRAMES || !max_frame_len ||
	    max_frame_len > IMPAIR_MAX_FRAME_LEN)
		return -EINVAL;
	if (__builtin_mul_overflow((size_t)max_frames, (size_t)max_frame_len, &bufs_len) ||
	    __builtin_mul_overflow((size_t)max_frames, sizeof(struct impair_slot), &slots_len) ||
	    __builtin_add_overflow(slots_len, sizeof(*imp), &slots_len))
		return -ENOMEM;
	imp = calloc(1, slots_len);
	if (!imp)
		return -ENOMEM;
	imp->bufs = malloc(bufs_len);
	if (!imp->bufs) {
		impair_free(imp);
		return -ENOMEM;
	}
	imp->conf = *c;
	imp->rng = seed;
	imp->cap = max_frames;
	imp->max_frame_len = max_frame_len;
	*ret = imp;
	return 0;
}

void impair_free(struct impair *imp)
{
	if (!imp)
		return;
	free(imp->bufs);
	free(imp);
}

int impair_set(struct impair *imp, const struct impair_conf *c)
{
	int r = impair_conf_check(c);

	if (r < 0)
		return r;
	/* The remainder is in units of the old rate. */
	if (c->rate_bps != imp->conf.rate_bps)
		imp->tx_rem = 0;
	imp->conf = *c;
	return 0;
}

void impair_get_conf(const struct impair *imp, struct impair_conf *c)
{
	*c = imp->conf;
}

int impair_enqueue(struct impair *imp, const void *data, uint32_t len, const void *meta,
		   size_t meta_len, uint64_t now_us)
{
	const struct impair_conf *c = &imp->conf;
	struct impair_slot *s;
	uint64_t drawn_us, due_ns;
	unsigned tail;

	if (len > imp->max_frame_len || meta_len > IMPAIR_META_MAX) {
		imp->stats.oversize++;
		return -EMSGSIZE;
	}
	/* Like netem, loss comes first: a lost frame never takes a slot. */
	if (c->loss_ppm && impair_rand_below(imp, IMPAIR_PPM) < c->loss_ppm) {
		imp->stats.lost++;
		return IMPAIR_LOST;
	}
	if (imp->n == imp->cap) {
		imp->stats.overflow++;
		return -ENOBUFS;
	}

	drawn_us = impair_sat_add(now_us, c->delay_us);
	/* jitter_us <= delay_us (impair_conf_check), so this never goes below now_us. */
	if (c->jitter_us)
		drawn_us = drawn_us - c->jitter_us +
			   impair_rand_below(imp, 2 * (uint64_t)c->jitter_us + 1);
	due_ns =
		drawn_us > UINT64_MAX / IMPAIR_NS_PER_US ? UINT64_MAX : drawn_us * IMPAIR_NS_PER_US;
	if (due_ns <= imp->last_due_ns)
		due_ns = imp->last_due_ns;
	else
		imp->tx_rem = 0; /* the link went idle: a partial nanosecond no longer matters */
	if (c->rate_bps)
		due_ns = impair_sat_add(due_ns, impair_tx_ns(imp, len));
	imp->last_due_ns = due_ns;

	tail = (imp->head + imp->n) % imp->cap;
	s = &imp->slots[tail];
	s->due_us = due_ns / IMPAIR_NS_PER_US + (due_ns % IMPAIR_NS_PER_US != 0);
	s->len = len;
	s->meta_len = (uint8_t)meta_len;
	if (meta_len)
		memcpy(s->meta, meta, meta_len);
	if (len)
		memcpy(imp->bufs + (size_t)tail * imp->max_frame_len, data, len);
	imp->n++;
	imp->stats.queued++;
	return 0;
}

const struct impair_frame *impair_dequeue(struct impair *imp, uint64_t now_us)
{
	const struct impair_slot *s;

	if (!imp->n)
		return NULL;
	s = &imp->slots[imp->head];
	if (s->due_us > now_us)
		return NULL;
	imp->out.data = imp->bufs + (size_t)imp->head * imp->max_frame_len;
	imp->out.len = s->len;
	imp->out.meta = s->meta;
	imp->out.meta_len = s->meta_len;
	imp->out.due_us = s->due_us;
	imp->head = (imp->head + 1) % imp->cap;
	imp->n--;
	imp->stats.sent++;
	return &imp->out;
}

uint64_t impair_next_us(const struct impair *imp)
{
	return imp->n ? imp->slots[imp->head].due_us : UINT64_MAX;
}

void impair_get_stats(const struct impair *imp, struct impair_stats *st)
{
	*st = imp->stats;
	st->depth = imp->n;
}
