/* msc.h — the .msc file: a compiled program (bc.h) on disk.
 *
 * Layout (all integers little-endian):
 *   0  "MSLC"                 magic
 *   4  u32 format version     MSC_VERSION; any other is refused
 *   8  u64 payload length     bytes after the header; nothing may follow
 *  16  u32 CRC-32             zlib crc32 of the payload
 *  20  payload                every table of bc_program, in bc.h order,
 *                             each count before its entries (see msc.c)
 * Fixed-width integers, doubles as their IEEE 754 bits, the string pool as
 * bytes, string constants as (offset, length) into the pool: no struct is
 * ever copied to disk as it lies in memory.
 *
 * The reader trusts nothing: every count is checked against the bytes left
 * before anything is allocated, and the program it builds must pass
 * verify_program (verify.h) before it is returned. */
#ifndef MSL_MSC_H
#define MSL_MSC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "bc/bc.h"

#define MSC_HEADER_SIZE 20
/* A payload longer than this is refused unread by msc_load_file: compiled
 * programs are small, and a corrupt length must not make it read for ever. */
#define MSC_MAX_PAYLOAD ((uint64_t)1 << 30)

/* Writes p (which must pass verify_program, so that what is written can be read
 * back) to out.  On failure returns false with msg set. */
bool msc_write(const bc_program *p, FILE *out, char *msg, size_t msglen);

/* The SHA-256 of the .msc file msc_write writes for p, in lower-case hex:
 * what summary.json records of the program a run used, so that `msl
 * merge` can tell results of different rules apart (`sha256sum` of the
 * file `msl build` writes gives the same).  False with msg as msc_write. */
#define MSC_SHA256_HEX_SIZE 65
bool msc_sha256(const bc_program *p, char hex[MSC_SHA256_HEX_SIZE], char *msg, size_t msglen);

/* Builds a program from the bytes of a .msc file.  On any problem returns
 * NULL with msg set: "not an MSL compiled file (bad magic)", "compiled by a
 * different msl (...)", "truncated file ...", "checksum mismatch: the file
 * is corrupt", "corrupt file: ...", or the verifier's message.  The result
 * is freed with bc_program_free. */
bc_program *msc_read(const unsigned char *data, size_t len, char *msg, size_t msglen);

/* Reads the file at path and calls msc_read.  *io_err is set to the errno of
 * a failed open or read (msg then says what failed), to 0 otherwise, so the
 * caller can tell I/O errors from bad files.  Messages do not name the
 * file: the caller prefixes the path. */
bc_program *msc_load_file(const char *path, int *io_err, char *msg, size_t msglen);

#endif
