/* SPDX-License-Identifier: MIT */
/*
 * Per-port packet capture to pcap files, for `vswitchctl capture NET PORT
 * FILE [--count N] [--rotate SIZE]` (issue #6). The switch core hands in
 * every frame a port sends or receives, already segmented and with complete
 * checksums; this module writes them with libpcap's dump functions as
 * classic pcap (link type Ethernet, microsecond time stamps), readable by
 * tcpdump, tshark and Wireshark. libpcap stays behind this header (STYLE.md
 * §1): callers see only 'struct capture'.
 *
 * Rotation: with rotate_bytes set, the capture goes to FILE, then FILE.1,
 * FILE.2, ... (a dot and a counter from 1; tcpdump -C writes FILE, FILE1,
 * FILE2 without the dot). A file moves on when the next record would take it
 * past rotate_bytes (file header and record headers included), unless it
 * holds no frame yet, so one frame larger than the limit still gets written,
 * alone. Every file is a complete pcap with its own header; none is deleted.
 * Each frame is flushed to the file as it is written, so `tshark -r` sees it
 * while the capture runs (one write(2) per frame: capture is a lab tool).
 */
#ifndef TAP_CAPTURE_H
#define TAP_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct capture;

#define CAPTURE_DEFAULT_SNAPLEN 65535u	/* snaplen 0 means this */
#define CAPTURE_MAX_SNAPLEN	262144u /* libpcap's and Wireshark's limit for reading */

struct capture_conf {
	const char *path;      /* first file; borrowed for capture_open() (copied) */
	uint64_t max_frames;   /* frames to write before the capture completes, 0 = no limit */
	uint64_t rotate_bytes; /* largest size of one file in bytes, 0 = one file */
	uint32_t snaplen;      /* bytes kept of each frame, 0 = CAPTURE_DEFAULT_SNAPLEN */
};

struct capture_stats {
	uint64_t frames;  /* frames written, all files */
	uint64_t bytes;	  /* their lengths on the wire (before snaplen truncation) */
	unsigned files;	  /* files started (1 + rotations) */
	bool is_done;	  /* the count limit was reached and the capture closed */
	const char *path; /* current (or last) file; the capture's, valid until the next call */
};

/*
 * Starts a capture described by 'c' (borrowed): creates or truncates
 * c->path and writes the pcap file header. Sets '*ret' (the caller owns it;
 * end with capture_close()) on success. Returns 0, -EINVAL (empty path, the
 * path "-" which libpcap takes for stdout, snaplen above
 * CAPTURE_MAX_SNAPLEN), the errno of creating the file (-ENOENT, -EACCES,
 * -EISDIR, ...), -ENOMEM, or -EIO when libpcap fails; the reason is logged
 * once.
 */
int capture_open(struct capture **ret, const struct capture_conf *c);

/*
 * Writes one frame of 'len' bytes at 'data' (borrowed; 'len' may exceed the
 * snaplen, and the file then keeps the first snaplen bytes with the original
 * length) seen at 'ts' (CLOCK_REALTIME; stored to the microsecond), rotating
 * to the next file first if needed. Returns 0; 1 when this frame reached
 * max_frames (it was written, the capture is complete and its file closed;
 * every later call returns 1 and writes nothing); or a negative errno from
 * writing or rotating (-ENOSPC, -EIO, the errno of creating the next file):
 * logged once, after which the capture is stopped and every later call
 * returns the same error.
 */
int capture_write(struct capture *cap, const uint8_t *data, uint32_t len,
		  const struct timespec *ts);

/* Flushes and closes the current file and frees 'cap'. Accepts NULL. */
void capture_close(struct capture *cap);

/* Copies the counters of 'cap' into 'st' (st->path points into 'cap'). */
void capture_get_stats(const struct capture *cap, struct capture_stats *st);

#endif
