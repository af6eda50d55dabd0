/* SPDX-License-Identifier: MIT */
/*
 * Inside libvhd only: filling the caller's reason buffer (VHD_ERR_LEN bytes,
 * or NULL when the caller wants none) that the public calls take.
 */
#ifndef VSWITCH_VHD_ERR_H
#define VSWITCH_VHD_ERR_H

#include <stdbool.h>

/*
 * Formats the reason into 'err' (NULL: nothing). With 'keep_first', an
 * 'err' that already holds a reason keeps it: an outer step that fails
 * because an inner one did should not hide the inner, more precise reason.
 */
void vhd_err_set(char *err, bool keep_first, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
