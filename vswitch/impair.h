/* SPDX-License-Identifier: MIT */
/*
 * Link impairment for test labs (issue #6): a per-port egress queue that
 * delays, jitters, drops and rate-limits frames, like Linux's netem. The
 * switch core offers each frame bound for an impaired port with
 * impair_enqueue() and, when impair_next_us() comes due, takes the frames
 * out with impair_dequeue() and sends them. Pure (STYLE.md §4): no system
 * calls; time and the PRNG seed come in as arguments, so runs repeat exactly.
 * All memory is allocated in impair_new(); frames are copied into a ring of
 * preallocated buffers, nothing is allocated per frame.
 *
 * Model, per frame of L bytes offered at time 'now':
 *   - loss: dropped with probability loss_ppm / 1e6 (one PRNG draw);
 *   - delay and jitter: drawn = now + delay + U(-jitter, +jitter), uniform
 *     over whole microseconds;
 *   - FIFO: frames leave in the order they came, never reordered, even with
 *     jitter: due = max(drawn, previous frame's due). This keeps TCP
 *     measurable (no spurious fast retransmits), at the cost of the jitter
 *     distribution being skewed upwards when frames are closer together than
 *     the jitter;
 *   - rate: serialization on a link of rate_bps with no burst: a frame
 *     occupies L * 8 / rate_bps seconds of the link (L counts the Ethernet
 *     frame without preamble, FCS or gap), added after the FIFO step, so
 *     due = max(drawn, previous due) + L * 8 / rate_bps, as netem's rate does.
 *     Serialization times are kept in nanoseconds, so no rounding accumulates
 *     over a stream of frames; due times are rounded up to microseconds.
 * Changing the configuration at run time (impair_set) applies to frames
 * offered afterwards; frames already queued keep their due times, and new
 * frames still leave after them.
 */
#ifndef VSWITCH_IMPAIR_H
#define VSWITCH_IMPAIR_H

#include <stddef.h>
#include <stdint.h>

struct impair;

#define IMPAIR_MAX_DELAY_US  60000000u	/* 60 s, for delay and jitter */
#define IMPAIR_PPM	     1000000u	/* loss_ppm of certain loss (100 %) */
#define IMPAIR_META_MAX	     16u	/* bytes of caller metadata kept with each frame */
#define IMPAIR_MAX_FRAMES    (1u << 20) /* cap on max_frames */
#define IMPAIR_MAX_FRAME_LEN (1u << 20) /* cap on max_frame_len */

/* impair_enqueue(): the frame was dropped by the loss draw (not an error). */
#define IMPAIR_LOST 1

struct impair_conf {
	uint32_t delay_us;  /* mean one-way delay, <= IMPAIR_MAX_DELAY_US */
	uint32_t jitter_us; /* uniform +- around delay_us, <= delay_us */
	uint32_t loss_ppm;  /* loss probability in parts per million, <= IMPAIR_PPM */
	uint64_t rate_bps;  /* link rate in bits per second, 0 = unlimited */
};

/* A frame handed back by impair_dequeue(); every pointer is the engine's. */
struct impair_frame {
	const uint8_t *data; /* the frame's bytes, as offered */
	uint32_t len;	     /* bytes at 'data' */
	const void *meta;    /* the metadata offered with the frame (never NULL) */
	size_t meta_len;     /* bytes at 'meta', <= IMPAIR_META_MAX */
	uint64_t due_us;     /* when the frame was due (same clock as 'now_us') */
};

struct impair_stats {
	uint64_t queued;   /* frames accepted into the queue */
	uint64_t sent;	   /* frames handed out by impair_dequeue() */
	uint64_t lost;	   /* frames dropped by the loss draw */
	uint64_t overflow; /* frames refused because the queue was full (-ENOBUFS) */
	uint64_t oversize; /* frames refused for being too long (-EMSGSIZE) */
	unsigned depth;	   /* frames in the queue now */
};

/*
 * Checks 'c' (borrowed): delay_us and jitter_us <= IMPAIR_MAX_DELAY_US,
 * jitter_us <= delay_us, loss_ppm <= IMPAIR_PPM. Returns 0 or -EINVAL.
 * For profile validation; impair_new() and impair_set() call it too.
 */
int impair_conf_check(const struct impair_conf *c);

/*
 * Whether 'c' (borrowed) changes nothing (all members zero), so the caller
 * may send frames directly instead of through an engine. Returns 1 or 0.
 */
int impair_conf_is_noop(const struct impair_conf *c);

/*
 * Creates an engine configured by 'c' (borrowed) that holds up to
 * 'max_frames' (1..IMPAIR_MAX_FRAMES) frames of up to 'max_frame_len'
 * (1..IMPAIR_MAX_FRAME_LEN) bytes each;
 * 'seed' seeds the PRNG behind loss and jitter (equal seeds, equal draws).
 * Allocates max_frames * max_frame_len bytes of buffers plus a slot per frame
 * at once. Sets '*ret' (the caller owns it; free with impair_free()) on
 * success. Returns 0, -EINVAL for a bad 'c' or sizes out of range, -ENOMEM
 * (also when the buffer size overflows size_t).
 */
int impair_new(struct impair **ret, const struct impair_conf *c, unsigned max_frames,
	       uint32_t max_frame_len, uint64_t seed);

/* Frees 'imp' and every frame still queued. Accepts NULL. */
void impair_free(struct impair *imp);

/*
 * Replaces the configuration of 'imp' with 'c' (borrowed) for frames offered
 * from now on; queued frames keep their due times and order. Returns 0, or
 * -EINVAL for a bad 'c' (the old configuration stays).
 */
int impair_set(struct impair *imp, const struct impair_conf *c);

/* Copies the current configuration of 'imp' into 'c'. */
void impair_get_conf(const struct impair *imp, struct impair_conf *c);

/*
 * Offers one frame of 'len' bytes at 'data' with 'meta_len' bytes of
 * metadata at 'meta' (e.g. a virtio-net header; NULL when 'meta_len' is 0),
 * at time 'now_us' (a monotonic clock, never going back). Both are copied;
 * the caller keeps its buffers. Returns 0 (queued), IMPAIR_LOST (dropped by
 * the loss draw), -ENOBUFS (the queue holds max_frames), or -EMSGSIZE ('len'
 * above max_frame_len, or 'meta_len' above IMPAIR_META_MAX). Loss is drawn
 * before the queue is checked, so a lost frame is never counted as overflow.
 */
int impair_enqueue(struct impair *imp, const void *data, uint32_t len, const void *meta,
		   size_t meta_len, uint64_t now_us);

/*
 * Takes the oldest frame out of 'imp' if it is due at or before 'now_us'.
 * Returns the frame, borrowed until the next impair_enqueue(),
 * impair_dequeue() or impair_free() on 'imp'; or NULL when the queue is empty
 * or its head is not due yet. Call it until NULL to send everything due.
 */
const struct impair_frame *impair_dequeue(struct impair *imp, uint64_t now_us);

/* When the oldest queued frame is due (for the caller's timer), or UINT64_MAX when empty. */
uint64_t impair_next_us(const struct impair *imp);

/* Copies the counters and queue depth of 'imp' into 'st'. */
void impair_get_stats(const struct impair *imp, struct impair_stats *st);

#endif
