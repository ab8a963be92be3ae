/* msc.c — writing and reading .msc files (layout in msc.h).
 *
 * The payload, in order; "n×" is a u32 count followed by that many entries,
 * str a u32 pool offset (0xFFFFFFFF: none), blk a u32 block index:
 *   strings     u32 length, then the pool's bytes
 *   constants   n× { u8 type; bool: u8 0/1 | int/time/duration: i64 |
 *                    float: u64 IEEE bits | string: u32 offset, u32 length }
 *   code        n× { u8 op, u8 a, u16 b, u16 c, u16 d }
 *   blocks      n× { u32 start, u32 len, u16 nregs, u8 type, u32 milestone }
 *   account     n× field { str name, u8 type, u8 has_default, u32 default_const }
 *   events      n× { str name, n× field }
 *   segments    n× { blk block, str name }
 *   aggregates  n× { u8 fn, u8 window, u8 arg_type, u8 result_type, u32 event,
 *                    i64 within_us, blk since_block, u32 milestone, u32 owner }
 *   sequences   n× { u32 nsteps, i64 within_us, u32 owner }
 *   milestones  n× { str name, display, description, csm, customer, group;
 *                    u32 decl_order; u8 continuous, u8 start_kind; blk start_block;
 *                    u32 start_after; u8 deadline_kind; i64 deadline_us;
 *                    blk deadline_block; i64 estimate_us; n× u32 segment;
 *                    blk entry, exit, blocked;
 *                    n× action { str name, str label, u8 owner, blk done_block };
 *                    n× emit { u8 on (bc_emit_on), str signal } }
 *   playbooks   n× { str name, display; u32 decl_order; u8 start_kind;
 *                    blk start_block; u32 start_after; n× u32 segment;
 *                    n× step { str name, str label, u32 tracks, u8 is_auto,
 *                              blk when_block };
 *                    n× str emit }
 *   externs     n× { str name, lib, base_dir; n× u8 param type; u8 ret, u8 called }
 *   update      n× blk, n = (milestones + 1) × events
 *   eval order  n× u32 milestone, n = milestones
 * Nothing may follow the last table. */
#include "bc/msc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "bc/verify.h"
#include "core/sha256.h"
#include "core/util.h"

static uint32_t load_u32(const unsigned char *b) {
  return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint64_t load_u64(const unsigned char *b) {
  return (uint64_t)load_u32(b) | (uint64_t)load_u32(b + 4) << 32;
}

/* ---- writing ------------------------------------------------------------------ */

typedef struct wbuf {
  unsigned char *data;
  size_t len, cap;
} wbuf;

static void put(wbuf *w, const void *bytes, size_t n) {
  if (n == 0) return;
  if (n > SIZE_MAX - w->len) util_out_of_memory();   /* more than memory can hold */
  util_xgrow(&w->data, &w->cap, w->len + n, 1, 4096);
  memcpy(w->data + w->len, bytes, n);
  w->len += n;
}

static void put_u8(wbuf *w, unsigned v) {
  unsigned char b = (unsigned char)v;
  put(w, &b, 1);
}

static void put_u16(wbuf *w, unsigned v) {
  unsigned char b[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
  put(w, b, 2);
}

static void put_u32(wbuf *w, uint32_t v) {
  unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                        (unsigned char)(v >> 24)};
  put(w, b, 4);
}

static void put_u64(wbuf *w, uint64_t v) {
  put_u32(w, (uint32_t)v);
  put_u32(w, (uint32_t)(v >> 32));
}

static void put_i64(wbuf *w, int64_t v) { put_u64(w, (uint64_t)v); }

static void put_f64(wbuf *w, double v) {
  uint64_t bits;
  memcpy(&bits, &v, sizeof bits);
  put_u64(w, bits);
}

static void put_field(wbuf *w, const bc_field *f) {
  put_u32(w, f->name);
  put_u8(w, f->type);
  put_u8(w, f->has_default);
  put_u32(w, f->default_const);
}

static void put_u32s(wbuf *w, uint32_t n, const uint32_t *v) {
  put_u32(w, n);
  for (uint32_t i = 0; i < n; i++) put_u32(w, v[i]);
}

static void put_program(wbuf *w, const bc_program *p) {
  put_u32(w, p->strings_len);
  put(w, p->strings, p->strings_len);

  put_u32(w, p->nconsts);
  for (uint32_t i = 0; i < p->nconsts; i++) {
    const bc_const *k = &p->consts[i];
    put_u8(w, k->type);
    switch (k->type) {
    case VALUE_BOOL: put_u8(w, k->v.b); break;
    case VALUE_FLOAT: put_f64(w, k->v.f); break;
    case VALUE_STRING:
      put_u32(w, (uint32_t)(k->v.s.p - p->strings));   /* verified: inside the pool */
      put_u32(w, k->v.s.len);
      break;
    default: put_i64(w, k->v.i); break;
    }
  }

  put_u32(w, p->ncode);
  for (uint32_t i = 0; i < p->ncode; i++) {
    const bc_insn *in = &p->code[i];
    put_u8(w, in->op);
    put_u8(w, in->a);
    put_u16(w, in->b);
    put_u16(w, in->c);
    put_u16(w, in->d);
  }

  put_u32(w, p->nblocks);
  for (uint32_t i = 0; i < p->nblocks; i++) {
    const bc_block *b = &p->blocks[i];
    put_u32(w, b->start);
    put_u32(w, b->len);
    put_u16(w, b->nregs);
    put_u8(w, b->type);
    put_u32(w, b->milestone);
  }

  put_u32(w, p->naccount_fields);
  for (uint32_t i = 0; i < p->naccount_fields; i++) put_field(w, &p->account_fields[i]);
  put_u32(w, p->nevents);
  for (uint32_t i = 0; i < p->nevents; i++) {
    put_u32(w, p->events[i].name);
    put_u32(w, p->events[i].nfields);
    for (uint32_t k = 0; k < p->events[i].nfields; k++) put_field(w, &p->events[i].fields[k]);
  }

  put_u32(w, p->nsegments);
  for (uint32_t i = 0; i < p->nsegments; i++) {
    put_u32(w, p->segment_blocks[i]);
    put_u32(w, p->segment_names[i]);
  }

  put_u32(w, p->naggregates);
  for (uint32_t i = 0; i < p->naggregates; i++) {
    const bc_aggregate *g = &p->aggregates[i];
    put_u8(w, g->fn);
    put_u8(w, g->window);
    put_u8(w, g->arg_type);
    put_u8(w, g->result_type);
    put_u32(w, g->event);
    put_i64(w, g->within_us);
    put_u32(w, g->since_block);
    put_u32(w, g->milestone);
    put_u32(w, g->owner);
  }

  put_u32(w, p->nsequences);
  for (uint32_t i = 0; i < p->nsequences; i++) {
    put_u32(w, p->sequences[i].nsteps);
    put_i64(w, p->sequences[i].within_us);
    put_u32(w, p->sequences[i].owner);
  }

  put_u32(w, p->nmilestones);
  for (uint32_t i = 0; i < p->nmilestones; i++) {
    const bc_milestone *m = &p->milestones[i];
    put_u32(w, m->name);
    put_u32(w, m->display);
    put_u32(w, m->description);
    put_u32(w, m->csm);
    put_u32(w, m->customer);
    put_u32(w, m->group);
    put_u32(w, m->decl_order);
    put_u8(w, m->continuous);
    put_u8(w, m->start_kind);
    put_u32(w, m->start_block);
    put_u32(w, m->start_after);
    put_u8(w, m->deadline_kind);
    put_i64(w, m->deadline_us);
    put_u32(w, m->deadline_block);
    put_i64(w, m->estimate_us);
    put_u32s(w, m->nsegments, m->segments);
    put_u32(w, m->entry_block);
    put_u32(w, m->exit_block);
    put_u32(w, m->blocked_block);
    put_u32(w, m->nactions);
    for (uint32_t a = 0; a < m->nactions; a++) {
      put_u32(w, m->actions[a].name);
      put_u32(w, m->actions[a].label);
      put_u8(w, m->actions[a].owner);
      put_u32(w, m->actions[a].done_block);
    }
    put_u32(w, m->nemits);
    for (uint32_t e = 0; e < m->nemits; e++) {
      put_u8(w, m->emits[e].on);
      put_u32(w, m->emits[e].signal);
    }
  }

  put_u32(w, p->nplaybooks);
  for (uint32_t i = 0; i < p->nplaybooks; i++) {
    const bc_playbook *pb = &p->playbooks[i];
    put_u32(w, pb->name);
    put_u32(w, pb->display);
    put_u32(w, pb->decl_order);
    put_u8(w, pb->start_kind);
    put_u32(w, pb->start_block);
    put_u32(w, pb->start_after);
    put_u32s(w, pb->nsegments, pb->segments);
    put_u32(w, pb->nsteps);
    for (uint32_t s = 0; s < pb->nsteps; s++) {
      put_u32(w, pb->steps[s].name);
      put_u32(w, pb->steps[s].label);
      put_u32(w, pb->steps[s].tracks);
      put_u8(w, pb->steps[s].is_auto);
      put_u32(w, pb->steps[s].when_block);
    }
    put_u32s(w, pb->nemits, pb->emits);
  }

  put_u32(w, p->nexterns);
  for (uint32_t i = 0; i < p->nexterns; i++) {
    const bc_extern *x = &p->externs[i];
    put_u32(w, x->name);
    put_u32(w, x->lib);
    put_u32(w, x->base_dir);
    put_u32(w, x->nparams);
    put(w, x->params, x->nparams);
    put_u8(w, x->ret);
    put_u8(w, x->called);
  }

  /* verified: the product fits, since the table exists in memory */
  put_u32s(w, (p->nmilestones + 1) * p->nevents, p->update_blocks);
  put_u32s(w, p->nmilestones, p->eval_order);
}

/* The bytes of p's .msc file, header and payload, in a buffer the caller
 * frees; NULL with msg when p cannot be written. */
static unsigned char *msc_bytes(const bc_program *p, size_t *len, char *msg, size_t msglen) {
  char why[512];
  if (!verify_program(p, why, sizeof why)) {
    util_set_msg(msg, msglen, "internal error: the compiled program does not verify: %s", why);
    return NULL;
  }
  if (((uint64_t)p->nmilestones + 1) * p->nevents > UINT32_MAX) {
    util_set_msg(msg, msglen, "the program is too large for the .msc format");
    return NULL;
  }
  wbuf w = {0};
  put(&w, MSC_MAGIC, 4);
  put_u32(&w, MSC_VERSION);
  put_u64(&w, 0);          /* the payload's length and CRC, once it is written */
  put_u32(&w, 0);
  put_program(&w, p);
  size_t payload = w.len - MSC_HEADER_SIZE;
  wbuf h = {.data = w.data, .cap = MSC_HEADER_SIZE, .len = 8};
  put_u64(&h, payload);
  put_u32(&h, (uint32_t)crc32_z(0, w.data + MSC_HEADER_SIZE, payload));
  *len = w.len;
  return w.data;
}

bool msc_write(const bc_program *p, FILE *out, char *msg, size_t msglen) {
  size_t len;
  unsigned char *bytes = msc_bytes(p, &len, msg, msglen);
  if (!bytes) return false;
  errno = 0;
  bool ok = fwrite(bytes, 1, len, out) == len && fflush(out) == 0;
  if (!ok) util_set_msg(msg, msglen, "write error: %s", strerror(errno ? errno : EIO));
  free(bytes);
  return ok;
}

bool msc_sha256(const bc_program *p, char hex[MSC_SHA256_HEX_SIZE], char *msg, size_t msglen) {
  size_t len;
  unsigned char *bytes = msc_bytes(p, &len, msg, msglen);
  if (!bytes) return false;
  uint8_t digest[SHA256_DIGEST_LEN];
  sha256_digest(bytes, len, digest);
  free(bytes);
  for (int i = 0; i < SHA256_DIGEST_LEN; i++) snprintf(hex + 2 * i, 3, "%02x", digest[i]);
  return true;
}

/* ---- reading ------------------------------------------------------------------- */

/* A cursor over the payload.  After the first problem every read gives 0
 * and nothing more is allocated, so the parser needs no check per field;
 * the first message is kept. */
typedef struct rbuf {
  const unsigned char *at;
  size_t left;
  bool failed;
  const char *section;      /* for "the payload ends inside ..." */
  char *msg;
  size_t msglen;
} rbuf;

static void rfail(rbuf *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rfail(rbuf *r, const char *fmt, ...) {
  if (r->failed) return;
  r->failed = true;
  va_list ap;
  va_start(ap, fmt);
  util_vset_msg(r->msg, r->msglen, fmt, ap);
  va_end(ap);
}

static const unsigned char *take(rbuf *r, size_t n) {
  if (r->failed) return NULL;
  if (n > r->left) {
    rfail(r, "corrupt file: the payload ends inside the %s", r->section);
    return NULL;
  }
  const unsigned char *at = r->at;
  r->at += n;
  r->left -= n;
  return at;
}

static uint8_t get_u8(rbuf *r) {
  const unsigned char *b = take(r, 1);
  return b ? b[0] : 0;
}

static uint16_t get_u16(rbuf *r) {
  const unsigned char *b = take(r, 2);
  return b ? (uint16_t)(b[0] | b[1] << 8) : 0;
}

static uint32_t get_u32(rbuf *r) {
  const unsigned char *b = take(r, 4);
  return b ? load_u32(b) : 0;
}

static uint64_t get_u64(rbuf *r) {
  const unsigned char *b = take(r, 8);
  return b ? load_u64(b) : 0;
}

static int64_t get_i64(rbuf *r) {
  uint64_t u = get_u64(r);
  int64_t v;
  memcpy(&v, &u, sizeof v);    /* two's complement, without an out-of-range conversion */
  return v;
}

static double get_f64(rbuf *r) {
  uint64_t bits = get_u64(r);
  double v;
  memcpy(&v, &bits, sizeof v);
  return v;
}

/* Reads a count of entries of at least min_size bytes each; a count the
 * bytes left cannot hold is refused before anything is allocated. */
static uint32_t get_count(rbuf *r, size_t min_size, const char *section) {
  r->section = section;
  uint32_t n = get_u32(r);
  if (!r->failed && n > r->left / min_size) {
    rfail(r, "corrupt file: the %s table claims %u entries, more than the %zu bytes left can hold",
          section, n, r->left);
    return 0;
  }
  return n;
}

/* Zeroed room for n entries; NULL for none (bc.h's arrays may be NULL when
 * their count is 0) or after a failure. */
static void *alloc_array(rbuf *r, uint32_t n, size_t size) {
  if (r->failed || n == 0) return NULL;
  return util_xalloc(n * size);
}

/* Fixed sizes on disk of the entries of each table (their smallest form). */
enum {
  DISK_CONST = 2, DISK_INSN = 8, DISK_BLOCK = 15, DISK_FIELD = 10, DISK_EVENT = 8, DISK_SEGMENT = 8,
  DISK_AGG = 28, DISK_SEQ = 16, DISK_ACTION = 13, DISK_EMIT = 5, DISK_STEP = 17, DISK_U32 = 4,
  DISK_MILESTONE = 4 * 7 + 2 + 4 + 4 + 1 + 8 + 4 + 8 + 4 + 12 + 4 + 4,
  DISK_PLAYBOOK = 4 * 3 + 1 + 4 + 4 + 4 + 4 + 4, DISK_EXTERN = 4 * 4 + 2,
};

static bc_field *get_fields(rbuf *r, uint32_t *n, const char *section) {
  *n = get_count(r, DISK_FIELD, section);
  bc_field *f = alloc_array(r, *n, sizeof *f);
  for (uint32_t i = 0; f && i < *n; i++) {
    f[i].name = get_u32(r);
    f[i].type = get_u8(r);
    f[i].has_default = get_u8(r);
    f[i].default_const = get_u32(r);
  }
  return f;
}

static uint32_t *get_u32s(rbuf *r, uint32_t *n, const char *section) {
  *n = get_count(r, DISK_U32, section);
  uint32_t *v = alloc_array(r, *n, sizeof *v);
  for (uint32_t i = 0; v && i < *n; i++) v[i] = get_u32(r);
  return v;
}

static void get_consts(rbuf *r, bc_program *p) {
  p->nconsts = get_count(r, DISK_CONST, "constants");
  p->consts = alloc_array(r, p->nconsts, sizeof *p->consts);
  for (uint32_t i = 0; p->consts && i < p->nconsts && !r->failed; i++) {
    bc_const *k = &p->consts[i];
    k->type = get_u8(r);
    switch (k->type) {
    case VALUE_BOOL: {
      uint8_t b = get_u8(r);
      if (b > 1) rfail(r, "corrupt file: bool constant k%u holds %u", i, b);
      k->v.b = b == 1;
      break;
    }
    case VALUE_INT: case VALUE_TIME: case VALUE_DURATION: k->v.i = get_i64(r); break;
    case VALUE_FLOAT: k->v.f = get_f64(r); break;
    case VALUE_STRING: {
      uint32_t off = get_u32(r), len = get_u32(r);
      /* inside the pool, with at least the pool's final NUL after it */
      if (!r->failed && (off >= p->strings_len || len >= p->strings_len - off))
        rfail(r, "corrupt file: string constant k%u (offset %u, %u bytes) is outside the string pool "
              "(%u bytes)", i, off, len, p->strings_len);
      else if (!r->failed) k->v.s = (value_str){p->strings + off, len};
      break;
    }
    default:
      rfail(r, "corrupt file: constant k%u has unknown type %u", i, k->type);
      break;
    }
  }
}

static void get_milestone(rbuf *r, bc_milestone *m) {
  m->name = get_u32(r);
  m->display = get_u32(r);
  m->description = get_u32(r);
  m->csm = get_u32(r);
  m->customer = get_u32(r);
  m->group = get_u32(r);
  m->decl_order = get_u32(r);
  m->continuous = get_u8(r);
  m->start_kind = get_u8(r);
  m->start_block = get_u32(r);
  m->start_after = get_u32(r);
  m->deadline_kind = get_u8(r);
  m->deadline_us = get_i64(r);
  m->deadline_block = get_u32(r);
  m->estimate_us = get_i64(r);
  m->segments = get_u32s(r, &m->nsegments, "milestone segments");
  r->section = "milestones";
  m->entry_block = get_u32(r);
  m->exit_block = get_u32(r);
  m->blocked_block = get_u32(r);
  m->nactions = get_count(r, DISK_ACTION, "actions");
  m->actions = alloc_array(r, m->nactions, sizeof *m->actions);
  for (uint32_t a = 0; m->actions && a < m->nactions; a++) {
    m->actions[a].name = get_u32(r);
    m->actions[a].label = get_u32(r);
    m->actions[a].owner = get_u8(r);
    m->actions[a].done_block = get_u32(r);
  }
  m->nemits = get_count(r, DISK_EMIT, "milestone signals");
  m->emits = alloc_array(r, m->nemits, sizeof *m->emits);
  for (uint32_t e = 0; m->emits && e < m->nemits; e++) {
    m->emits[e].on = get_u8(r);
    m->emits[e].signal = get_u32(r);
  }
}

static void get_playbook(rbuf *r, bc_playbook *pb) {
  pb->name = get_u32(r);
  pb->display = get_u32(r);
  pb->decl_order = get_u32(r);
  pb->start_kind = get_u8(r);
  pb->start_block = get_u32(r);
  pb->start_after = get_u32(r);
  pb->segments = get_u32s(r, &pb->nsegments, "playbook segments");
  pb->nsteps = get_count(r, DISK_STEP, "playbook steps");
  pb->steps = alloc_array(r, pb->nsteps, sizeof *pb->steps);
  for (uint32_t s = 0; pb->steps && s < pb->nsteps; s++) {
    pb->steps[s].name = get_u32(r);
    pb->steps[s].label = get_u32(r);
    pb->steps[s].tracks = get_u32(r);
    pb->steps[s].is_auto = get_u8(r);
    pb->steps[s].when_block = get_u32(r);
  }
  pb->emits = get_u32s(r, &pb->nemits, "playbook signals");
}

static void get_program(rbuf *r, bc_program *p) {
  p->strings_len = get_count(r, 1, "string pool");
  p->strings = alloc_array(r, p->strings_len, 1);
  const unsigned char *pool = take(r, p->strings_len);
  if (p->strings && pool) memcpy(p->strings, pool, p->strings_len);

  get_consts(r, p);

  p->ncode = get_count(r, DISK_INSN, "code");
  p->code = alloc_array(r, p->ncode, sizeof *p->code);
  for (uint32_t i = 0; p->code && i < p->ncode; i++) {
    p->code[i].op = get_u8(r);
    p->code[i].a = get_u8(r);
    p->code[i].b = get_u16(r);
    p->code[i].c = get_u16(r);
    p->code[i].d = get_u16(r);
  }

  p->nblocks = get_count(r, DISK_BLOCK, "blocks");
  p->blocks = alloc_array(r, p->nblocks, sizeof *p->blocks);
  for (uint32_t i = 0; p->blocks && i < p->nblocks; i++) {
    p->blocks[i].start = get_u32(r);
    p->blocks[i].len = get_u32(r);
    p->blocks[i].nregs = get_u16(r);
    p->blocks[i].type = get_u8(r);
    p->blocks[i].milestone = get_u32(r);
  }

  p->account_fields = get_fields(r, &p->naccount_fields, "account fields");
  p->nevents = get_count(r, DISK_EVENT, "events");
  p->events = alloc_array(r, p->nevents, sizeof *p->events);
  for (uint32_t i = 0; p->events && i < p->nevents && !r->failed; i++) {
    r->section = "events";
    p->events[i].name = get_u32(r);
    p->events[i].fields = get_fields(r, &p->events[i].nfields, "event fields");
  }

  p->nsegments = get_count(r, DISK_SEGMENT, "segments");
  p->segment_blocks = alloc_array(r, p->nsegments, sizeof *p->segment_blocks);
  p->segment_names = alloc_array(r, p->nsegments, sizeof *p->segment_names);
  for (uint32_t i = 0; p->segment_blocks && p->segment_names && i < p->nsegments; i++) {
    p->segment_blocks[i] = get_u32(r);
    p->segment_names[i] = get_u32(r);
  }

  p->naggregates = get_count(r, DISK_AGG, "aggregates");
  p->aggregates = alloc_array(r, p->naggregates, sizeof *p->aggregates);
  for (uint32_t i = 0; p->aggregates && i < p->naggregates; i++) {
    bc_aggregate *g = &p->aggregates[i];
    g->fn = get_u8(r);
    g->window = get_u8(r);
    g->arg_type = get_u8(r);
    g->result_type = get_u8(r);
    g->event = get_u32(r);
    g->within_us = get_i64(r);
    g->since_block = get_u32(r);
    g->milestone = get_u32(r);
    g->owner = get_u32(r);
  }

  p->nsequences = get_count(r, DISK_SEQ, "sequences");
  p->sequences = alloc_array(r, p->nsequences, sizeof *p->sequences);
  for (uint32_t i = 0; p->sequences && i < p->nsequences; i++) {
    p->sequences[i].nsteps = get_u32(r);
    p->sequences[i].within_us = get_i64(r);
    p->sequences[i].owner = get_u32(r);
  }

  p->nmilestones = get_count(r, DISK_MILESTONE, "milestones");
  p->milestones = alloc_array(r, p->nmilestones, sizeof *p->milestones);
  for (uint32_t i = 0; p->milestones && i < p->nmilestones && !r->failed; i++) {
    r->section = "milestones";
    get_milestone(r, &p->milestones[i]);
  }

  p->nplaybooks = get_count(r, DISK_PLAYBOOK, "playbooks");
  p->playbooks = alloc_array(r, p->nplaybooks, sizeof *p->playbooks);
  for (uint32_t i = 0; p->playbooks && i < p->nplaybooks && !r->failed; i++) {
    r->section = "playbooks";
    get_playbook(r, &p->playbooks[i]);
  }

  p->nexterns = get_count(r, DISK_EXTERN, "externs");
  p->externs = alloc_array(r, p->nexterns, sizeof *p->externs);
  for (uint32_t i = 0; p->externs && i < p->nexterns && !r->failed; i++) {
    bc_extern *x = &p->externs[i];
    r->section = "externs";
    x->name = get_u32(r);
    x->lib = get_u32(r);
    x->base_dir = get_u32(r);
    x->nparams = get_count(r, 1, "extern parameters");
    x->params = alloc_array(r, x->nparams, 1);
    const unsigned char *params = take(r, x->nparams);
    if (x->params && params) memcpy(x->params, params, x->nparams);
    r->section = "externs";
    x->ret = get_u8(r);
    x->called = get_u8(r);
  }

  uint64_t want_update = ((uint64_t)p->nmilestones + 1) * p->nevents;
  uint32_t nupdate = get_count(r, DISK_U32, "update block table");
  if (!r->failed && nupdate != want_update)
    rfail(r, "corrupt file: the update block table has %u entries, expected %llu", nupdate,
          (unsigned long long)want_update);
  p->update_blocks = alloc_array(r, nupdate, sizeof *p->update_blocks);
  for (uint32_t i = 0; p->update_blocks && i < nupdate; i++) p->update_blocks[i] = get_u32(r);

  uint32_t norder = 0;
  p->eval_order = get_u32s(r, &norder, "evaluation order");
  if (!r->failed && norder != p->nmilestones)
    rfail(r, "corrupt file: the evaluation order lists %u milestones, the program has %u", norder,
          p->nmilestones);
  if (!r->failed && r->left)
    rfail(r, "corrupt file: %zu unread bytes after the last table", r->left);
}

/* Checks magic, version and header size; gives the payload length. */
static bool read_header(const unsigned char *data, size_t len, uint64_t *payload_len, char *msg,
                        size_t msglen) {
  size_t magic_len = strlen(MSC_MAGIC);
  if (len == 0) {
    util_set_msg(msg, msglen, "not an MSL compiled file (the file is empty)");
    return false;
  }
  if (memcmp(data, MSC_MAGIC, len < magic_len ? len : magic_len) != 0) {
    util_set_msg(msg, msglen, "not an MSL compiled file (bad magic)");
    return false;
  }
  if (len < 8) {
    util_set_msg(msg, msglen, "truncated file (%zu bytes, the header takes %d)", len, MSC_HEADER_SIZE);
    return false;
  }
  uint32_t version = load_u32(data + 4);
  if (version != MSC_VERSION) {
    util_set_msg(msg, msglen,
            "compiled by a different msl (format version %u, this msl reads %u): rebuild it with `msl build`",
            version, MSC_VERSION);
    return false;
  }
  if (len < MSC_HEADER_SIZE) {
    util_set_msg(msg, msglen, "truncated file (%zu bytes, the header takes %d)", len, MSC_HEADER_SIZE);
    return false;
  }
  *payload_len = load_u64(data + 8);
  return true;
}

bc_program *msc_read(const unsigned char *data, size_t len, char *msg, size_t msglen) {
  uint64_t payload_len;
  if (msglen) msg[0] = '\0';
  if (!read_header(data, len, &payload_len, msg, msglen)) return NULL;
  size_t have = len - MSC_HEADER_SIZE;
  if (payload_len > have) {
    util_set_msg(msg, msglen, "truncated file (the payload should have %llu bytes, it has %zu)",
            (unsigned long long)payload_len, have);
    return NULL;
  }
  if (payload_len < have) {
    util_set_msg(msg, msglen, "corrupt file: data after the end of the payload");
    return NULL;
  }
  const unsigned char *payload = data + MSC_HEADER_SIZE;
  if ((uint32_t)crc32_z(0, payload, have) != load_u32(data + 16)) {
    util_set_msg(msg, msglen, "checksum mismatch: the file is corrupt");
    return NULL;
  }
  bc_program *p = util_xalloc(sizeof *p);
  rbuf r = {.at = payload, .left = have, .section = "header", .msg = msg, .msglen = msglen};
  get_program(&r, p);
  if (r.failed || !verify_program(p, msg, msglen)) {
    bc_program_free(p);
    return NULL;
  }
  return p;
}

bc_program *msc_load_file(const char *path, int *io_err, char *msg, size_t msglen) {
  *io_err = 0;
  FILE *f = fopen(path, "rb");
  if (!f) {
    *io_err = errno;
    util_set_msg(msg, msglen, "cannot open: %s", strerror(errno));
    return NULL;
  }
  /* The header first: a foreign file or a corrupt length is refused before
   * the rest is read (it might be huge, or endless like a device). */
  unsigned char header[MSC_HEADER_SIZE];
  size_t got = fread(header, 1, sizeof header, f);
  bc_program *p = NULL;
  unsigned char *data = NULL;
  uint64_t payload_len = 0;
  if (ferror(f)) {
    *io_err = errno ? errno : EIO;
    util_set_msg(msg, msglen, "read error: %s", strerror(*io_err));
  } else if (got < sizeof header) {
    p = msc_read(header, got, msg, msglen);     /* refused: empty, bad magic or truncated */
  } else if (!read_header(header, got, &payload_len, msg, msglen)) {
    /* msg set */
  } else if (payload_len > MSC_MAX_PAYLOAD) {
    util_set_msg(msg, msglen, "corrupt file: a payload of %llu bytes is more than an MSL program has",
            (unsigned long long)payload_len);
  } else {
    data = util_xalloc(MSC_HEADER_SIZE + payload_len + 1);
    memcpy(data, header, MSC_HEADER_SIZE);
    /* one byte more than announced, to notice data after the payload */
    size_t n = fread(data + MSC_HEADER_SIZE, 1, payload_len + 1, f);
    if (ferror(f)) {
      *io_err = errno ? errno : EIO;
      util_set_msg(msg, msglen, "read error: %s", strerror(*io_err));
    } else {
      p = msc_read(data, MSC_HEADER_SIZE + n, msg, msglen);
    }
  }
  free(data);
  fclose(f);
  return p;
}
