/* parse.h — source loading and the parser entry point (grammar/msl.y). */
#ifndef MSL_PARSE_H
#define MSL_PARSE_H

#include "front/ast.h"
#include "front/diag.h"

/* Reads a whole rule file (rule files are small; event logs are streamed
 * elsewhere).  On failure returns NULL and sets *err to errno. */
msl_source *source_load(arena *a, const char *path, int *err);
/* Reads standard input until EOF; NULL and *err on failure. */
msl_source *source_load_stdin(arena *a, const char *display_name, int *err);
msl_source *source_from_string(arena *a, const char *path, const char *text, size_t len);

/* Parses one source.  Syntax errors are reported to diags with recovery, so
 * one call reports every syntax error; the module holds what could be
 * parsed.  Never returns NULL.  Comments are kept in module->comments. */
ast_module *parse_module(arena *a, const msl_source *src, diag_list *diags);

#endif
