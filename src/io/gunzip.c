/* gunzip.c — gzip files inflated in chunks by ISA-L (gunzip.h). */
#include "io/gunzip.h"

#include <errno.h>
#include <isa-l/igzip_lib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"

enum { GUNZIP_IN = 256 << 10 };

typedef enum { AT_MEMBER, INFLATING, COPYING, DONE } gunzip_mode;

struct gunzip {
  int fd;
  gunzip_mode mode;
  bool first;              /* no member read yet: input that is not gzip is read as it is */
  bool eof;                /* fd is read to its end */
  struct inflate_state st; /* its next_in / avail_in: the unread bytes of in */
  unsigned char in[GUNZIP_IN];
};

gunzip *gunzip_open(int fd) {
  gunzip *z = util_xalloc(sizeof *z);
  z->fd = fd;
  z->mode = AT_MEMBER;
  z->first = true;
  isal_inflate_init(&z->st);
  return z;
}

void gunzip_close(gunzip *z) {
  if (!z) return;
  close(z->fd);
  free(z);
}

/* Reads more after the unread bytes, which move to the front: > 0 bytes,
 * 0 at the end of the file, -1 on an error. */
static long fill(gunzip *z, int *err_no) {
  if (z->eof) return 0;
  if (z->st.avail_in) memmove(z->in, z->st.next_in, z->st.avail_in);   /* next_in is NULL before any */
  z->st.next_in = z->in;
  for (;;) {
    ssize_t n = read(z->fd, z->in + z->st.avail_in, GUNZIP_IN - z->st.avail_in);
    if (n >= 0) {
      z->eof = n == 0;
      z->st.avail_in += (uint32_t)n;
      return (long)n;
    }
    if (errno != EINTR) {
      *err_no = errno;
      return -1;
    }
  }
}

/* Whether the unread input starts a gzip member (its magic bytes), or -1;
 * the first 4 bytes of its header, if the file has them, are read. */
static int starts_member(gunzip *z, int *err_no) {
  while (z->st.avail_in < 4 && !z->eof)
    if (fill(z, err_no) < 0) return -1;
  return z->st.avail_in >= 2 && z->st.next_in[0] == 0x1F && z->st.next_in[1] == 0x8B;
}

static const char *inflate_error(int code) {
  switch (code) {
    case ISAL_INVALID_BLOCK: return "invalid deflate block";
    case ISAL_INVALID_SYMBOL: return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK: return "invalid distance too far back";
    case ISAL_INVALID_WRAPPER: return "invalid gzip header";
    case ISAL_UNSUPPORTED_METHOD: return "unknown compression method";
    case ISAL_INCORRECT_CHECKSUM: return "incorrect data check";
    default: return "corrupt gzip data";
  }
}

long gunzip_read(gunzip *z, char *dst, size_t n, int *err_no, const char **msg) {
  if (n > UINT32_MAX) n = UINT32_MAX;
  for (;;) {
    switch (z->mode) {
      case AT_MEMBER: {
        int member = starts_member(z, err_no);
        if (member < 0) return -1;
        if (member && z->st.avail_in >= 4 && (z->st.next_in[3] & 0xE0)) {
          *err_no = EIO;   /* reserved flags, which RFC 1952 says to refuse (as zlib does; ISA-L does not) */
          *msg = "unknown header flags set";
          return -1;
        }
        if (member) {   /* a reset keeps no input: the unread bytes are put back */
          uint8_t *next = z->st.next_in;
          uint32_t avail = z->st.avail_in;
          isal_inflate_reset(&z->st);
          z->st.next_in = next;
          z->st.avail_in = avail;
          z->st.crc_flag = ISAL_GZIP;
          z->mode = INFLATING;
        } else {
          z->mode = z->first ? COPYING : DONE;   /* after a member: trailing bytes, ignored */
        }
        break;
      }
      case INFLATING: {
        if (!z->st.avail_in && fill(z, err_no) < 0) return -1;
        z->st.next_out = (uint8_t *)dst;
        z->st.avail_out = (uint32_t)n;
        int code = isal_inflate(&z->st);
        if (code != ISAL_DECOMP_OK) {
          *err_no = EIO;
          *msg = inflate_error(code);
          return -1;
        }
        long got = (long)(n - z->st.avail_out);
        if (z->st.block_state == ISAL_BLOCK_FINISH) {
          z->first = false;
          z->mode = AT_MEMBER;
        } else if (!got && !z->st.avail_in && z->eof) {
          *err_no = EIO;
          *msg = "unexpected end of file";
          return -1;
        }
        if (got) return got;
        break;
      }
      case COPYING: {
        if (!z->st.avail_in && fill(z, err_no) < 0) return -1;
        size_t got = z->st.avail_in < n ? z->st.avail_in : n;
        memcpy(dst, z->st.next_in, got);
        z->st.next_in += got;
        z->st.avail_in -= (uint32_t)got;
        return (long)got;   /* 0: the end */
      }
      case DONE: return 0;
    }
  }
}

bool gunzip_rewind(gunzip *z, int *err_no) {
  if (lseek(z->fd, 0, SEEK_SET) < 0) {
    *err_no = errno;
    return false;
  }
  isal_inflate_init(&z->st);
  z->mode = AT_MEMBER;
  z->first = true;
  z->eof = false;
  return true;
}
