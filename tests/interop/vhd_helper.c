/* SPDX-License-Identifier: MIT */
/*
 * Test driver for the VHD interop and crash-safety scripts: writes into an
 * image through libvhd (vhd.h) the way a VM would, so that the scripts can
 * compare the result with qemu-img and libvhdi, or kill the writer and
 * check what survived.
 *
 *   vhd_helper random IMAGE RAW SEED N   N random byte-granular writes into
 *                                        IMAGE and the same into the raw
 *                                        mirror RAW (sized like the disk)
 *   vhd_helper crash IMAGE STATE SEED    endless non-overlapping writes;
 *                                        after each flush the number of
 *                                        writes made durable goes to STATE
 *   vhd_helper verify IMAGE SEED COUNT   checks the first COUNT crash writes
 *   vhd_helper write IMAGE OFFSET FILE   writes FILE's bytes at OFFSET
 *   vhd_helper open IMAGE                opens strictly, reads everything;
 *                                        prints the error on failure
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vhd-attach/vhd.h"

#define SLOT	 (64u << 10)
#define MAX_DATA 60000u

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64*: deterministic across runs, enough for test patterns. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static void fill(uint8_t *buf, size_t len, uint64_t seed)
{
	uint64_t s = seed | 1;

	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(rng_next(&s) >> 56);
}

static int open_img(struct vhd **v, const char *path, unsigned flags)
{
	char err[VHD_ERR_LEN];
	struct vhd_open_opts o = { .flags = flags, .err = err };
	int r = vhd_open(v, path, &o);

	if (r < 0)
		fprintf(stderr, "vhd_helper: '%s': %s\n", path, err[0] ? err : strerror(-r));
	return r;
}

static int cmd_random(const char *img, const char *raw, uint64_t seed, unsigned n)
{
	static uint8_t buf[1u << 20];
	struct vhd *v;
	uint64_t s = seed | 1, size;
	int fd, r = 0;

	if (open_img(&v, img, VHD_OPEN_RDWR) < 0)
		return 1;
	size = vhd_size(v);
	fd = open(raw, O_RDWR);
	if (fd < 0) {
		perror(raw);
		vhd_free(v);
		return 1;
	}
	for (unsigned i = 0; i < n && r == 0; i++) {
		uint64_t len = 1 + rng_next(&s) % sizeof(buf);
		uint64_t off = rng_next(&s) % size;
		unsigned kind = (unsigned)(rng_next(&s) % 4);

		if (len > size - off)
			len = size - off;
		if (kind == 0)
			memset(buf, 0, len); /* zero writes must still hide older data */
		else
			fill(buf, len, rng_next(&s));
		r = vhd_pwrite(v, buf, len, off);
		if (r == 0 && pwrite(fd, buf, len, (off_t)off) != (ssize_t)len)
			r = -EIO;
		if (r == 0 && i % 7 == 3)
			r = vhd_flush(v);
	}
	if (r == 0)
		r = vhd_flush(v);
	close(fd);
	vhd_free(v);
	if (r < 0) {
		fprintf(stderr, "vhd_helper: write failed: %s\n", strerror(-r));
		return 1;
	}
	return 0;
}

/* The i-th crash write: a slot of a permutation, an offset and a length inside it. */
static void crash_write(uint64_t seed, unsigned i, uint64_t n_slots, uint64_t *off, size_t *len)
{
	uint64_t s = (seed ^ (0x9E3779B97F4A7C15ull * (i + 1))) | 1;
	/* Slots are taken as i * a mod n with a odd and n a power of two: never twice. */
	uint64_t slot = (i * 2654435761ull) % n_slots;

	*off = slot * SLOT + rng_next(&s) % 4096;
	*len = 1 + rng_next(&s) % MAX_DATA;
}

static int write_state(const char *state, unsigned count)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", state);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "%u\n", count);
	fflush(f);
	fsync(fileno(f));
	fclose(f);
	return rename(tmp, state) < 0 ? -errno : 0;
}

static int cmd_crash(const char *img, const char *state, uint64_t seed)
{
	static uint8_t buf[MAX_DATA];
	struct vhd *v;
	uint64_t n_slots;
	int r = 0;

	if (open_img(&v, img, VHD_OPEN_RDWR) < 0)
		return 1;
	n_slots = vhd_size(v) / SLOT;
	for (unsigned i = 0; i < n_slots && r == 0; i++) {
		uint64_t off;
		size_t len;

		crash_write(seed, i, n_slots, &off, &len);
		fill(buf, len, seed + i);
		r = vhd_pwrite(v, buf, len, off);
		if (r == 0 && i % 8 == 7) {
			r = vhd_flush(v);
			if (r == 0)
				r = write_state(state, i + 1);
		}
	}
	vhd_free(v);
	return r < 0 ? 1 : 0;
}

static int cmd_verify(const char *img, uint64_t seed, unsigned count)
{
	static uint8_t want[MAX_DATA], got[MAX_DATA];
	struct vhd *v;
	uint64_t n_slots;
	unsigned bad = 0;

	if (open_img(&v, img, 0) < 0)
		return 1;
	n_slots = vhd_size(v) / SLOT;
	for (unsigned i = 0; i < count && i < n_slots; i++) {
		uint64_t off;
		size_t len;

		crash_write(seed, i, n_slots, &off, &len);
		fill(want, len, seed + i);
		if (vhd_pread(v, got, len, off) < 0 || memcmp(want, got, len)) {
			if (bad++ < 5)
				fprintf(stderr,
					"vhd_helper: write %u (offset %llu, %zu bytes) lost\n", i,
					(unsigned long long)off, len);
		}
	}
	vhd_free(v);
	if (bad)
		fprintf(stderr, "vhd_helper: %u of %u flushed writes lost\n", bad, count);
	return bad ? 1 : 0;
}

static int cmd_write(const char *img, uint64_t off, const char *file)
{
	static uint8_t buf[1u << 20];
	struct vhd *v;
	FILE *f = fopen(file, "rb");
	size_t n;
	int r = 0;

	if (!f) {
		perror(file);
		return 1;
	}
	if (open_img(&v, img, VHD_OPEN_RDWR) < 0) {
		fclose(f);
		return 1;
	}
	while (r == 0 && (n = fread(buf, 1, sizeof(buf), f)) > 0) {
		r = vhd_pwrite(v, buf, n, off);
		off += n;
	}
	if (r == 0)
		r = vhd_flush(v);
	fclose(f);
	vhd_free(v);
	if (r < 0)
		fprintf(stderr, "vhd_helper: write failed: %s\n", strerror(-r));
	return r < 0 ? 1 : 0;
}

static int cmd_open(const char *img)
{
	static uint8_t buf[1u << 20];
	struct vhd *v;
	uint64_t size;

	if (open_img(&v, img, 0) < 0)
		return 1;
	size = vhd_size(v);
	for (uint64_t off = 0; off < size; off += sizeof(buf)) {
		size_t n = size - off < sizeof(buf) ? (size_t)(size - off) : sizeof(buf);
		int r = vhd_pread(v, buf, n, off);

		if (r < 0) {
			fprintf(stderr, "vhd_helper: read at %llu: %s\n", (unsigned long long)off,
				strerror(-r));
			vhd_free(v);
			return 1;
		}
	}
	vhd_free(v);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && !strcmp(argv[1], "random"))
		return cmd_random(argv[2], argv[3], strtoull(argv[4], NULL, 0),
				  (unsigned)strtoul(argv[5], NULL, 0));
	if (argc == 5 && !strcmp(argv[1], "crash"))
		return cmd_crash(argv[2], argv[3], strtoull(argv[4], NULL, 0));
	if (argc == 5 && !strcmp(argv[1], "verify"))
		return cmd_verify(argv[2], strtoull(argv[3], NULL, 0),
				  (unsigned)strtoul(argv[4], NULL, 0));
	if (argc == 5 && !strcmp(argv[1], "write"))
		return cmd_write(argv[2], strtoull(argv[3], NULL, 0), argv[4]);
	if (argc == 3 && !strcmp(argv[1], "open"))
		return cmd_open(argv[2]);
	fprintf(stderr, "usage: vhd_helper random|crash|verify|open ...\n");
	return 2;
}
