/* codes.h — every diagnostic code, defined once.
 *
 * X(kind, number, title): kind 'E' (error) or 'W' (warning).  The lists live
 * beside the phase that reports them; docs/errors.md documents every code and
 * tests/unit/test_codes.c checks that it does. */
#ifndef MSL_CODES_H
#define MSL_CODES_H

#include "front/codes_syntax.h"   /* E001-E019: lexer and parser */
#include "front/codes_check.h"    /* E020-E089: names, types, imports; W001-W099: lints */
#include "front/codes_cli.h"      /* E090-E099: command line and files */

#define MSL_DIAG_CODES(X) MSL_SYNTAX_CODES(X) MSL_CHECK_CODES(X) MSL_CLI_CODES(X)

/* Named constants: DIAG_E001, DIAG_W003 ... */
enum {
#define MSL_CODE_ENUM(kind, num, title) DIAG_##kind##num = num,
  MSL_DIAG_CODES(MSL_CODE_ENUM)
#undef MSL_CODE_ENUM
};

#endif
