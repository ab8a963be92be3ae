/* fmt.h — the canonical formatter behind `msl fmt`.
 *
 * fmt_module prints a parsed module (never needs the checker) in one
 * canonical form that keeps every comment and never changes the meaning.
 * Formatting is idempotent: formatting the output again gives it unchanged.
 * The rules, precisely:
 *
 * Layout
 * - Two spaces per indentation level; no tab, no trailing white space; the
 *   output ends with exactly one newline (an empty module gives "").
 * - Tokens are separated by one space, except: none inside `a.b`, after
 *   `(` / `[` or before `)` / `]` / `,`, between a function or aggregate name
 *   and its `(`, and after a unary `-` (unless its operand itself starts with
 *   `-`).  Binary operators, `=`, `==`, `->` get one space each side; `:` in
 *   a field or parameter is followed by one space; `,` by one space.
 * - Expressions are printed on one line, with one exception: a line longer
 *   than 100 columns (indentation included, counting UTF-8 code points,
 *   trailing comments not counted) that ends in an unparenthesised `and` or
 *   `or` chain is broken before each operator of that outermost chain (not
 *   of chains nested in its operands), and each continuation line starts
 *   with the operator, aligned under the chain's first operand:
 *       exit count(login within 7d) >= 5
 *            and count(ticket within 14d) == 0
 *   The expressions that can end a line: segment, let and fn bodies,
 *   start at/on-where, deadline, estimate, entry, exit, blocked when,
 *   action done when, step when.  Nothing else is ever wrapped.
 *
 * Text kept exactly as written
 * - Strings, numbers, times and durations (their `raw` spelling).
 * - Names; a name is backquoted when it was written backquoted.  (In a tree
 *   not made by the parser, a keyword where only a name may stand is
 *   backquoted too; after a dot, as a field name, a status or `done`, a
 *   keyword may stand bare and is printed as it is.)
 * - Parentheses the user wrote (expr->parens; the tree keeps one flag per
 *   expression, so `((x))` becomes `(x)`).  None are added, except where
 *   the tree's meaning needs them (a child binding looser than its parent).
 *
 * Declarations, one or more lines each, in source order
 * - `import "P"`, `segment N = E`, `let N = E`, `fn N(p: T, ...) = E`,
 *   `extern fn N(p: T, ...) -> T from "LIB"`: one line (unless wrapped, above).
 * - Field lists (`account { f: T = D ... }`, `event N { ... }`, and in test
 *   blocks `account [ID] { f = V ... }` and `TIME E { f = V ... }`): on one
 *   line as `{ a: T, b: T = D }` when that line is at most 100 columns
 *   (indentation included, counting UTF-8 code points) and no comment lies
 *   between the braces; otherwise `{` ends the line, one field per line
 *   without commas, `}` on its own line.  An event without fields (schema or
 *   test event) is printed without braces; an account without fields as
 *   `account {}`.
 * - milestone / playbook / test blocks: `KIND NAME ["Display"] {`, one
 *   clause (or test item) per line in source order, `}` on its own line;
 *   `{}` on the header line when the block is empty and holds no comment.
 *   Inside a test, `events {` holds one event per line (`events {}` when
 *   empty and without comments).
 *
 * Blank lines
 * - Between any two lines (code or comment), one blank line is printed where
 *   the source had one or more blank lines between them, none otherwise;
 *   never at the start of the file, right after a `{` or right before a `}`.
 * - Two consecutive top-level declarations of which at least one is a
 *   milestone, playbook or test, or prints on more than one line (a
 *   multi-line account or event), are always separated by one blank line:
 *   when the source had none anywhere between them (comments included), one
 *   is put right after the first declaration.
 *
 * Comments
 * - A full-line comment is printed on its own line before the first output
 *   line whose source text ends at or after it (so before the construct that
 *   follows it, even when the comment sat inside a construct printed on one
 *   line), at that line's indentation; before a closing `}` it gets the
 *   indentation of the block's contents.
 * - A trailing comment is printed at the end of the last output line whose
 *   source text starts at or before the comment's line, after two spaces;
 *   several trailing comments on one output line follow each other, two
 *   spaces apart.  Trailing white space in a comment is dropped.
 *
 * Precondition: the module was parsed without syntax errors.  fmt_module
 * returns false when the tree is incomplete (a missing node) or memory runs
 * out; out then holds nothing useful. */
#ifndef MSL_FMT_H
#define MSL_FMT_H

#include <stdbool.h>
#include <stddef.h>

#include "front/ast.h"

/* A growable byte buffer owned by its user (malloc'd). */
typedef struct fmt_buf {
  char *data;      /* NUL-terminated when not NULL */
  size_t len, cap;
} fmt_buf;

void fmt_buf_init(fmt_buf *b);
void fmt_buf_free(fmt_buf *b);
/* Appends n bytes (out of memory ends msl: util_out_of_memory). */
void fmt_buf_append(fmt_buf *b, const char *s, size_t n);

/* Appends the canonical text of m to out (out->data is then never NULL). */
bool fmt_module(const ast_module *m, fmt_buf *out);

/* Appends expression e as fmt_module prints it, on one line (never
 * wrapped), for showing a part of a rule (`msl explain`); false when the
 * tree is incomplete. */
bool fmt_expr(const ast_expr *e, fmt_buf *out);

#endif
