/* test_io_keep.c — a reader's share of the accounts (io_schema.keep), as
 * -j workers and --shard use it: the rows of other accounts skipped, a bad
 * row that has an account told from one that has none (has_account), an
 * empty id never shown to keep, and the latest time of the skipped rows
 * taken from valid rows only (skipped_latest), in CSV and JSON Lines. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/io_internal.h"

static const io_field_schema login_fields[] = {{.name = "n", .type = VALUE_INT}};
static const io_event_schema events[] = {{"login", 1, login_fields}};

/* Keeps the accounts whose id starts with `k`; counts what it is shown. */
typedef struct keeper {
  int calls, empty_ids;
} keeper;

static bool keep_k(const void *ctx, value_str id) {
  keeper *k = (keeper *)ctx;
  k->calls++;
  k->empty_ids += id.len == 0;
  return id.len > 0 && id.p[0] == 'k';
}

typedef struct outcome {
  char got[256];           /* "kept:ID" or "bad:REASON:has_account" per row */
  int64_t skipped_latest;
  keeper keeper;
} outcome;

static void read_all(const char *text, io_format fmt, outcome *o) {
  memset(o, 0, sizeof *o);
  o->skipped_latest = INT64_MIN;
  io_schema schema = {.nevents = 1, .events = events, .keep = keep_k, .keep_ctx = &o->keeper,
                      .skipped_latest = &o->skipped_latest};
  io_options opts = {.data = text, .data_len = strlen(text)};
  io_error err = {0};
  io_reader *r = io_reader_open(&schema, "mem", fmt, false, &opts, &err);
  ck_assert_msg(r != NULL, "%s", err.reason);
  for (;;) {
    io_event ev;
    io_status st = io_events_next(r, &ev, &err);
    if (st == IO_EOF) break;
    size_t n = strlen(o->got);
    if (st == IO_OK)
      snprintf(o->got + n, sizeof o->got - n, "kept:%.*s ", (int)ev.account.len, ev.account.p);
    else if (st == IO_BAD_ROW)
      snprintf(o->got + n, sizeof o->got - n, "bad:%d ", err.has_account);
    else
      ck_abort_msg("read failed: %s", err.reason);
  }
  io_close(r);
}

#define T(s) ((int64_t)(s) * 1000000)

START_TEST(csv_share) {
  outcome o;
  read_all("account,time,event,n\n"
           "k1,100,login,1\n"
           "x1,300,login,1\n"          /* skipped: raises skipped_latest to 300 */
           "x2,500,login,oops\n"       /* skipped, bad: does not */
           "x3,400,undeclared,\n"      /* skipped, valid (undeclared types count for T) */
           "k2,200,login,x\n"          /* kept, bad: has an account */
           ",250,login,1\n"            /* no account */
           "x4,600,login,1,9\n"        /* ragged: no account */
           "x5,bad,login,1\n",         /* skipped, bad time */
           IO_FORMAT_CSV, &o);
  ck_assert_str_eq(o.got, "kept:k1 bad:1 bad:0 bad:0 ");
  ck_assert_int_eq(o.skipped_latest, T(400));
  ck_assert_int_eq(o.keeper.empty_ids, 0);
  ck_assert_int_eq(o.keeper.calls, 6);
}
END_TEST

START_TEST(jsonl_share) {
  outcome o;
  read_all("{\"account\":\"k1\",\"time\":100,\"event\":\"login\",\"n\":1}\n"
           "{\"account\":\"x1\",\"time\":300,\"event\":\"login\",\"n\":1}\n"
           "{\"account\":\"x2\",\"time\":500,\"event\":\"login\",\"n\":\"oops\"}\n"
           "{\"account\":\"x3\",\"time\":null,\"event\":\"login\",\"n\":1}\n"
           "{\"account\":\"k2\",\"time\":200,\"event\":\"login\"}\n"
           "{\"account\":\"\",\"time\":250,\"event\":\"login\",\"n\":1}\n"
           "[1]\n",
           IO_FORMAT_JSONL, &o);
  ck_assert_str_eq(o.got, "kept:k1 bad:1 bad:0 bad:0 ");
  ck_assert_int_eq(o.skipped_latest, T(300));
  ck_assert_int_eq(o.keeper.empty_ids, 0);
}
END_TEST

START_TEST(no_note_without_asking) {
  /* skipped_latest NULL: skipped rows are not looked at */
  keeper k = {0};
  io_schema schema = {.nevents = 1, .events = events, .keep = keep_k, .keep_ctx = &k};
  const char *text = "account,time,event,n\nx1,300,login,1\nk1,100,login,1\n";
  io_options opts = {.data = text, .data_len = strlen(text)};
  io_error err = {0};
  io_reader *r = io_reader_open(&schema, "mem", IO_FORMAT_CSV, false, &opts, &err);
  ck_assert_ptr_nonnull(r);
  io_event ev;
  ck_assert_int_eq(io_events_next(r, &ev, &err), IO_OK);
  ck_assert_int_eq(ev.account.p[0], 'k');
  ck_assert_int_eq(io_events_next(r, &ev, &err), IO_EOF);
  io_close(r);
}
END_TEST

int main(void) {
  Suite *s = suite_create("io_keep");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, csv_share);
  tcase_add_test(tc, jsonl_share);
  tcase_add_test(tc, no_note_without_asking);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
