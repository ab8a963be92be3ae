/* report_cmd.c — `msl report DIR [--format csv|jsonl]` (report_cmd.h).
 *
 * The page is built from the directory's files alone (io/report.h), under
 * the directory's lock, so it never reads the files of a run half way
 * through its commit, and written like every result: a temporary file
 * renamed into place.  Without --format, the rows are milestones.csv or
 * milestones.jsonl, whichever exists; when both do (runs of both formats
 * into one directory), the newer one, since a run commits its rows and
 * summary.json together.  The tracking rows are read when the directory
 * has them in that format. */
#include "cli/report_cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/run.h"
#include "core/util.h"
#include "io/commit.h"
#include "io/report.h"

static char *join(const char *dir, const char *name) {
  size_t len = strlen(dir) + strlen(name) + 2;
  char *p = util_xalloc(len);
  snprintf(p, len, "%s/%s", dir, name);
  return p;
}

/* Whether dir has milestones.jsonl rather than milestones.csv; false with
 * msg when it has neither. */
static bool pick_format(const char *dir, bool *jsonl, char *msg, size_t msglen) {
  char *csv = join(dir, "milestones.csv"), *jl = join(dir, "milestones.jsonl");
  struct stat c, j;
  bool has_csv = stat(csv, &c) == 0, has_jl = stat(jl, &j) == 0;
  free(csv);
  free(jl);
  if (!has_csv && !has_jl) {
    util_set_msg(msg, msglen, "%s has no milestones.csv or milestones.jsonl: is it an --out directory of msl run?", dir);
    return false;
  }
  *jsonl = has_jl && (!has_csv || j.st_mtim.tv_sec > c.st_mtim.tv_sec ||
                      (j.st_mtim.tv_sec == c.st_mtim.tv_sec && j.st_mtim.tv_nsec > c.st_mtim.tv_nsec));
  return true;
}

static bool build_report(const char *dir, int format, char *msg, size_t msglen) {
  bool jsonl = format == 1;
  if (format < 0 && !pick_format(dir, &jsonl, msg, msglen)) return false;
  const char *ext = jsonl ? ".jsonl" : ".csv";
  char names[4][32];
  snprintf(names[0], sizeof names[0], "milestones%s", ext);
  snprintf(names[1], sizeof names[1], "playbooks%s", ext);
  snprintf(names[2], sizeof names[2], "signals%s", ext);
  snprintf(names[3], sizeof names[3], "tracking%s", ext);
  char *paths[6] = {join(dir, "summary.json"), join(dir, names[0]), join(dir, names[1]), join(dir, names[2]),
                    join(dir, REPORT_FILE_NAME), join(dir, names[3])};
  /* a directory written before msl had tracking rows has none: its page
   * lists no accounts by tracking state */
  struct stat st;
  report_inputs in = {paths[0], paths[1], paths[2], paths[3], jsonl, stat(paths[5], &st) == 0 ? paths[5] : NULL};
  commit_set *c = commit_new();
  int fd = commit_add(c, paths[4], NULL, msg, msglen);
  bool ok = fd >= 0 && report_write_fd(fd, paths[4], &in, msg, msglen) && commit_all(c, msg, msglen);
  commit_free(c);
  for (int i = 0; i < 6; i++) free(paths[i]);
  return ok;
}

static const char *const report_options[] = {"--format", NULL};

int report_cmd_main(int argc, char **argv) {
  const char *dir = NULL;
  int format = -1;         /* -1: as the directory has it; 0 CSV; 1 JSON Lines */
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--format") == 0) {
      if (i + 1 == argc) return cli_usage_error("%s", "--format needs a value");
      const char *f = argv[++i];
      if (strcmp(f, "csv") == 0) format = 0;
      else if (strcmp(f, "jsonl") == 0) format = 1;
      else return cli_usage_error("unknown result format `%s` (csv or jsonl)", f);
    } else if (argv[i][0] == '-' && argv[i][1]) {
      return cli_unknown_option("report", argv[i], report_options);
    } else if (!dir) {
      dir = argv[i];
    } else {
      return cli_usage_error("report takes one DIR, got also `%s`", argv[i]);
    }
  }
  if (!dir) return cli_usage_error("%s", "usage: msl report DIR [--format csv|jsonl]");
  struct stat st;
  if (stat(dir, &st) != 0) {
    fprintf(stderr, "msl: %s: %s\n", dir, strerror(errno));
    return EXIT_IO;
  }
  if (!S_ISDIR(st.st_mode)) {
    fprintf(stderr, "msl: %s: not a directory\n", dir);
    return EXIT_IO;
  }
  char msg[1024];
  int lock = commit_lock_dir(dir, msg, sizeof msg);
  bool ok = lock >= 0 && build_report(dir, format, msg, sizeof msg);
  if (lock >= 0) close(lock);   /* releases the lock; the lock file stays */
  if (!ok) {
    fprintf(stderr, "msl: %s\n", msg);
    return EXIT_IO;
  }
  return EXIT_OK;
}
