/* io_jsonl.c — JSON Lines events and accounts: one object per line.
 *
 * A line is parsed once, and of its members only those whose keys rows
 * are read for are kept (r->keys: the account id, time, event, control
 * names and the schema's fields), one per key: the last at the top level,
 * else the last of a top-level "properties" object (SPEC 7: top-level
 * keys win; among equal keys at one level the last one wins, as in most
 * JSON readers).  The common line, flat and compact, takes one pass
 * (parse_flat); any other is read by the general parser.  Strings without
 * escapes point into the read buffer; the others
 * are decoded into the reader's scratch buffer, which is made as large as
 * the line first (decoding never lengthens text), so it never moves while
 * a record is built.
 *
 * Decisions beyond SPEC 7: an account id (`account`, or `id` in an
 * accounts file) is a JSON string or an integer number, taken as its text
 * ({"account": 42} is account "42", as a CSV cell 42 would be); "" for a
 * number, time or duration field is a bad value, not a missing one (only
 * null and an absent key are missing); an epoch number for a time may have
 * a fraction, rounded to the microsecond; a duration may be a number of
 * seconds, also with a fraction; bool takes only true and false.
 * Malformed JSON, a raw control character in a string and lone UTF-16
 * surrogates in \u escapes are bad rows. */
#include "io/io_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "core/util.h"

enum { MAX_DEPTH = 64 };

/* The keys every reader knows, first in r->keys (io_jsonl_begin). */
enum { KEY_ACCOUNT, KEY_ID, KEY_TIME, KEY_EVENT, KEY_MILESTONE, KEY_PLAYBOOK, KEY_FIXED };

static const value_str empty_text = {"", 0};

/* ---- lines ----------------------------------------------------------------------------------- */

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* Reads the next line that is not blank into r->record_*. */
static io_status read_line(io_reader *r, io_error *err) {
  io_source *s = &r->src;
  if (r->at_start && !io_skip_bom(r, err)) return IO_FAILED;
  for (;;) {
    const char *p = s->buf + s->pos;
    size_t avail = s->end - s->pos, len, consumed;
    const char *nl = memchr(p + r->scan_off, '\n', avail - r->scan_off);
    if (nl) {
      len = (size_t)(nl - p);
      consumed = len + 1;
    } else if (s->eof) {
      if (r->skipping || avail == 0) {
        s->pos = s->end;
        r->skipping = false;
        r->scan_off = 0;
        if (avail == 0) return IO_EOF;
        continue;
      }
      len = consumed = avail;
    } else {
      if (r->skipping) {
        s->pos = s->end;   /* discard the rest of an over-long line */
        r->scan_off = 0;
      } else if (avail > r->max_record + 1) {   /* + 1: a CR before the newline */
        r->record_start = s->pos;
        r->record_len = avail;
        r->record_line = r->line;
        r->skipping = true;
        return io_bad_row(r, err, "record longer than %zu bytes", r->max_record);
      } else {
        r->scan_off = avail;
      }
      if (io_source_fill(r, err) < 0) return IO_FAILED;
      continue;
    }
    r->scan_off = 0;
    if (r->skipping) {
      r->skipping = false;
      r->line++;
      s->pos += consumed;
      continue;
    }
    r->record_start = s->pos;
    r->record_line = r->line++;
    s->pos += consumed;
    if (len > 0 && p[len - 1] == '\r') len--;
    r->record_len = len;
    if (len > r->max_record)   /* the same whatever the buffer held */
      return io_bad_row(r, err, "record longer than %zu bytes", r->max_record);
    size_t i = 0;
    while (i < len && is_space(p[i])) i++;
    if (i < len) return IO_OK;   /* otherwise a blank line */
  }
}

/* ---- JSON ------------------------------------------------------------------------------------ */

typedef struct json_parser {
  io_reader *r;
  const char *start, *p, *end;
  char *out;                 /* next free byte of the scratch buffer */
  const char *error;
  size_t error_at;
} json_parser;

static bool fail(json_parser *jp, const char *message) {
  if (!jp->error) {
    jp->error = message;
    jp->error_at = (size_t)(jp->p - jp->start);
  }
  return false;
}

/* Inline: it runs between every two tokens, and most JSON Lines have no
 * space there at all. */
static inline void skip_space(json_parser *jp) {
  while (jp->p < jp->end && is_space(*jp->p)) jp->p++;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Four hex digits after "\u". */
static bool read_hex4(json_parser *jp, unsigned *out) {
  if (jp->end - jp->p < 4) return fail(jp, "bad \\u escape");
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    int h = hex_value(jp->p[i]);
    if (h < 0) return fail(jp, "bad \\u escape");
    v = v * 16 + (unsigned)h;
  }
  jp->p += 4;
  *out = v;
  return true;
}

static char *put_utf8(char *o, unsigned cp) {
  if (cp < 0x80) {
    *o++ = (char)cp;
  } else if (cp < 0x800) {
    *o++ = (char)(0xC0 | cp >> 6);
    *o++ = (char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *o++ = (char)(0xE0 | cp >> 12);
    *o++ = (char)(0x80 | (cp >> 6 & 0x3F));
    *o++ = (char)(0x80 | (cp & 0x3F));
  } else {
    *o++ = (char)(0xF0 | cp >> 18);
    *o++ = (char)(0x80 | (cp >> 12 & 0x3F));
    *o++ = (char)(0x80 | (cp >> 6 & 0x3F));
    *o++ = (char)(0x80 | (cp & 0x3F));
  }
  return o;
}

/* The 16 bytes at p, a bit each: *quote where a quote is, *special where
 * a backslash or a control character is.  Both string scanners read a
 * line sixteen bytes at a time through it, to the line's end and past it:
 * a line lies in the read buffer, which has IO_SLACK readable bytes after
 * its data (the callers mask or clamp what lies past the end). */
static inline __attribute__((always_inline)) void string_marks(const char *p, unsigned *quote, unsigned *special) {
#ifdef __SSE2__
  __m128i v = _mm_loadu_si128((const __m128i *)p);
  *quote = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')));
  *special = (unsigned)_mm_movemask_epi8(_mm_or_si128(
      _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')),
      _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1F)), v)));   /* v <= 0x1F */
#else
  *quote = *special = 0;
  for (unsigned k = 0; k < 16; k++) {
    unsigned char c = (unsigned char)p[k];
    *quote |= (unsigned)(c == '"') << k;
    *special |= (unsigned)(c == '\\' || c < 0x20) << k;
  }
#endif
}

/* The first quote, backslash or control character at or after p (end
 * when there is none): where a string's plain text stops. */
static inline __attribute__((always_inline)) const char *plain_end(const char *p, const char *end) {
  for (; p < end; p += 16) {
    unsigned quote, special;
    string_marks(p, &quote, &special);
    unsigned mask = quote | special;
    if (mask) return p + __builtin_ctz(mask) < end ? p + __builtin_ctz(mask) : end;
  }
  return end;
}

static bool parse_string(json_parser *jp, value_str *out) {
  const char *s = ++jp->p;
  jp->p = plain_end(jp->p, jp->end);
  if (jp->p >= jp->end) return fail(jp, "unterminated string");
  if (*jp->p == '"') {
    *out = (value_str){s, (uint32_t)(jp->p - s)};
    jp->p++;
    return true;
  }
  if (*jp->p != '\\') return fail(jp, "control character in a string");

  /* Escapes: decode into scratch, starting with the plain prefix. */
  char *o = jp->out, *begin = jp->out;
  memcpy(o, s, (size_t)(jp->p - s));
  o += jp->p - s;
  while (jp->p < jp->end) {
    unsigned char c = (unsigned char)*jp->p++;
    if (c == '"') {
      *out = (value_str){begin, (uint32_t)(o - begin)};
      jp->out = o;
      return true;
    }
    if (c < 0x20) {
      jp->p--;
      return fail(jp, "control character in a string");
    }
    if (c != '\\') {
      *o++ = (char)c;
      continue;
    }
    if (jp->p >= jp->end) break;
    char e = *jp->p++;
    switch (e) {
      case '"': case '\\': case '/': *o++ = e; break;
      case 'b': *o++ = '\b'; break;
      case 'f': *o++ = '\f'; break;
      case 'n': *o++ = '\n'; break;
      case 'r': *o++ = '\r'; break;
      case 't': *o++ = '\t'; break;
      case 'u': {
        unsigned cp;
        if (!read_hex4(jp, &cp)) return false;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return fail(jp, "lone low surrogate in a \\u escape");
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          unsigned low;
          if (jp->end - jp->p < 2 || jp->p[0] != '\\' || jp->p[1] != 'u')
            return fail(jp, "lone high surrogate in a \\u escape");
          jp->p += 2;
          if (!read_hex4(jp, &low)) return false;
          if (low < 0xDC00 || low > 0xDFFF) return fail(jp, "lone high surrogate in a \\u escape");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        o = put_utf8(o, cp);
        break;
      }
      default:
        jp->p--;
        return fail(jp, "bad escape in a string");
    }
  }
  return fail(jp, "unterminated string");
}

static bool is_digit(char c) { return (unsigned)(unsigned char)c - '0' <= 9; }

/* A number by JSON's grammar: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static bool parse_number(json_parser *jp, value_str *out) {
  const char *s = jp->p, *e = jp->end, *p = s;
  if (p < e && *p == '-') p++;
  if (p < e && *p == '0') {
    p++;
  } else if (p < e && is_digit(*p)) {
    while (p < e && is_digit(*p)) p++;
  } else {
    jp->p = p;
    return fail(jp, "bad number");
  }
  if (p < e && *p == '.') {
    p++;
    if (p == e || !is_digit(*p)) {
      jp->p = p;
      return fail(jp, "bad number");
    }
    while (p < e && is_digit(*p)) p++;
  }
  if (p < e && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < e && (*p == '+' || *p == '-')) p++;
    if (p == e || !is_digit(*p)) {
      jp->p = p;
      return fail(jp, "bad number");
    }
    while (p < e && is_digit(*p)) p++;
  }
  jp->p = p;
  *out = (value_str){s, (uint32_t)(p - s)};
  return true;
}

static bool parse_literal(json_parser *jp, const char *word, size_t n) {
  if ((size_t)(jp->end - jp->p) < n || memcmp(jp->p, word, n) != 0)
    return fail(jp, "unexpected character");
  jp->p += n;
  return true;
}

static bool parse_value(json_parser *jp, int depth, json_kind *kind, value_str *text);

/* The rest of an object or array after its opening bracket; its contents
 * are checked and dropped. */
static bool skip_container(json_parser *jp, char close, int depth) {
  if (depth > MAX_DEPTH) return fail(jp, "nesting too deep");
  skip_space(jp);
  if (jp->p < jp->end && *jp->p == close) {
    jp->p++;
    return true;
  }
  for (;;) {
    json_kind kind;
    value_str text;
    if (close == '}') {
      if (jp->p >= jp->end || *jp->p != '"') return fail(jp, "expected a key");
      if (!parse_string(jp, &text)) return false;
      skip_space(jp);
      if (jp->p >= jp->end || *jp->p != ':') return fail(jp, "expected ':'");
      jp->p++;
      skip_space(jp);
    }
    if (!parse_value(jp, depth + 1, &kind, &text)) return false;
    skip_space(jp);
    if (jp->p < jp->end && *jp->p == ',') {
      jp->p++;
      skip_space(jp);
      continue;
    }
    if (jp->p < jp->end && *jp->p == close) {
      jp->p++;
      return true;
    }
    return fail(jp, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
  }
}

static bool parse_value(json_parser *jp, int depth, json_kind *kind, value_str *text) {
  *text = empty_text;
  if (jp->p >= jp->end) return fail(jp, "expected a value");
  switch (*jp->p) {
    case '"': *kind = JSON_STRING; return parse_string(jp, text);
    case '{': *kind = JSON_OBJECT; jp->p++; return skip_container(jp, '}', depth);
    case '[': *kind = JSON_ARRAY; jp->p++; return skip_container(jp, ']', depth);
    case 't': *kind = JSON_TRUE; return parse_literal(jp, "true", 4);
    case 'f': *kind = JSON_FALSE; return parse_literal(jp, "false", 5);
    case 'n': *kind = JSON_NULL; return parse_literal(jp, "null", 4);
    default: *kind = JSON_NUMBER; return parse_number(jp, text);
  }
}

/* The first 8 bytes of a key of len bytes, zero-padded.  Where the key
 * lies in the line (in_line), they are read at once, past its end if
 * need be: the read buffer has IO_SLACK bytes after its data. */
static inline uint64_t key_head(const char *key, size_t len, bool in_line) {
  uint64_t head = 0;
  if (in_line || len >= 8) {
    memcpy(&head, key, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (len < 8) head &= ((uint64_t)1 << (8 * len)) - 1;   /* the first len bytes */
#else
    if (len < 8) head &= len ? ~(~(uint64_t)0 >> (8 * len)) : 0;
#endif
  } else {   /* a short key in scratch or a name: byte by byte, no call */
    unsigned char bytes[8] = {0};
    for (size_t i = 0; i < len; i++) bytes[i] = (unsigned char)key[i];
    memcpy(&head, bytes, 8);
  }
  return head;
}

/* Keys are short: a plain loop beats a call to memcmp. */
static bool same_key(const char *a, const char *b, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (a[i] != b[i]) return false;
  return true;
}

/* A key's hash (io_name_mix), from its head. */
static uint32_t key_hash(const char *name, size_t len, uint64_t head) {
  uint64_t tail = 0;
  if (len > 8) memcpy(&tail, name + len - 8, 8);
  return io_name_mix(len, head, tail);
}

/* The key named name (len bytes, head its key_head), or -1. */
static inline __attribute__((always_inline)) int find_key(const io_reader *r, const char *name, size_t len,
                                                         uint64_t head) {
  for (uint32_t i = key_hash(name, len, head) & r->key_mask;; i = (i + 1) & r->key_mask) {
    uint32_t k = r->key_slots[i];
    if (!k) return -1;
    const json_key *key = &r->keys[k - 1];
    if (key->head == head && key->len == len && (len <= 8 || same_key(key->name + 8, name + 8, len - 8)))
      return (int)k - 1;
  }
}

/* The key named name at member place `place` of a flat line: the key met
 * there in an earlier line if it is the same, else found and remembered. */
static inline __attribute__((always_inline)) int guess_key(io_reader *r, const char *name, size_t len,
                                                          uint64_t head, uint32_t place) {
  json_key_guess *g = &r->key_guess[place];
  if (g->head == head && g->len == len) {
    if (g->key == -1) return -1;   /* remembered only when head holds all of it */
    if (g->key >= 0 && (len <= 8 || same_key(r->keys[g->key].name + 8, name + 8, len - 8))) return g->key;
  }
  int k = find_key(r, name, len, head);
  if (k >= 0 || len <= 8) *g = (json_key_guess){.head = head, .len = (uint32_t)len, .key = k};
  return k;
}

/* Keeps a member if rows are read for its key; in_line: the key lies in
 * the line, not in scratch; place: its place among a flat line's members
 * (IO_KEY_GUESSES: no guess). */
static inline __attribute__((always_inline)) void keep_member(io_reader *r, value_str key, bool in_line,
                                                             json_kind kind, value_str text, bool nested,
                                                             uint32_t place) {
  uint64_t head = key_head(key.p, key.len, in_line);
  int k = place < IO_KEY_GUESSES ? guess_key(r, key.p, key.len, head, place) : find_key(r, key.p, key.len, head);
  if (k < 0) return;
  json_key *jk = &r->keys[k];
  if (jk->line == r->key_line && nested > jk->member.nested) return;   /* a top-level one was kept */
  jk->line = r->key_line;
  jk->member = (json_member){.text = text, .kind = (uint8_t)kind, .nested = nested};
}

/* The members of an object after its '{'; a top-level "properties"
 * object's are kept as nested. */
static bool parse_members(json_parser *jp, bool nested) {
  skip_space(jp);
  if (jp->p < jp->end && *jp->p == '}') {
    jp->p++;
    return true;
  }
  for (;;) {
    value_str key, text;
    json_kind kind;
    if (jp->p >= jp->end || *jp->p != '"') return fail(jp, "expected a key");
    if (!parse_string(jp, &key)) return false;
    skip_space(jp);
    if (jp->p >= jp->end || *jp->p != ':') return fail(jp, "expected ':'");
    jp->p++;
    skip_space(jp);
    if (!nested && key.len == 10 && memcmp(key.p, "properties", 10) == 0 && jp->p < jp->end &&
        *jp->p == '{') {
      jp->p++;
      if (!parse_members(jp, true)) return false;
    } else {
      if (!parse_value(jp, 1, &kind, &text)) return false;
      keep_member(jp->r, key, false, kind, text, nested, IO_KEY_GUESSES);
    }
    skip_space(jp);
    if (jp->p < jp->end && *jp->p == ',') {
      jp->p++;
      skip_space(jp);
      continue;
    }
    if (jp->p < jp->end && *jp->p == '}') {
      jp->p++;
      return true;
    }
    return fail(jp, "expected ',' or '}'");
  }
}

/* Marks the quotes of the n bytes at p in r->quotes, a bit a byte, up to
 * the first backslash or control character; returns its offset (n: none
 * among them).  Sixteen bytes at a time, past n too: a line lies in the
 * read buffer, which has IO_SLACK readable bytes after its data. */
static size_t mark_quotes(io_reader *r, const char *p, size_t n) {
  size_t words = (n + 63) / 64;
  if (words > r->quotes_cap) util_xgrow(&r->quotes, &r->quotes_cap, words, sizeof *r->quotes, 4);
  uint64_t word = 0;
  for (size_t i = 0; i < n; i += 16) {
    unsigned quote, special;
    string_marks(p + i, &quote, &special);
    if (n - i < 16) {   /* the bytes after the line are not its own */
      quote &= (1u << (n - i)) - 1;
      special &= (1u << (n - i)) - 1;
    }
    if (special) {   /* the marks stop there: its word is written as it is */
      size_t at = i + (size_t)__builtin_ctz(special);
      r->quotes[i / 64] = word | (uint64_t)(quote & ((1u << (at - i)) - 1)) << (i % 64);
      return at;
    }
    word |= (uint64_t)quote << (i % 64);
    if (i % 64 == 48 || i + 16 >= n) {   /* a word is full, or the line ends */
      r->quotes[i / 64] = word;
      word = 0;
    }
  }
  return n;
}

/* The marked quotes, taken in order. */
typedef struct quote_cursor {
  const uint64_t *words;
  size_t word, nwords;
  uint64_t bits;           /* of words[word], those not taken */
} quote_cursor;

/* The next quote's offset; SIZE_MAX after the last. */
static inline size_t next_quote(quote_cursor *c) {
  while (!c->bits) {
    if (++c->word >= c->nwords) return SIZE_MAX;
    c->bits = c->words[c->word];
  }
  size_t at = c->word * 64 + (size_t)__builtin_ctzll(c->bits);
  c->bits &= c->bits - 1;
  return at;
}

/* The common line, after its '{': a flat object whose values are plain
 * strings (no escape), numbers, true, false or null, with no space
 * between tokens, and nothing after it.  Its quotes are marked first, in
 * one pass (mark_quotes, by the caller), so that strings end at the next
 * mark without a scan (and without branches on their lengths); then it is
 * parsed in one pass, its members kept in r->keys.  False for anything
 * else (the line may still be good), which the general parser reads again
 * from the start. */
static bool parse_flat(json_parser *jp) {
  io_reader *r = jp->r;
  const char *base = jp->p;
  size_t n = (size_t)(jp->end - base), i = 0;
  if (n == 0) return false;
  quote_cursor quotes = {r->quotes, 0, (n + 63) / 64, r->quotes[0]};
  for (uint32_t place = 0;; place++) {
    if (i >= n || next_quote(&quotes) != i) return false;   /* the key's opening quote */
    size_t ke = next_quote(&quotes);
    if (ke == SIZE_MAX || ke + 1 >= n || base[ke + 1] != ':') return false;
    value_str key = {base + i + 1, (uint32_t)(ke - i - 1)}, text = empty_text;
    if (key.len == 10 && memcmp(key.p, "properties", 10) == 0) return false;
    i = ke + 2;
    if (i >= n) return false;
    json_kind kind = JSON_STRING;
    if (base[i] == '"') {
      next_quote(&quotes);   /* i itself */
      size_t ve = next_quote(&quotes);
      if (ve == SIZE_MAX) return false;
      text = (value_str){base + i + 1, (uint32_t)(ve - i - 1)};
      i = ve + 1;
    } else {
      jp->p = base + i;
      if (base[i] == '{' || base[i] == '[' || !parse_value(jp, 1, &kind, &text))
        return false;   /* a container: its strings may need the scratch buffer */
      i = (size_t)(jp->p - base);   /* a number or a literal holds no quote */
    }
    keep_member(r, key, true, kind, text, false, place);
    if (i < n && base[i] == ',') {
      i++;
      continue;
    }
    jp->p = base + i;
    return i + 1 == n && base[i] == '}';
  }
}

/* The common line, which starts with '{' and ends with a newline (or
 * CRLF) within PLAIN_LINE_MAX bytes, its members holding no backslash or
 * control character: its quotes are marked in the pass that finds its
 * end, and it is taken as read_line takes a line.  False (nothing taken)
 * for any other, and at the end of what the buffer holds: read_line takes
 * it (and a longer line's marks are sized by its length). */
enum { PLAIN_LINE_MAX = 64 << 10 };

static bool take_plain_line(io_reader *r) {
  io_source *s = &r->src;
  if (r->at_start || r->skipping || r->scan_off) return false;
  const char *p = s->buf + s->pos;
  size_t avail = s->end - s->pos;
  if (avail < 2 || p[0] != '{') return false;
  size_t limit = avail - 1;
  if (limit > r->max_record) limit = r->max_record;
  if (limit > PLAIN_LINE_MAX) limit = PLAIN_LINE_MAX;
  size_t n = mark_quotes(r, p + 1, limit);   /* the members, up to the line's end */
  if (n == limit) return false;
  size_t end = 1 + n + (p[1 + n] == '\r');   /* the newline's offset */
  if (end >= avail || p[end] != '\n') return false;
  r->record_start = s->pos;
  r->record_line = r->line++;
  r->record_len = n + 1;
  s->pos += end + 1;
  return true;
}

/* Reads and parses the next line, keeping its members in r->keys. */
static io_status read_object(io_reader *r, io_error *err) {
  bool marked = take_plain_line(r);
  if (!marked) {
    io_status st = read_line(r, err);
    if (st != IO_OK) return st;
  }
  const char *line = r->src.buf + r->record_start;
  json_parser jp = {.r = r, .start = line, .p = line, .end = line + r->record_len};
  r->key_line++;
  skip_space(&jp);
  if (jp.p < jp.end && *jp.p == '{') {
    const char *members = ++jp.p;
    size_t n = (size_t)(jp.end - members);
    if ((marked || mark_quotes(r, members, n) == n) && parse_flat(&jp)) return IO_OK;
    /* read again by the general parser, which decodes escapes into scratch */
    io_reserve_scratch(r, r->record_len);
    jp = (json_parser){.r = r, .start = line, .p = members, .end = line + r->record_len, .out = r->scratch};
    r->key_line++;   /* what the first pass kept is not this parse's */
    if (parse_members(&jp, false)) {
      skip_space(&jp);
      if (jp.p != jp.end) fail(&jp, "text after the object");
    }
  } else {
    fail(&jp, "expected a JSON object");
  }
  if (jp.error)
    return io_bad_row(r, err, "malformed JSON at byte %zu: %s", jp.error_at + 1, jp.error);
  return IO_OK;
}

/* ---- values ----------------------------------------------------------------------------------- */

/* The current line's member for key k; NULL when it has none. */
static const json_member *find_member(const io_reader *r, int k) {
  const json_key *key = &r->keys[k];
  return key->line == r->key_line ? &key->member : NULL;
}

static bool is_plain_integer(value_str t) {
  for (uint32_t i = 0; i < t.len; i++)
    if (t.p[i] == '.' || t.p[i] == 'e' || t.p[i] == 'E') return false;
  return true;
}

/* An integer from a JSON number: 42, or an integral 4.2e1. */
static bool number_to_int(value_str t, int64_t *out) {
  if (is_plain_integer(t)) return io_parse_int(t.p, t.len, out);
  double v;
  if (!io_parse_float(t.p, t.len, &v) || v != trunc(v)) return false;
  if (!(v >= -9223372036854775808.0 && v < 9223372036854775808.0)) return false;
  *out = (int64_t)v;
  return true;
}

/* Seconds as a JSON number to microseconds, rounded half away from zero.
 * Without an exponent the decimal text is converted exactly. */
static bool number_to_us(value_str t, int64_t *us) {
  if (memchr(t.p, 'e', t.len) || memchr(t.p, 'E', t.len)) {
    double v;
    if (!io_parse_float(t.p, t.len, &v)) return false;
    double x = round(v * 1e6);
    if (!(x >= -9.2e18 && x <= 9.2e18)) return false;
    *us = (int64_t)x;
    return true;
  }
  const char *p = t.p, *e = t.p + t.len;
  bool negative = p < e && *p == '-';
  if (negative) p++;
  int64_t whole = 0;
  for (; p < e && *p != '.'; p++) {
    if (whole > (INT64_MAX / 1000000 - 9) / 10) return false;
    whole = whole * 10 + (*p - '0');
  }
  int64_t micro = 0;
  int digits = 0;
  if (p < e) p++;   /* the point */
  for (; p < e && digits < 6; p++, digits++) micro = micro * 10 + (*p - '0');
  for (; digits < 6; digits++) micro *= 10;
  if (p < e && *p >= '5') micro++;   /* the seventh decimal rounds */
  int64_t v = whole * 1000000 + micro;
  *us = negative ? -v : v;
  return true;
}

static bool time_value(io_reader *r, const json_member *m, int64_t *us) {
  if (m->kind == JSON_STRING) return io_parse_time_cached(&r->time_cache, m->text.p, m->text.len, us);
  if (m->kind != JSON_NUMBER || !number_to_us(m->text, us)) return false;
  return *us >= IO_EPOCH_MIN_SECONDS * 1000000 && *us <= IO_TIME_MAX_US;   /* years 1 to 9999 */
}

static bool member_value(io_reader *r, value_type type, const json_member *m, value_data *out) {
  switch (type) {
    case VALUE_NONE: break;   /* schemas never hold it */
    case VALUE_BOOL:
      if (m->kind != JSON_TRUE && m->kind != JSON_FALSE) return false;
      out->b = m->kind == JSON_TRUE;
      return true;
    case VALUE_INT:
      if (m->kind == JSON_NUMBER) return number_to_int(m->text, &out->i);
      return m->kind == JSON_STRING && io_parse_int(m->text.p, m->text.len, &out->i);
    case VALUE_FLOAT:
      return (m->kind == JSON_NUMBER || m->kind == JSON_STRING) &&
             io_parse_float(m->text.p, m->text.len, &out->f);
    case VALUE_STRING:
      if (m->kind != JSON_STRING) return false;
      out->s = m->text;
      return true;
    case VALUE_TIME:
      return time_value(r, m, &out->i);
    case VALUE_DURATION:
      if (m->kind == JSON_NUMBER) return number_to_us(m->text, &out->i);
      return m->kind == JSON_STRING && io_parse_duration(m->text.p, m->text.len, &out->i);
  }
  return false;
}

/* A member's value for messages: strings quoted, numbers as written. */
static const char *show(char *buf, size_t cap, const json_member *m) {
  switch ((json_kind)m->kind) {
    case JSON_STRING: return io_quote(buf, cap, m->text.p, m->text.len);
    case JSON_NUMBER:
      snprintf(buf, cap, "%.*s%s", m->text.len > 60 ? 60 : (int)m->text.len, m->text.p,
               m->text.len > 60 ? "..." : "");
      return buf;
    case JSON_TRUE: return "true";
    case JSON_FALSE: return "false";
    case JSON_NULL: return "null";
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
  }
  return "a value";
}

static io_status convert_fields(io_reader *r, const io_field_schema *fields, int nfields,
                                const uint32_t *keys, io_error *err) {
  for (int f = 0; f < nfields; f++) {
    const io_field_schema *field = &fields[f];
    const json_member *m = find_member(r, (int)keys[f]);
    if (!m || m->kind == JSON_NULL) {
      if (!field->has_default)
        return io_bad_row(r, err, "missing value for required key %s", field->name);
      r->values[f] = field->default_value;
    } else if (!member_value(r, field->type, m, &r->values[f])) {
      char shown[128];
      return io_bad_row(r, err, "bad %s %s in key %s", value_type_name(field->type),
                        show(shown, sizeof shown, m), field->name);
    }
  }
  return IO_OK;
}

/* The account id in key k: a string, or an integer number as its text. */
static io_status account_id(io_reader *r, int k, value_str *id, io_error *err) {
  const char *key = r->keys[k].name;
  const json_member *m = find_member(r, k);
  if (!m || m->kind == JSON_NULL) return io_bad_row(r, err, "missing account id (key %s)", key);
  if (m->kind == JSON_STRING || (m->kind == JSON_NUMBER && is_plain_integer(m->text))) {
    if (m->text.len == 0) return io_bad_row(r, err, "empty account id");
    *id = m->text;
    return IO_OK;
  }
  char shown[128];
  return io_bad_row(r, err, "bad account id %s in key %s", show(shown, sizeof shown, m), key);
}

/* `milestone` / `playbook` of a control event: a string, or absent. */
static io_status control_name(io_reader *r, int k, value_str *out, io_error *err) {
  const char *key = r->keys[k].name;
  const json_member *m = find_member(r, k);
  *out = empty_text;
  if (!m || m->kind == JSON_NULL) return IO_OK;
  if (m->kind != JSON_STRING) {
    char shown[128];
    return io_bad_row(r, err, "bad %s name %s", key, show(shown, sizeof shown, m));
  }
  *out = m->text;
  return IO_OK;
}

/* The event of the current object, whose account id ev holds: its time,
 * type and values, or why the row is bad. */
static io_status object_event(io_reader *r, io_event *ev, io_error *err) {
  const json_member *time = find_member(r, KEY_TIME);
  if (!time || time->kind == JSON_NULL) return io_bad_row(r, err, "missing time");
  if (!time_value(r, time, &ev->time)) {
    char shown[128];
    return io_bad_row(r, err, "bad time %s in key time", show(shown, sizeof shown, time));
  }
  const json_member *name = find_member(r, KEY_EVENT);
  if (!name || name->kind == JSON_NULL || (name->kind == JSON_STRING && name->text.len == 0))
    return io_bad_row(r, err, "missing event name");
  if (name->kind != JSON_STRING) {
    char shown[128];
    return io_bad_row(r, err, "bad event name %s", show(shown, sizeof shown, name));
  }
  int type = io_event_begin(r, ev, name->text);
  io_status st = IO_OK;
  if (type >= 0) {
    const io_event_schema *es = &r->schema->events[type];
    st = convert_fields(r, es->fields, es->nfields, r->field_key + r->field_start[type], err);
    ev->values = r->values;
  } else if (IO_IS_CONTROL(type)) {
    st = control_name(r, KEY_MILESTONE, &ev->milestone, err);
    if (st == IO_OK) st = control_name(r, KEY_PLAYBOOK, &ev->playbook, err);
  }
  return st;
}

/* Whether the current object, of account id, is returned (io_keeps).  A
 * skipped one raises io_schema.skipped_latest, when the schema asks, if it
 * is a valid row: only one later than that is checked whole. */
static bool keeps_event(io_reader *r, const io_event *kept) {
  if (io_keeps(r, kept->account)) return true;
  const json_member *time = io_notes_skipped(r) ? find_member(r, KEY_TIME) : NULL;
  io_event ev = *kept;
  io_error err;
  if (time && time->kind != JSON_NULL && time_value(r, time, &ev.time) && io_skipped_is_later(r, ev.time) &&
      object_event(r, &ev, &err) == IO_OK)
    io_note_skipped(r, ev.time);
  return false;
}

/* ---- keys --------------------------------------------------------------------------------- */

/* The key named name, added if new. */
static uint32_t add_key(io_reader *r, const char *name) {
  size_t len = strlen(name);
  uint64_t head = key_head(name, len, false);
  int k = find_key(r, name, len, head);
  if (k >= 0) return (uint32_t)k;
  r->keys[r->nkeys] = (json_key){.name = name, .len = (uint32_t)len, .head = head};
  uint32_t i = key_hash(name, len, head) & r->key_mask;
  while (r->key_slots[i]) i = (i + 1) & r->key_mask;
  r->key_slots[i] = (uint32_t)r->nkeys + 1;
  return (uint32_t)r->nkeys++;
}

void io_jsonl_begin(io_reader *r) {
  static const char *const fixed[KEY_FIXED] = {"account", "id", "time", "event", "milestone", "playbook"};
  const io_schema *schema = r->schema;
  size_t nfields = (size_t)r->field_start[schema->nevents] + (size_t)schema->naccount_fields;
  size_t cap = 16;
  while (cap < 2 * (KEY_FIXED + nfields)) cap *= 2;
  r->keys = util_xalloc((KEY_FIXED + nfields) * sizeof *r->keys);
  r->key_slots = util_xalloc(cap * sizeof *r->key_slots);
  r->key_mask = (uint32_t)cap - 1;
  for (int i = 0; i < IO_KEY_GUESSES; i++) r->key_guess[i].key = -2;
  for (int k = 0; k < KEY_FIXED; k++) add_key(r, fixed[k]);
  r->field_key = util_xalloc((nfields + 1) * sizeof *r->field_key);
  for (int e = 0; e <= schema->nevents; e++) {
    const io_field_schema *fields;
    for (int f = 0, n = io_layout_fields(schema, e, &fields); f < n; f++)
      r->field_key[r->field_start[e] + f] = add_key(r, fields[f].name);
  }
}

/* ---- rows ---------------------------------------------------------------------------------- */

io_status io_jsonl_next_event(io_reader *r, io_event *ev, io_error *err) {
  io_status st;
  r->has_account = false;
  do {
    if ((st = read_object(r, err)) != IO_OK) return st;
    ev->file = r->path;
    ev->line = r->record_line;
    if ((st = account_id(r, KEY_ACCOUNT, &ev->account, err)) != IO_OK) return st;
  } while (!keeps_event(r, ev));
  r->has_account = true;
  return object_event(r, ev, err);
}

io_status io_jsonl_next_account(io_reader *r, io_account *acct, io_error *err) {
  io_status st;
  r->has_account = false;
  do {
    if ((st = read_object(r, err)) != IO_OK) return st;
    acct->file = r->path;
    acct->line = r->record_line;
    if ((st = account_id(r, KEY_ID, &acct->id, err)) != IO_OK) return st;
  } while (!io_keeps(r, acct->id));
  r->has_account = true;
  const io_schema *schema = r->schema;
  st = convert_fields(r, schema->account_fields, schema->naccount_fields,
                      r->field_key + r->field_start[schema->nevents], err);
  if (st != IO_OK) return st;
  acct->values = r->values;
  return IO_OK;
}
