/* CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, init and final xor 0xFFFFFFFF), the
 * one zlib.crc32() computes: crc32("123456789") = 0xCBF43926. */
#ifndef GUEST_CRC32_H
#define GUEST_CRC32_H

#include <stddef.h>
#include <stdint.h>

#define CRC32_POLY 0xEDB88320u

/* Table-driven; crc32_update(0, p, n) is the CRC of p[0..n), and feeding a buffer in pieces
 * (passing the previous result as crc) gives the same value as one call. */
uint32_t crc32_update(uint32_t crc, const void *data, size_t n);
/* Bit by bit, no table: the reference for the table version. */
uint32_t crc32_bitwise(uint32_t crc, const void *data, size_t n);

#endif
