/* diag.c — collecting and rendering diagnostics; see diag.h. */
#include "front/diag.h"

#include "core/util.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "front/codes.h"

void diag_init(diag_list *d, arena *a) {
  memset(d, 0, sizeof *d);
  d->arena = a;
}

static void diag_add(diag_list *d, diag_severity sev, char kind, msl_loc loc, int code,
                     const char *fmt, va_list ap) {
  va_list copy;
  va_copy(copy, ap);
  int n = vsnprintf(NULL, 0, fmt, copy);
  va_end(copy);
  char *msg = arena_alloc(d->arena, (size_t)(n < 0 ? 0 : n) + 1);
  vsnprintf(msg, (size_t)(n < 0 ? 0 : n) + 1, fmt, ap);
  diag *g = arena_alloc(d->arena, sizeof *g);
  g->severity = sev;
  g->kind = kind;
  g->code = code;
  g->loc = loc;
  g->message = msg;
  if (d->last) d->last->next = g;
  else d->first = g;
  d->last = g;
  if (sev == DIAG_ERROR) d->errors++;
  else if (sev == DIAG_WARNING) d->warnings++;
}

void diag_error(diag_list *d, msl_loc loc, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  diag_add(d, DIAG_ERROR, 'E', loc, code, fmt, ap);
  va_end(ap);
}

void diag_warning(diag_list *d, msl_loc loc, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  diag_add(d, DIAG_WARNING, 'W', loc, code, fmt, ap);
  va_end(ap);
}

msl_loc loc_span(msl_loc from, msl_loc to) {
  msl_loc l = from;
  l.end_line = to.end_line;
  l.end_col = to.end_col;
  return l;
}

static int diag_compare(const diag *a, const diag *b) {
  const char *pa = a->loc.src ? a->loc.src->path : "";
  const char *pb = b->loc.src ? b->loc.src->path : "";
  int c = strcmp(pa, pb);
  if (c) return c;
  if (a->loc.line != b->loc.line) return a->loc.line < b->loc.line ? -1 : 1;
  if (a->loc.col != b->loc.col) return a->loc.col < b->loc.col ? -1 : 1;
  return 0;
}

/* A merge sort of the list: stable, so equal keys stay in report order, and
 * n log n, since a generated file can have many thousand diagnostics. */
static diag *merge_sorted(diag *a, diag *b) {
  diag head = {0}, *tail = &head;
  while (a && b) {
    if (diag_compare(b, a) < 0) {
      tail->next = b;
      b = b->next;
    } else {
      tail->next = a;
      a = a->next;
    }
    tail = tail->next;
  }
  tail->next = a ? a : b;
  return head.next;
}

static diag *sort_list(diag *first, size_t n) {
  if (n < 2) {
    if (first) first->next = NULL;
    return first;
  }
  diag *middle = first;
  for (size_t i = 1; i < n / 2; i++) middle = middle->next;
  diag *second = middle->next;
  middle->next = NULL;
  /* recursion depth is log2 of the number of diagnostics */
  return merge_sorted(sort_list(first, n / 2), sort_list(second, n - n / 2));
}

void diag_sort(diag_list *d) {
  size_t n = 0;
  for (const diag *g = d->first; g; g = g->next) n++;
  d->first = sort_list(d->first, n);
  d->last = d->first;
  while (d->last && d->last->next) d->last = d->last->next;
}

void diag_move(diag_list *to, diag_list *from) {
  if (!from->first) return;
  if (to->last) to->last->next = from->first;
  else to->first = from->first;
  to->last = from->last;
  to->errors += from->errors;
  to->warnings += from->warnings;
  from->first = from->last = NULL;
  from->errors = from->warnings = 0;
}

void diag_drop_if(diag_list *d, bool (*drop)(const diag *g, void *ctx), void *ctx) {
  diag **link = &d->first;
  d->last = NULL;
  while (*link) {
    diag *g = *link;
    if (!drop(g, ctx)) {
      d->last = g;
      link = &g->next;
      continue;
    }
    if (g->severity == DIAG_ERROR) d->errors--;
    else if (g->severity == DIAG_WARNING) d->warnings--;
    *link = g->next;
  }
}

void diag_promote_warnings(diag_list *d) {
  for (diag *g = d->first; g; g = g->next)
    if (g->severity == DIAG_WARNING) {
      g->severity = DIAG_ERROR;
      d->warnings--;
      d->errors++;
    }
}

const char *diag_code_title(char kind, int code) {
#define MSL_CODE_TITLE(k, num, title) \
  if (kind == #k[0] && code == num) return title;
  MSL_DIAG_CODES(MSL_CODE_TITLE)
#undef MSL_CODE_TITLE
  return NULL;
}

static const char *severity_name(diag_severity s) {
  return s == DIAG_ERROR ? "error" : s == DIAG_WARNING ? "warning" : "note";
}

void source_index_lines(arena *a, msl_source *src) {
  int n = 1;
  for (const char *p = src->text, *end = src->text + src->len;
       (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
    n++;
  size_t *starts = arena_alloc(a, sizeof *starts * (size_t)n);
  int line = 1;
  for (size_t i = 0; i < src->len; i++)
    if (src->text[i] == '\n') starts[line++] = i + 1;
  src->line_starts = starts;
  src->nlines = n;
}

/* The bytes of line `line` (1-based) of src, without its newline. */
static const char *source_line(const msl_source *src, int line, size_t *len) {
  const char *p = src->text, *end = src->text + src->len;
  if (src->line_starts) {
    if (line > src->nlines) return NULL;
    p += src->line_starts[line - 1];
    line = 1;
  }
  for (int l = 1; l < line && p < end; l++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl) return NULL;
    p = nl + 1;
  }
  if (p > end) return NULL;
  const char *nl = memchr(p, '\n', (size_t)(end - p));
  size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
  if (n && p[n - 1] == '\r') n--;
  *len = n;
  return p;
}

/* The line as it is, but a NUL byte (an error in itself) is shown as the
 * one-column symbol U+2400, so the rest of the line and the caret follow. */
static void put_source_line(FILE *out, const char *text, size_t len) {
  for (const char *p = text, *end = text + len; p < end;) {
    const char *nul = memchr(p, '\0', (size_t)(end - p));
    size_t n = nul ? (size_t)(nul - p) : (size_t)(end - p);
    fwrite(p, 1, n, out);
    if (!nul) break;
    fputs("\xE2\x90\x80", out);
    p = nul + 1;
  }
  fputc('\n', out);
}

static void render_text(FILE *out, const diag_list *d, bool color) {
  const char *bold = color ? "\033[1m" : "", *reset = color ? "\033[0m" : "";
  for (const diag *g = d->first; g; g = g->next) {
    const char *sev_color = !color ? "" : g->severity == DIAG_ERROR ? "\033[1;31m" : "\033[1;35m";
    if (g->loc.src && g->loc.line > 0)
      fprintf(out, "%s%s:%d:%d:%s ", bold, g->loc.src->path, g->loc.line, g->loc.col, reset);
    else if (g->loc.src)
      fprintf(out, "%s%s:%s ", bold, g->loc.src->path, reset);
    fprintf(out, "%s%s[%c%03d]%s: %s%s%s\n", sev_color, severity_name(g->severity), g->kind,
            g->code, reset, bold, g->message, reset);
    size_t len;
    const char *text = g->loc.src && g->loc.line > 0 ? source_line(g->loc.src, g->loc.line, &len) : NULL;
    if (!text) continue;
    fprintf(out, "%5d | ", g->loc.line);
    put_source_line(out, text, len);
    int from = g->loc.col < 1 ? 1 : g->loc.col;
    int to = g->loc.end_line == g->loc.line && g->loc.end_col >= from ? g->loc.end_col : from;
    if ((size_t)from > len + 1) from = (int)len + 1;
    if ((size_t)to > len + 1) to = (int)len + 1;
    if (to < from) to = from;
    fprintf(out, "      | ");
    /* keep tabs so the caret lines up under the source text */
    for (int i = 1; i < from; i++) fputc(text[i - 1] == '\t' ? '\t' : ' ', out);
    fputs(sev_color, out);
    fputc('^', out);
    for (int i = from + 1; i <= to; i++) fputc('~', out);
    fprintf(out, "%s\n", reset);
  }
}

/* stderr is unbuffered: the text is rendered into memory first and written
 * at once, or a file with many thousand diagnostics costs a system call
 * per character.  Without the memory, it is written directly. */
void diag_render_text(FILE *out, const diag_list *d, bool color) {
  char *text = NULL;
  size_t len = 0;
  FILE *buffer = open_memstream(&text, &len);
  if (!buffer) {
    render_text(out, d, color);
    return;
  }
  render_text(buffer, d, color);
  if (fclose(buffer) == 0) fwrite(text, 1, len, out);
  else render_text(out, d, color);
  free(text);
}


void diag_render_json(FILE *out, const diag_list *d) {
  fputs("[", out);
  for (const diag *g = d->first; g; g = g->next) {
    fprintf(out, "%s\n  {\"file\": ", g == d->first ? "" : ",");
    util_json_string_file(out, g->loc.src ? g->loc.src->path : "");
    fprintf(out, ", \"line\": %d, \"column\": %d, \"end_line\": %d, \"end_column\": %d, ",
            g->loc.line, g->loc.col, g->loc.end_line, g->loc.end_col);
    fprintf(out, "\"severity\": \"%s\", \"code\": \"%c%03d\", \"message\": ",
            severity_name(g->severity), g->kind, g->code);
    util_json_string_file(out, g->message);
    fputs("}", out);
  }
  fputs(d->first ? "\n]\n" : "]\n", out);
}

/* SARIF 2.1.0, the subset GitHub code scanning reads: one run, the tool's
 * rules (the codes that occur, each once), results with a physical location
 * relative to the working directory. */
void diag_render_sarif(FILE *out, const diag_list *d, const char *tool_version) {
  fputs("{\n  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n"
        "  \"version\": \"2.1.0\",\n  \"runs\": [{\n"
        "    \"tool\": {\"driver\": {\"name\": \"msl\", \"informationUri\": "
        "\"https://example.invalid/msl/docs/errors.md\", \"version\": ", out);
  util_json_string_file(out, tool_version);
  fputs(", \"rules\": [", out);
  int nrules = 0;
  bool listed[2][1000] = {{false}};   /* [is warning][code]: codes have 3 digits */
  for (const diag *g = d->first; g; g = g->next) {
    bool *seen = &listed[g->kind == 'W'][(unsigned)g->code % 1000];
    if (*seen) continue;
    *seen = true;
    const char *title = diag_code_title(g->kind, g->code);
    fprintf(out, "%s\n      {\"id\": \"%c%03d\", \"shortDescription\": {\"text\": ", nrules++ ? "," : "",
            g->kind, g->code);
    util_json_string_file(out, title ? title : g->message);
    fprintf(out, "}, \"helpUri\": \"https://example.invalid/msl/docs/errors.md#%c%03d\"}", g->kind,
            g->code);
  }
  fputs(nrules ? "\n    ]}},\n" : "]}},\n", out);
  fputs("    \"results\": [", out);
  for (const diag *g = d->first; g; g = g->next) {
    fprintf(out, "%s\n      {\"ruleId\": \"%c%03d\", \"level\": \"%s\", \"message\": {\"text\": ",
            g == d->first ? "" : ",", g->kind, g->code,
            g->severity == DIAG_ERROR ? "error" : g->severity == DIAG_WARNING ? "warning" : "note");
    util_json_string_file(out, g->message);
    fputs("}, \"locations\": [{\"physicalLocation\": {\"artifactLocation\": {\"uri\": ", out);
    util_json_string_file(out, g->loc.src ? g->loc.src->path : "");
    fputs("}", out);
    if (g->loc.line > 0)
      fprintf(out, ", \"region\": {\"startLine\": %d, \"startColumn\": %d, \"endLine\": %d, \"endColumn\": %d}",
              g->loc.line, g->loc.col < 1 ? 1 : g->loc.col,
              g->loc.end_line < g->loc.line ? g->loc.line : g->loc.end_line,
              (g->loc.end_line > g->loc.line ? g->loc.end_col : (g->loc.end_col < g->loc.col ? g->loc.col : g->loc.end_col)) + 1);
    fputs("}}]}", out);
  }
  fputs(d->first ? "\n    ]\n  }]\n}\n" : "]\n  }]\n}\n", out);
}
