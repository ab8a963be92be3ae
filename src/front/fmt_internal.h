/* fmt_internal.h — what the formatter's two files share, private to fmt.c
 * (the source text, placing comments, writing the output) and fmt_print.c
 * (printing the declarations into output lines): the output lines and the
 * formatter's state, and the functions each file offers the other.  Users of
 * the formatter see fmt.h. */
#ifndef MSL_FMT_INTERNAL_H
#define MSL_FMT_INTERNAL_H

#include "front/fmt.h"

/* A place in the source text: 1-based line and column. */
typedef struct src_pos {
  int line, col;
} src_pos;

/* One line of output, before comments and blank lines are decided. */
typedef struct out_line {
  int indent;                /* in spaces */
  const char *text;
  int src_first, src_last;   /* the source lines it was printed from */
  int comment_indent;        /* in spaces, for the full-line comments before it */
  bool opens_block;          /* ends with `{` */
  bool closes_block;         /* is `}` */
  bool force_blank_before;   /* first line of a declaration that must be
                                separated from the previous one */
  ptr_vec before;            /* const ast_comment*, full-line */
  ptr_vec trailing;          /* const ast_comment*, at the end */
} out_line;

/* The formatter's state while fmt_module runs. */
typedef struct fmt_ctx {
  arena arena;
  const ast_module *module;
  const char *text;          /* the source, for blank lines and braces */
  size_t text_len;
  size_t *line_start;        /* byte offset of each line (0-based index) */
  int line_count;
  ptr_vec lines;             /* out_line* */
  ptr_vec end_comments;      /* comments after the last line */
  fmt_buf line;              /* the line being printed */
  const ast_expr *tail;      /* the expression that ends it, if any ... */
  size_t tail_start;         /* ... printed from this byte on */
  bool incomplete;           /* a node the parser would never leave out is missing */
} fmt_ctx;

/* ---- fmt.c ------------------------------------------------------------------- */

/* Where the `{` of a construct starting at `from` is: the first `{` after
 * it outside strings, backquoted names and comments. */
src_pos fmt_find_open_brace(const fmt_ctx *c, msl_loc from);

/* Whether a comment lies strictly between two source positions. */
bool fmt_comment_between(const fmt_ctx *c, src_pos open, src_pos close);

/* ---- fmt_print.c ------------------------------------------------------------- */

/* Pass 1: prints every declaration of the module into c->lines; sets
 * c->incomplete when a node is missing. */
void fmt_print_decls(fmt_ctx *c);

#endif
