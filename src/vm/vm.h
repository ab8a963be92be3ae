/* vm.h — the MSL virtual machine: per-account state and evaluation.
 *
 * A runtime holds one program and the state of every account it has seen.
 * Events are pushed per account in non-decreasing time; events with equal
 * times form a batch that is applied as one instant (SPEC 6).  Batches of
 * every account at the current instant share one store, flushed when time
 * moves on, so memory follows accounts x state, never the input's length.
 *
 * Between batches, the VM also evaluates at the instants where a value
 * changes on its own: a window expiry (e + D) and a `start at` time. */
#ifndef MSL_VM_H
#define MSL_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bc/bc.h"
#include "io/history_out.h"
#include "io/io.h"
#include "io/output.h"
#include "vm/native.h"

typedef struct vm_runtime vm_runtime;
typedef struct vm_account vm_account;

enum { VM_OK = 0, VM_ERROR = -1, VM_UNSORTED = -2 };

/* Errors: a call that fails (false, NULL or VM_ERROR) leaves its message
 * in the runtime, read with vm_error, as Lua leaves it on the lua_State.
 * Out of memory is not returned: it ends the process with exit status 4
 * (util_out_of_memory, docs/cli.md), the one policy of every layer. */

/* externs[x] is the bound function of extern x, or NULL when the program
 * never calls it. */
vm_runtime *vm_runtime_new(const bc_program *p, native_fn *const *externs);
/* Frees the runtime and the blocks of its accounts: free each account
 * (vm_account_free) first. */
void vm_runtime_free(vm_runtime *rt);
/* Control events that named nothing valid (summary.json ignored_control). */
int64_t vm_ignored_control(const vm_runtime *rt);
/* The message of the last failed call ("runtime error: ... at <time>"). */
const char *vm_error(const vm_runtime *rt);

/* A new account; fields NULL means every field takes its default (the
 * caller has checked there are no required ones).  Segments, `start at`
 * times and step conditions are evaluated here; a runtime error there
 * returns NULL. */
vm_account *vm_account_new(vm_runtime *rt, value_str id, const value_data *fields);
const char *vm_account_id(const vm_runtime *rt, const vm_account *a, size_t *len);
/* The account's field values, one per account field of the program,
 * defaults applied; strings live until vm_account_free. */
const value_data *vm_account_fields(const vm_runtime *rt, const vm_account *a);
/* Hints, for a caller that knows which accounts come next: the first
 * fetches an account's block (header and state), the second, once that
 * has arrived, the memory its next event will touch outside the block
 * (window entries, set slots). */
void vm_prefetch_block(const vm_runtime *rt, const vm_account *a);
void vm_prefetch(const vm_runtime *rt, const vm_account *a);
/* Releases what the account owns; its block, window entries and set
 * slots go with its runtime. */
void vm_account_free(const vm_runtime *rt, vm_account *a);

/* Queues a declared or control event of account a.  Returns VM_OK,
 * VM_UNSORTED when it is older than the account's last instant, or VM_ERROR
 * (a runtime error while evaluating earlier instants). */
int vm_push(vm_runtime *rt, vm_account *a, const io_event *ev);
/* Applies every queued batch.  false on a runtime error. */
bool vm_flush(vm_runtime *rt);

/* Evaluates account a up to the as-of time T (after vm_flush) and fills its
 * result rows: one per applicable milestone / playbook, in declaration
 * order, and its signals sorted (time, source order, clause, emission),
 * overdue ones included (decided at T: call it once per account).  The
 * milestone and playbook rows are the runtime's, valid until the next
 * vm_finish; the signals are the account's.  false on a runtime error. */
typedef struct vm_results {
  out_milestone_row *milestones;
  int nmilestones;
  out_playbook_row *playbooks;
  int nplaybooks;
  out_signal *signals;
  int nsignals;
  /* with vm_set_history: the account's history (the account's, valid until
   * it is freed) */
  const history_out_row *history;
  int nhistory;
} vm_results;
bool vm_finish(vm_runtime *rt, vm_account *a, int64_t as_of, vm_results *out);

/* An observer of evaluations, for `msl test --coverage` and `msl explain`:
 * told each value a criterion takes where a run evaluates it (the
 * observer never makes the VM evaluate more), and each step an account's
 * playbook enters (step == nsteps: done).  Its functions may be NULL. */
typedef enum { VM_CRIT_ENTRY, VM_CRIT_EXIT, VM_CRIT_ACTION, VM_CRIT_BLOCKED } vm_criterion;
typedef struct vm_observer {
  void (*criterion)(void *ctx, const vm_account *a, uint32_t milestone, vm_criterion kind, uint32_t action,
                    int64_t t, bool value);
  void (*step)(void *ctx, const vm_account *a, uint32_t playbook, int32_t step, int64_t t);
  void *ctx;
  /* each control event pushed (type IO_EV_ASSIGN ... IO_EV_ADVANCE), as
   * the input names its target: whether it names anything is the VM's to
   * decide when its instant is finished */
  void (*control)(void *ctx, const vm_account *a, const io_event *ev);
} vm_observer;
/* o NULL: no observer (the default).  o must outlive its use. */
void vm_set_observer(vm_runtime *rt, const vm_observer *o);

/* `msl run --history`: on, the runtime records for every account each
 * change of a milestone's status and of a playbook's step, as an as-of run
 * at each instant would report them, and vm_finish returns them.  A run
 * without it pays one test per evaluation instant.  `blocked when` is then
 * evaluated at every instant where a status needs it; a runtime error
 * there leaves that milestone's status at that instant unknown (no row),
 * never failing the run (docs/decisions.md).  Set it before the first
 * account is made: it decides which window expiries are instants. */
void vm_set_history(vm_runtime *rt, bool on);

/* Evaluates value block b of the program for account a at the instant
 * where its evaluation stands (after vm_finish: the as-of time), for `msl
 * explain`; reads the state, never changes what a run computes.  A string
 * result lives until the next evaluation.  false on a runtime error: then
 * vm_error gives the error alone ("integer division by zero"), without the
 * place, account and time a run's message adds. */
bool vm_eval_block(vm_runtime *rt, vm_account *a, uint32_t b, value_data *out);

#endif
