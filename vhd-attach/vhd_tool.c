/* SPDX-License-Identifier: MIT */
/*
 * The `vhd` command: parses the verb and its options (getopt_long), calls
 * libvhd (vhd.h, vhd_check.h, vhd_ops.h) and prints results for people or,
 * with `info -j`, as JSON. Every failure is one line on stderr:
 * "vhd: VERB: 'PATH': reason". Exit status: 0 success, 1 failure,
 * 2 usage error, 3 `check` found problems it did not repair.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "vhd-attach/vhd.h"
#include "vhd-attach/vhd_check.h"
#include "vhd-attach/vhd_io.h"
#include "vhd-attach/vhd_ops.h"
#include "vhd-attach/vhd_tool.h"

#define EXIT_USAGE    2
#define EXIT_PROBLEMS 3
#define OUT_NULL      100 /* convert -O null: read everything, write nothing */

static const char usage_text[] =
	"Usage: vhd VERB [OPTIONS] ARGS\n"
	"Verbs:\n"
	"  create -t fixed|dynamic|diff [-s SIZE] [-p PARENT] [-b BLOCKSIZE] IMAGE\n"
	"  info [-j] [--lenient] [--size-mode auto|current|chs] IMAGE\n"
	"  check [--repair] [--lenient] [-q] IMAGE\n"
	"  convert [-f raw|vhd] -O raw|fixed|dynamic [-b BLOCKSIZE] [-p] [--lenient]\n"
	"          [--no-parent] [--size-mode auto|current|chs] SOURCE DEST\n"
	"          (DEST '-' = raw to stdout; -O null without DEST = read test)\n"
	"  merge [--force] [--delete] [-p] CHILD               (into its parent)\n"
	"  merge -o NEW [-t fixed|dynamic] [-p] CHILD          (the chain into a new image)\n"
	"  compact [-p] IMAGE\n"
	"  undo enable|commit|discard|keep|disable [--force] IMAGE\n"
	"  mount [--partition N | --plug-only] [--direct] [--read-only] [-j] IMAGE [MOUNTPOINT]\n"
	"  mount --list [-j]\n"
	"  unmount [--commit | --discard] IMAGE|MOUNTPOINT|LOOPDEV | unmount --all\n"
	"  export [--socket PATH | --listen [HOST:]PORT] [--writable] [--name NAME]... IMAGE...\n"
	"Sizes take K, M, G, T suffixes (powers of 1024). 'vhd VERB --help' for one verb.\n"
	"Exit status: 0 ok, 1 failure, 2 usage error, 3 check found problems.\n";

static const char *verb = "vhd";

int vhd_tool_usage(const char *v, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vhd: %s: ", v);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'vhd %s --help')\n", v);
	return EXIT_USAGE;
}

/* A usage error of the verb being run. */
#define usage_error(...) vhd_tool_usage(verb, __VA_ARGS__)

int vhd_tool_fail(const char *path, int r, const char *err)
{
	fprintf(stderr, "vhd: %s: '%s': %s\n", verb, path, err && err[0] ? err : strerror(-r));
	return EXIT_FAILURE;
}

static int parse_size(const char *s, uint64_t *ret)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		return -EINVAL;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	case 't':
	case 'T':
		shift = 40;
		break;
	case '\0':
		break;
	default:
		return -EINVAL;
	}
	if (*end) {
		end++;
		if (*end == 'i' || *end == 'I')
			end++;
		if (*end == 'b' || *end == 'B')
			end++;
	}
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -EINVAL;
	*ret = (uint64_t)v << shift;
	return 0;
}

static int parse_size_mode(const char *s, enum vhd_size_mode *ret)
{
	if (!strcmp(s, "auto"))
		*ret = VHD_SIZE_AUTO;
	else if (!strcmp(s, "current"))
		*ret = VHD_SIZE_CURRENT;
	else if (!strcmp(s, "chs"))
		*ret = VHD_SIZE_CHS;
	else
		return -EINVAL;
	return 0;
}

static void bar_update(void *ctx, uint64_t done, uint64_t total)
{
	struct vhd_tool_bar *b = ctx;
	int pm = total ? (int)(done * 1000 / total) : 1000;

	if (pm == b->last)
		return;
	b->last = pm;
	fprintf(stderr, "\r    %s%s(%d.%d/100%%)", b->label ? b->label : "", b->label ? " " : "",
		pm / 10, pm % 10);
	if (pm == 1000)
		fputc('\n', stderr);
	fflush(stderr);
}

void vhd_tool_set_progress(struct vhd_ops_opts *o, bool want, struct vhd_tool_bar *b)
{
	b->last = -1;
	if (want && isatty(STDERR_FILENO)) {
		o->progress = bar_update;
		o->ctx = b;
	}
}

static const char *type_name(uint32_t t)
{
	switch (t) {
	case VHD_TYPE_FIXED:
		return "fixed";
	case VHD_TYPE_DYNAMIC:
		return "dynamic";
	case VHD_TYPE_DIFF:
		return "differencing";
	default:
		return "unknown";
	}
}

static const char *link_name(enum vhd_link l)
{
	static const char *const names[] = { "none",	   "ok",      "timestamp-differs",
					     "not-opened", "missing", "uuid-mismatch",
					     "loop",	   "broken" };

	return (unsigned)l < sizeof(names) / sizeof(names[0]) ? names[l] : "unknown";
}

static const char *plat_name(uint32_t code)
{
	switch (code) {
	case VHD_PLAT_W2RU:
		return "W2ru";
	case VHD_PLAT_W2KU:
		return "W2ku";
	case VHD_PLAT_WI2R:
		return "Wi2r";
	case VHD_PLAT_WI2K:
		return "Wi2k";
	case VHD_PLAT_MACX:
		return "MacX";
	case VHD_PLAT_MAC:
		return "Mac";
	case 0:
		return "name";
	default:
		return "unknown";
	}
}

static void fmt_uuid(const uint8_t *u, char *out)
{
	sprintf(out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0],
		u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
		u[14], u[15]);
}

static void fmt_creator(const uint8_t *app, char *out)
{
	for (int i = 0; i < 4; i++)
		out[i] = app[i] >= 0x20 && app[i] < 0x7F ? (char)app[i] : ' ';
	out[4] = '\0';
	for (int i = 3; i >= 0 && out[i] == ' '; i--)
		out[i] = '\0';
}

static void fmt_time(uint32_t ts, char *out, size_t cap)
{
	time_t t = (time_t)ts + VHD_TIME_EPOCH;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, cap, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

void vhd_tool_json_str(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static const char *warn_text(unsigned bit)
{
	switch (bit) {
	case VHD_WARN_FOOTER_CSUM:
		return "footer checksum mismatch";
	case VHD_WARN_HEADER_CSUM:
		return "dynamic header checksum mismatch";
	case VHD_WARN_TAIL_BAD:
		return "footer at the end damaged; copy at offset 0 in use";
	case VHD_WARN_COPY_BAD:
		return "footer copy at offset 0 missing or different";
	case VHD_WARN_BAT_DROPPED:
		return "BAT entries past the end of the file ignored";
	case VHD_WARN_SHORT_FOOTER:
		return "511-byte footer";
	default:
		return "unknown";
	}
}

static void info_one(struct vhd *v, bool json, int depth)
{
	const struct vhd_footer *f = vhd_footer(v);
	const struct vhd_header *h = vhd_header(v);
	struct vhd_parent_ref refs[VHD_N_LOCATORS + 1];
	char uuid[40], puuid[40], creator[8], when[40], os[8];
	uint32_t n_alloc = 0;
	int n_refs = vhd_parent_refs(v, refs, VHD_N_LOCATORS + 1);
	unsigned w = vhd_warnings(v);
	bool first;

	fmt_uuid(f->uuid, uuid);
	fmt_creator(f->creator_app, creator);
	fmt_time(f->timestamp, when, sizeof(when));
	snprintf(os, sizeof(os), "%c%c%c%c", (f->creator_os >> 24) & 0x7F ?: ' ',
		 (f->creator_os >> 16) & 0x7F ?: ' ', (f->creator_os >> 8) & 0x7F ?: ' ',
		 f->creator_os & 0x7F ?: ' ');
	for (uint32_t i = 0; i < vhd_bat_len(v); i++)
		n_alloc += vhd_bat_get(v, i) != VHD_BAT_UNUSED;
	if (h)
		fmt_uuid(h->parent_uuid, puuid);
	if (json) {
		printf("%s{\"path\": ", depth ? ", " : "");
		vhd_tool_json_str(vhd_path(v));
		printf(", \"type\": \"%s\", \"virtual_size\": %" PRIu64
		       ", \"current_size\": %" PRIu64 ", \"original_size\": %" PRIu64
		       ", \"chs_size\": %" PRIu64,
		       type_name(f->type), vhd_size(v), f->cur_size, f->orig_size,
		       vhd_fmt_chs_size(f));
		printf(", \"geometry\": {\"cylinders\": %u, \"heads\": %u, \"sectors\": %u}",
		       f->cylinders, f->heads, f->spt);
		printf(", \"creator\": ");
		vhd_tool_json_str(creator);
		printf(", \"creator_version\": \"%u.%u\", \"creator_os\": ", f->creator_ver >> 16,
		       f->creator_ver & 0xFFFF);
		vhd_tool_json_str(os);
		printf(", \"timestamp\": \"%s\", \"uuid\": \"%s\", \"saved_state\": %s", when, uuid,
		       f->saved_state ? "true" : "false");
		printf(", \"footer\": \"%s\"", vhd_footer_source(v) == VHD_FOOTER_TAIL ? "tail"
					       : vhd_footer_source(v) == VHD_FOOTER_TAIL511
						       ? "tail511"
						       : "copy");
		if (h)
			printf(", \"block_size\": %u, \"bat_entries\": %u, \"allocated_blocks\": "
			       "%u",
			       h->block_size, h->max_entries, n_alloc);
		printf(", \"warnings\": [");
		first = true;
		for (unsigned bit = 1; bit <= VHD_WARN_SHORT_FOOTER; bit <<= 1) {
			if (!(w & bit))
				continue;
			printf("%s", first ? "" : ", ");
			vhd_tool_json_str(warn_text(bit));
			first = false;
		}
		printf("]");
		if (f->type == VHD_TYPE_DIFF) {
			printf(", \"parent_uuid\": \"%s\", \"parent_locators\": [", puuid);
			for (int i = 0; i < n_refs; i++) {
				printf("%s{\"platform\": \"%s\", \"path\": ", i ? ", " : "",
				       plat_name(refs[i].code));
				vhd_tool_json_str(refs[i].path);
				printf("}");
			}
			printf("], \"link\": \"%s\", \"link_reason\": ",
			       link_name(vhd_link_state(v)));
			vhd_tool_json_str(vhd_link_reason(v));
			printf(", \"parent_path\": ");
			vhd_tool_json_str(vhd_parent_path(v));
		}
		printf("}");
		return;
	}
	printf("%s%s\n", depth ? "\n" : "", vhd_path(v));
	printf("  type:           %s\n", type_name(f->type));
	printf("  virtual size:   %" PRIu64 " bytes (%.2f MiB)\n", vhd_size(v),
	       vhd_size(v) / 1048576.0);
	printf("  current size:   %" PRIu64 " bytes\n", f->cur_size);
	printf("  original size:  %" PRIu64 " bytes\n", f->orig_size);
	printf("  geometry:       %u/%u/%u (C/H/S, %" PRIu64 " bytes)\n", f->cylinders, f->heads,
	       f->spt, vhd_fmt_chs_size(f));
	printf("  creator:        '%s' %u.%u on '%s'\n", creator, f->creator_ver >> 16,
	       f->creator_ver & 0xFFFF, os);
	printf("  created:        %s\n", when);
	printf("  unique id:      %s\n", uuid);
	printf("  saved state:    %s\n", f->saved_state ? "yes" : "no");
	if (h) {
		printf("  block size:     %u bytes\n", h->block_size);
		printf("  blocks:         %u of %u allocated\n", n_alloc, h->max_entries);
	}
	for (unsigned bit = 1; bit <= VHD_WARN_SHORT_FOOTER; bit <<= 1)
		if (w & bit)
			printf("  warning:        %s\n", warn_text(bit));
	if (f->type == VHD_TYPE_DIFF) {
		printf("  parent id:      %s\n", puuid);
		for (int i = 0; i < n_refs; i++)
			printf("  parent ref:     %-4s %s%s\n", plat_name(refs[i].code),
			       refs[i].path, refs[i].status ? " (undecodable)" : "");
		printf("  parent link:    %s%s%s%s%s\n", link_name(vhd_link_state(v)),
		       vhd_parent_path(v)[0] ? " -> " : "", vhd_parent_path(v),
		       vhd_link_reason(v)[0] ? ": " : "", vhd_link_reason(v));
	}
}

static int cmd_info(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
					      { "lenient", no_argument, NULL, 'l' },
					      { "size-mode", required_argument, NULL, 'm' },
					      { "help", no_argument, NULL, 'h' },
					      { 0 } };
	char err[VHD_ERR_LEN];
	struct vhd_open_opts oo = { .flags = VHD_OPEN_KEEP_BROKEN, .err = err };
	struct vhd *v;
	bool json = false;
	int c, r, depth = 0;

	while ((c = getopt_long(argc, argv, "jlm:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'l':
			oo.flags |= VHD_OPEN_LENIENT;
			break;
		case 'm':
			if (parse_size_mode(optarg, &oo.size_mode) < 0)
				return usage_error("bad size mode '%s'", optarg);
			break;
		case 'h':
			printf("Usage: vhd info [-j|--json] [--lenient] [--size-mode "
			       "auto|current|chs] IMAGE\n"
			       "Shows type, sizes, geometry, creator, unique id and the parent "
			       "chain.\n");
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1)
		return usage_error("%s", "expects one IMAGE");
	r = vhd_open(&v, argv[optind], &oo);
	if (r < 0)
		return vhd_tool_fail(argv[optind], r, err);
	if (json)
		printf("{\"chain\": [");
	for (struct vhd *p = v; p; p = vhd_parent(p))
		info_one(p, json, depth++);
	if (json)
		printf("]}\n");
	/* The chain was shown as far as it goes; a broken link still fails the command. */
	r = 0;
	for (struct vhd *p = v; p && !r; p = vhd_parent(p)) {
		enum vhd_link l = vhd_link_state(p);

		if (l >= VHD_LINK_MISSING) {
			fflush(stdout);
			r = vhd_tool_fail(vhd_path(p), -ENOLINK, vhd_link_reason(p));
		}
	}
	vhd_free(v);
	return r;
}

static void check_report(void *ctx, enum vhd_check_level lvl, const char *msg)
{
	static const char *const tag[] = { "warning", "error", "repaired" };
	bool quiet = *(bool *)ctx;

	if (quiet && lvl == VHD_CHECK_WARN)
		return;
	printf("%s: %s\n", tag[lvl], msg);
}

static int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = { { "repair", no_argument, NULL, 'r' },
					      { "lenient", no_argument, NULL, 'l' },
					      { "quiet", no_argument, NULL, 'q' },
					      { "help", no_argument, NULL, 'h' },
					      { 0 } };
	bool quiet = false;
	struct vhd_check_opts o = { .report = check_report, .ctx = &quiet };
	struct vhd_check_result res;
	int c, r;

	while ((c = getopt_long(argc, argv, "rlqh", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			o.repair = true;
			break;
		case 'l':
			o.lenient = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			printf("Usage: vhd check [--repair] [--lenient] [-q] IMAGE\n"
			       "Checks footers, header, BAT, bitmaps, locators and the parent "
			       "link.\n"
			       "Exit 0: no errors; 3: errors remain.\n");
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1)
		return usage_error("%s", "expects one IMAGE");
	r = vhd_check(argv[optind], &o, &res);
	if (r < 0)
		return vhd_tool_fail(argv[optind], r, NULL);
	if (!quiet || res.n_errors)
		printf("%s: %u error(s), %u warning(s), %u repaired, %u block(s) allocated\n",
		       argv[optind], res.n_errors, res.n_warnings, res.n_repaired, res.n_blocks);
	if (res.n_errors) {
		fprintf(stderr, "vhd: check: '%s': %u problem(s) found\n", argv[optind],
			res.n_errors);
		return EXIT_PROBLEMS;
	}
	return 0;
}

static int cmd_create(int argc, char **argv)
{
	static const struct option opts[] = { { "type", required_argument, NULL, 't' },
					      { "size", required_argument, NULL, 's' },
					      { "parent", required_argument, NULL, 'p' },
					      { "block-size", required_argument, NULL, 'b' },
					      { "help", no_argument, NULL, 'h' },
					      { 0 } };
	char err[VHD_ERR_LEN];
	struct vhd_create_opts o = { .err = err };
	uint64_t v;
	int c, r;

	while ((c = getopt_long(argc, argv, "t:s:p:b:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (!strcmp(optarg, "fixed"))
				o.type = VHD_TYPE_FIXED;
			else if (!strcmp(optarg, "dynamic"))
				o.type = VHD_TYPE_DYNAMIC;
			else if (!strcmp(optarg, "diff") || !strcmp(optarg, "differencing"))
				o.type = VHD_TYPE_DIFF;
			else
				return usage_error("bad type '%s' (fixed, dynamic or diff)",
						   optarg);
			break;
		case 's':
			if (parse_size(optarg, &o.size) < 0)
				return usage_error("bad size '%s'", optarg);
			break;
		case 'p':
			o.parent = optarg;
			break;
		case 'b':
			if (parse_size(optarg, &v) < 0 || v > UINT32_MAX)
				return usage_error("bad block size '%s'", optarg);
			o.block_size = (uint32_t)v;
			break;
		case 'h':
			printf("Usage: vhd create -t fixed|dynamic|diff [-s SIZE] [-p PARENT] [-b "
			       "BLOCKSIZE] IMAGE\n"
			       "A differencing image (-t diff) needs -p; its size defaults to the "
			       "parent's.\n");
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1)
		return usage_error("%s", "expects one IMAGE");
	if (!o.type)
		o.type = o.parent ? VHD_TYPE_DIFF : 0;
	if (!o.type)
		return usage_error("%s", "needs -t fixed|dynamic|diff");
	if (o.type == VHD_TYPE_DIFF && !o.parent)
		return usage_error("%s", "a differencing image needs -p PARENT");
	if (o.type != VHD_TYPE_DIFF && o.parent)
		return usage_error("%s", "-p is only for -t diff");
	if (o.type != VHD_TYPE_DIFF && !o.size)
		return usage_error("%s", "needs -s SIZE");
	r = vhd_create(NULL, argv[optind], &o);
	if (r < 0)
		return vhd_tool_fail(argv[optind], r, err);
	return 0;
}

/* Streams the virtual disk to stdout (for "convert ... -"). */
static int dump_stdout(const char *src, const struct vhd_open_opts *oo, bool discard, char *err)
{
	static uint8_t buf[2u << 20];
	struct vhd *v;
	uint64_t size;
	int r;

	r = vhd_open(&v, src, oo);
	if (r < 0)
		return r;
	size = vhd_size(v);
	for (uint64_t off = 0; off < size;) {
		size_t n = size - off < sizeof(buf) ? (size_t)(size - off) : sizeof(buf);
		uint64_t k;

		/* Unallocated stretches are known zero: no read needed. */
		r = vhd_block_status(v, off, n, &k);
		if (r < 0)
			break;
		n = (size_t)k;
		if (r == 0)
			memset(buf, 0, n);
		else if ((r = vhd_pread(v, buf, n, off)) < 0)
			break;
		if (!discard && fwrite(buf, 1, n, stdout) != n) {
			snprintf(err, VHD_ERR_LEN, "write to stdout failed");
			r = -EIO;
			break;
		}
		off += n;
	}
	vhd_free(v);
	if (r >= 0 && fflush(stdout) != 0)
		r = -EIO;
	return r < 0 ? r : 0;
}

static int cmd_convert(int argc, char **argv)
{
	static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
					      { "output", required_argument, NULL, 'O' },
					      { "block-size", required_argument, NULL, 'b' },
					      { "progress", no_argument, NULL, 'p' },
					      { "lenient", no_argument, NULL, 'l' },
					      { "size-mode", required_argument, NULL, 'm' },
					      { "no-parent", no_argument, NULL, 'n' },
					      { "help", no_argument, NULL, 'h' },
					      { 0 } };
	char err[VHD_ERR_LEN] = "";
	struct vhd_ops_opts o = { .err = err };
	enum vhd_in in = VHD_IN_AUTO;
	int out = -1;
	struct vhd_tool_bar b = { 0 };
	bool prog = false;
	uint64_t v;
	int c, r;

	while ((c = getopt_long(argc, argv, "f:O:b:plm:nh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (!strcmp(optarg, "raw"))
				in = VHD_IN_RAW;
			else if (!strcmp(optarg, "vhd") || !strcmp(optarg, "vpc"))
				in = VHD_IN_VHD;
			else
				return usage_error("bad input format '%s' (raw or vhd)", optarg);
			break;
		case 'O':
			if (!strcmp(optarg, "raw"))
				out = VHD_OUT_RAW;
			else if (!strcmp(optarg, "fixed"))
				out = VHD_OUT_FIXED;
			else if (!strcmp(optarg, "dynamic"))
				out = VHD_OUT_DYNAMIC;
			else if (!strcmp(optarg, "null"))
				out = OUT_NULL;
			else
				return usage_error("bad output '%s' (raw, fixed, dynamic or null)",
						   optarg);
			break;
		case 'b':
			if (parse_size(optarg, &v) < 0 || v > UINT32_MAX)
				return usage_error("bad block size '%s'", optarg);
			o.block_size = (uint32_t)v;
			break;
		case 'p':
			prog = true;
			break;
		case 'l':
			o.open_flags |= VHD_OPEN_LENIENT;
			break;
		case 'n':
			o.open_flags |= VHD_OPEN_NO_PARENT;
			break;
		case 'm':
			if (parse_size_mode(optarg, &o.size_mode) < 0)
				return usage_error("bad size mode '%s'", optarg);
			break;
		case 'h':
			printf("Usage: vhd convert [-f raw|vhd] -O raw|fixed|dynamic [-b "
			       "BLOCKSIZE] [-p]\n"
			       "                   [--lenient] [--no-parent] [--size-mode "
			       "auto|current|chs]\n"
			       "                   SOURCE DEST\n"
			       "SOURCE may be a raw file, a block device (a linked disk) or a VHD "
			       "chain.\n"
			       "DEST '-' writes the raw virtual disk to stdout; -O null (no DEST)\n"
			       "reads the whole virtual disk and discards it (a read test).\n");
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (out == OUT_NULL && optind == argc - 1) {
		struct vhd_open_opts oo = { .flags = o.open_flags,
					    .size_mode = o.size_mode,
					    .err = err };

		r = dump_stdout(argv[optind], &oo, true, err);
		return r < 0 ? vhd_tool_fail(argv[optind], r, err) : 0;
	}
	if (optind != argc - 2)
		return usage_error("%s", "expects SOURCE and DEST");
	if (out == OUT_NULL)
		return usage_error("%s", "-O null takes no DEST");
	if (out < 0)
		return usage_error("%s", "needs -O raw|fixed|dynamic");
	if (!strcmp(argv[optind + 1], "-")) {
		struct vhd_open_opts oo = { .flags = o.open_flags,
					    .size_mode = o.size_mode,
					    .err = err };

		if (out != VHD_OUT_RAW)
			return usage_error("%s", "only -O raw can go to stdout");
		r = dump_stdout(argv[optind], &oo, false, err);
		return r < 0 ? vhd_tool_fail(argv[optind], r, err) : 0;
	}
	vhd_tool_set_progress(&o, prog, &b);
	r = vhd_convert(argv[optind], in, argv[optind + 1], (enum vhd_out)out, &o);
	if (r < 0)
		return vhd_tool_fail(argv[optind], r, err);
	return 0;
}

static int cmd_merge(int argc, char **argv)
{
	static const struct option opts[] = { { "force", no_argument, NULL, 'f' },
					      { "delete", no_argument, NULL, 'd' },
					      { "output", required_argument, NULL, 'o' },
					      { "type", required_argument, NULL, 't' },
					      { "progress", no_argument, NULL, 'p' },
					      { "help", no_argument, NULL, 'h' },
					      { 0 } };
	char err[VHD_ERR_LEN] = "";
	struct vhd_ops_opts o = { .err = err };
	const char *out = NULL;
	enum vhd_out type = VHD_OUT_DYNAMIC;
	struct vhd_tool_bar b = { 0 };
	bool prog = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "fdo:t:ph", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			o.force = true;
			break;
		case 'd':
			o.delete_child = true;
			break;
		case 'o':
			out = optarg;
			break;
		case 't':
			if (!strcmp(optarg, "fixed"))
				type = VHD_OUT_FIXED;
			else if (!strcmp(optarg, "dynamic"))
				type = VHD_OUT_DYNAMIC;
			else
				return usage_error("bad type '%s' (fixed or dynamic)", optarg);
			break;
		case 'p':
			prog = true;
			break;
		case 'h':
			printf("Usage: vhd merge [--force] [--delete] [-p] CHILD\n"
			       "       vhd merge -o NEW [-t fixed|dynamic] [-p] CHILD\n"
			       "The first form writes the child's sectors into its parent; it "
			       "refuses\n"
			       "when other images known beside them depend on either, unless "
			       "--force.\n");
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1)
		return usage_error("%s", "expects one CHILD");
	vhd_tool_set_progress(&o, prog, &b);
	if (out)
		r = vhd_convert(argv[optind], VHD_IN_VHD, out, type, &o);
	else
		r = vhd_merge(argv[optind], &o);
	if (r < 0)
		return vhd_tool_fail(argv[optind], r, err);
	return 0;
}

static int cmd_compact(int argc, char **argv)
{
	static const struct option opts[] = { { "progress", no_argument, NULL, 'p' },
					      { "help", no_argument, NULL, 'h' },
					      { 0 } };
	char err[VHD_ERR_LEN] = "";
	struct vhd_ops_opts o = { .err = err };
	struct vhd_tool_bar b = { 0 };
	bool prog = false;
	uint32_t dropped = 0;
	int c, r;

	while ((c = getopt_long(argc, argv, "ph", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			prog = true;
			break;
		case 'h':
			printf("Usage: vhd compact [-p] IMAGE\n"
			       "Rewrites a dynamic or differencing image without all-zero "
			       "blocks.\n");
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1)
		return usage_error("%s", "expects one IMAGE");
	vhd_tool_set_progress(&o, prog, &b);
	r = vhd_compact(argv[optind], &o, &dropped);
	if (r < 0)
		return vhd_tool_fail(argv[optind], r, err);
	if (isatty(STDOUT_FILENO))
		printf("%s: %u block(s) dropped\n", argv[optind], dropped);
	return 0;
}

static int cmd_undo(int argc, char **argv)
{
	static const struct option opts[] = { { "force", no_argument, NULL, 'f' },
					      { "help", no_argument, NULL, 'h' },
					      { 0 } };
	static const char *const ops[] = { "enable", "commit", "discard", "keep", "disable" };
	char err[VHD_ERR_LEN] = "";
	struct vhd_ops_opts o = { .err = err };
	int c, r, op = -1;

	while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			o.force = true;
			break;
		case 'h':
			printf("Usage: vhd undo enable|commit|discard|keep|disable [--force] "
			       "IMAGE\n"
			       "The undo disk is IMAGE.vud, a differencing image beside IMAGE.\n");
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 2)
		return usage_error("%s", "expects an action and IMAGE");
	for (int i = 0; i < 5; i++)
		if (!strcmp(argv[optind], ops[i]))
			op = i;
	if (op < 0)
		return usage_error("unknown undo action '%s'", argv[optind]);
	r = vhd_undo(argv[optind + 1], (enum vhd_undo_op)op, &o);
	if (r < 0)
		return vhd_tool_fail(argv[optind + 1], r, err);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} verbs[] = {
		{ "create", cmd_create },
		{ "info", cmd_info },
		{ "check", cmd_check },
		{ "convert", cmd_convert },
		{ "merge", cmd_merge },
		{ "compact", cmd_compact },
		{ "undo", cmd_undo },
		{ "mount", vhd_tool_mount },
		{ "unmount", vhd_tool_unmount },
		{ "export", vhd_tool_export },
	};

	log_set_prog("vhd");
	if (argc < 2) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(usage_text, stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (!strcmp(argv[1], verbs[i].name)) {
			verb = verbs[i].name;
			return verbs[i].fn(argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "vhd: unknown verb '%s' (see 'vhd --help')\n", argv[1]);
	return EXIT_USAGE;
}
