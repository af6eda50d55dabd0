/* SPDX-License-Identifier: MIT */
/*
 * Packet capture to pcap files (capture.h). The daemon opens one capture per
 * `vswitchctl capture` request and the core calls capture_write() for each
 * frame of the port; this file calls libpcap's dump functions on a "dead"
 * handle (no device) and libc for creating the files.
 */
#include "tap/capture.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

#define CAPTURE_FILE_HDR_LEN 24u /* struct pcap_file_header */
#define CAPTURE_REC_HDR_LEN  16u /* per-record header in the file */
#define CAPTURE_SUFFIX_MAX   12u /* ".4294967295" and the NUL */

struct capture {
	pcap_t *pcap;	       /* dead handle: link type and snaplen; owned */
	pcap_dumper_t *dump;   /* current file; owned; NULL once done or failed */
	uint64_t max_frames;   /* 0 = no limit */
	uint64_t rotate_bytes; /* 0 = one file */
	uint32_t snaplen;      /* bytes kept per frame */
	uint64_t frames;       /* frames written, all files */
	uint64_t bytes;	       /* wire bytes of those frames */
	uint64_t file_bytes;   /* bytes in the current file, headers included */
	uint64_t file_frames;  /* frames in the current file */
	unsigned files;	       /* files started */
	int err;	       /* sticky negative errno once writing failed, or 0 */
	bool is_done;	       /* max_frames reached */
	size_t base_len;       /* strlen of the first file's path */
	char path[];	       /* current file: base path, then ".N" appended */
};

/*
 * Creates (or truncates) cap->path and starts a pcap file in it. The file is
 * created with open(2) first because libpcap reports failures as text only
 * and its errno is not reliable afterwards; pcap_dump_open() then opens the
 * same, now existing, file.
 */
static int capture_start_file(struct capture *cap)
{
	int fd, r;

	fd = open(cap->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = -errno;
		return log_error_errno(r, "capture '%s': cannot create file, capture stopped",
				       cap->path);
	}
	(void)close(fd);
	cap->dump = pcap_dump_open(cap->pcap, cap->path);
	if (!cap->dump) {
		log_error("capture '%s': %s, capture stopped", cap->path, pcap_geterr(cap->pcap));
		return -EIO;
	}
	/* The header on disk at once: a reader opening the file now sees a valid pcap. */
	if (pcap_dump_flush(cap->dump) < 0) {
		r = errno ? -errno : -EIO;
		pcap_dump_close(cap->dump);
		cap->dump = NULL;
		return log_error_errno(r, "capture '%s': cannot write header, capture stopped",
				       cap->path);
	}
	cap->files++;
	cap->file_bytes = CAPTURE_FILE_HDR_LEN;
	cap->file_frames = 0;
	return 0;
}

/* Closes the current file and starts FILE.<files>. */
static int capture_rotate(struct capture *cap)
{
	pcap_dump_close(cap->dump);
	cap->dump = NULL;
	snprintf(cap->path + cap->base_len, CAPTURE_SUFFIX_MAX, ".%u", cap->files);
	return capture_start_file(cap);
}

int capture_open(struct capture **ret, const struct capture_conf *c)
{
	struct capture *cap;
	size_t len;
	int r;

	if (!c->path || !*c->path || !strcmp(c->path, "-"))
		return log_error_errno(-EINVAL, "capture: bad file name '%s', capture not started",
				       c->path ? c->path : "");
	if (c->snaplen > CAPTURE_MAX_SNAPLEN)
		return log_error_errno(-EINVAL,
				       "capture '%s': snaplen %u above %u, capture not started",
				       c->path, c->snaplen, CAPTURE_MAX_SNAPLEN);
	len = strlen(c->path);
	cap = calloc(1, sizeof(*cap) + len + CAPTURE_SUFFIX_MAX);
	if (!cap)
		return log_error_errno(-ENOMEM, "capture '%s': capture not started", c->path);
	memcpy(cap->path, c->path, len + 1);
	cap->base_len = len;
	cap->max_frames = c->max_frames;
	cap->rotate_bytes = c->rotate_bytes;
	cap->snaplen = c->snaplen ? c->snaplen : CAPTURE_DEFAULT_SNAPLEN;
	cap->pcap = pcap_open_dead(DLT_EN10MB, (int)cap->snaplen);
	if (!cap->pcap) {
		r = log_error_errno(-ENOMEM, "capture '%s': capture not started", c->path);
		goto fail;
	}
	r = capture_start_file(cap);
	if (r < 0)
		goto fail;
	*ret = cap;
	return 0;
fail:
	capture_close(cap);
	return r;
}

int capture_write(struct capture *cap, const uint8_t *data, uint32_t len, const struct timespec *ts)
{
	struct pcap_pkthdr h;
	uint32_t caplen = len < cap->snaplen ? len : cap->snaplen;
	int r;

	if (cap->is_done)
		return 1;
	if (cap->err)
		return cap->err;
	if (cap->rotate_bytes && cap->file_frames &&
	    cap->file_bytes + CAPTURE_REC_HDR_LEN + caplen > cap->rotate_bytes) {
		r = capture_rotate(cap);
		if (r < 0) {
			cap->err = r;
			return r;
		}
	}

	h.ts.tv_sec = ts->tv_sec;
	h.ts.tv_usec = ts->tv_nsec / 1000;
	h.caplen = caplen;
	h.len = len;
	/* pcap_dump() reports nothing: a failed fwrite shows in errno and the stream's error flag.
	 */
	errno = 0;
	pcap_dump((u_char *)cap->dump, &h, data);
	if (pcap_dump_flush(cap->dump) < 0 || ferror(pcap_dump_file(cap->dump))) {
		r = errno ? -errno : -EIO;
		cap->err = log_error_errno(r, "capture '%s': write failed, capture stopped",
					   cap->path);
		pcap_dump_close(cap->dump);
		cap->dump = NULL;
		return r;
	}
	cap->frames++;
	cap->bytes += len;
	cap->file_frames++;
	cap->file_bytes += CAPTURE_REC_HDR_LEN + caplen;

	if (cap->max_frames && cap->frames >= cap->max_frames) {
		pcap_dump_close(cap->dump);
		cap->dump = NULL;
		cap->is_done = true;
		return 1;
	}
	return 0;
}

void capture_close(struct capture *cap)
{
	if (!cap)
		return;
	/* pcap_dump_close() flushes and fclose()s; a last failure has nobody left to tell. */
	if (cap->dump)
		pcap_dump_close(cap->dump);
	if (cap->pcap)
		pcap_close(cap->pcap);
	free(cap);
}

void capture_get_stats(const struct capture *cap, struct capture_stats *st)
{
	st->frames = cap->frames;
	st->bytes = cap->bytes;
	st->files = cap->files;
	st->is_done = cap->is_done;
	st->path = cap->path;
}
