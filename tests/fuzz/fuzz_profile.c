/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the profile parser: the input is profile text, given
 * to profile_parse() as a NUL-terminated copy, as profile_load_file() does
 * after it has refused files with NUL bytes. Every parse must end in 0 or
 * -EINVAL (with a message), never a crash, leak or overflow.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vswitch/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[PROFILE_ERR_MAX];
	struct profile_net *net = NULL;
	char *text;
	int r;

	/* Profile files are capped at 1 MiB; bigger inputs only slow the fuzzer. */
	if (size > 65536)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	r = profile_parse(text, "fuzz", &net, err, sizeof(err));
	if (r == 0) {
		struct profile_port port;
		char *kv[] = { "type=tap" };

		/* Exercise the code that reads a parsed profile back. */
		(void)profile_port_from_args(net, "p", kv, 1, &port, err, sizeof(err));
		profile_free(net);
	} else if (r != -EINVAL && r != -ENOMEM) {
		abort();
	} else if (!err[0]) {
		abort(); /* every failure explains itself */
	}
	free(text);
	return 0;
}
