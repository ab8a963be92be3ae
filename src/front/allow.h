/* allow.h — `# msl: allow W005` comments (allow.c): silencing chosen
 * warnings on one line of the checked file.
 *
 * A comment `# msl: allow CODE...` (codes separated by commas or spaces;
 * text after `--` is a free reason) silences those warnings on its own
 * line when it trails code, and on the next line that holds code when it
 * stands alone.  A warning belongs to the line its span starts on.  Only
 * W codes can be allowed; a `# msl:` comment that is not a valid allow is
 * itself a warning, W009.  The comments stay ordinary comments: the lexer
 * keeps them for the formatter, which leaves them as they are. */
#ifndef MSL_ALLOW_H
#define MSL_ALLOW_H

#include "front/ast.h"
#include "front/diag.h"

/* Reports the malformed `# msl:` comments of m into d (W009), then drops
 * from d each warning in m's source that one of its allows silences. */
void allow_apply(const ast_module *m, diag_list *d);

#endif
