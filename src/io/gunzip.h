/* gunzip.h — gzip files inflated in chunks by ISA-L (prefix gunzip_).
 *
 * io_read.c reads a `.gz` file through it.  zlib's gzread took a quarter
 * of a run over a gzipped log; ISA-L's inflate does the same work in a
 * third of the time (docs/decisions.md).  It reads as gzread does:
 * concatenated members one after the other, bytes after a member that do
 * not start another one ignored, and a file that does not start as gzip
 * read as it is.  A member cut short, a bad block or a wrong checksum is
 * an error. */
#ifndef MSL_IO_GUNZIP_H
#define MSL_IO_GUNZIP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct gunzip gunzip;

/* Reads the file open at fd, which it owns from then on. */
gunzip *gunzip_open(int fd);

/* Inflates up to n bytes into dst: how many, 0 at the end, or -1 with
 * *err_no set (an errno, or EIO with *msg saying what is wrong). */
long gunzip_read(gunzip *z, char *dst, size_t n, int *err_no, const char **msg);

/* Starts again from the file's first byte; false with *err_no set. */
bool gunzip_rewind(gunzip *z, int *err_no);

/* Closes the file and frees z (NULL: nothing). */
void gunzip_close(gunzip *z);

#endif
