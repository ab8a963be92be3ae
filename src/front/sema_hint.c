/* sema_hint.c — "did you mean" for names that name nothing (prefix
 * sema_hint_): the closest candidate within suggest_default_distance of the
 * word, the first offered among equally close ones.  See sema_phases.h. */
#include "core/suggest.h"
#include "front/sema_phases.h"

sema_hint sema_hint_start(const char *word, long *budget) {
  sema_hint h = {.budget = budget};
  if (!word || !*word) return h;  /* no word: every short name would be close */
  h.s.word = word;
  h.s.max_distance = suggest_default_distance(word);
  return h;
}

void sema_hint_offer(sema_hint *h, const char *candidate) {
  if (*h->budget <= 0) return;
  --*h->budget;
  suggest_offer(&h->s, candidate);
}

void sema_hint_decls(sema_hint *h, const ptr_vec *decls) {
  for (int i = 0; i < decls->len && *h->budget > 0; i++)
    sema_hint_offer(h, ((const ast_decl *)decls->items[i])->name.text);
}

void sema_hint_fields(sema_hint *h, const ptr_vec *fields) {
  for (int i = 0; i < fields->len && *h->budget > 0; i++)
    sema_hint_offer(h, ((const ast_field *)fields->items[i])->name.text);
}

const char *sema_hint_text(arena *a, const sema_hint *h) {
  return h->s.best ? arena_printf(a, "; did you mean `%s`?", h->s.best) : "";
}
