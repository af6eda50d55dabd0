/* SPDX-License-Identifier: MIT */
#include "vhd-attach/vhd_err.h"

#include <stdarg.h>
#include <stdio.h>

#include "vhd-attach/vhd.h"

void vhd_err_set(char *err, bool keep_first, const char *fmt, ...)
{
	va_list ap;

	if (!err || (keep_first && err[0]))
		return;
	va_start(ap, fmt);
	vsnprintf(err, VHD_ERR_LEN, fmt, ap);
	va_end(ap);
}
