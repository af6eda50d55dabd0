/* SPDX-License-Identifier: MIT */
/*
 * The Internet checksum (RFC 1071) for IPv4 headers, ICMP, UDP and TCP. Pure.
 */
#ifndef VSWITCH_COMMON_CSUM_H
#define VSWITCH_COMMON_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* Adds 'len' bytes at 'p' to the running 32-bit one's-complement sum 'sum'. */
uint32_t csum_add(uint32_t sum, const void *p, size_t len);

/* Folds a running sum to 16 bits and complements it: the value to store (host order). */
uint16_t csum_fold(uint32_t sum);

#endif
