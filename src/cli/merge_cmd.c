/* merge_cmd.c — `msl merge DIR... --out DIR` (merge_cmd.h): the command
 * line, and --out made and locked as `msl run` makes and locks it; the
 * merge itself is io/merge.c.  A merge holds a file of every shard open at
 * once, so the limit on open files is raised to what the system allows. */
#include "cli/merge_cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/run.h"
#include "core/util.h"
#include "io/commit.h"
#include "io/merge.h"

static const char *const merge_options[] = {"--out", NULL};

/* --out as one of the shards would be overwritten while it is read. */
static bool out_is_a_shard(const char *out, const char *const *dirs, int n) {
  struct stat o, d;
  if (stat(out, &o) != 0) return false;
  for (int k = 0; k < n; k++)
    if (stat(dirs[k], &d) == 0 && d.st_dev == o.st_dev && d.st_ino == o.st_ino) {
      cli_usage_error("--out %s is the shard directory %s", out, dirs[k]);
      return true;
    }
  return false;
}

/* Room for a file of every shard open at once, and the outputs. */
static void raise_open_files(int nshards) {
  struct rlimit rl;
  rlim_t need = (rlim_t)nshards + 64;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need) return;
  rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);   /* if refused, opening says so */
}

int merge_cmd_main(int argc, char **argv) {
  const char *out = NULL;
  const char **dirs = util_xalloc(((size_t)argc + 1) * sizeof *dirs);
  int n = 0, status = EXIT_OK;
  for (int i = 0; i < argc && !status; i++) {
    if (strcmp(argv[i], "--out") == 0) {
      if (i + 1 == argc) status = cli_usage_error("%s", "--out needs a value");
      else out = argv[++i];
    } else if (argv[i][0] == '-' && argv[i][1]) {
      status = cli_unknown_option("merge", argv[i], merge_options);
    } else {
      dirs[n++] = argv[i];
    }
  }
  if (!status && (!n || !out)) status = cli_usage_error("%s", "usage: msl merge DIR... --out DIR");
  if (!status && out_is_a_shard(out, dirs, n)) status = EXIT_USAGE;
  char msg[1024];
  int lock = -1;
  if (!status && (!commit_make_dirs(out, msg, sizeof msg) || (lock = commit_lock_dir(out, msg, sizeof msg)) < 0)) {
    fprintf(stderr, "msl: --out %s: %s\n", out, msg);
    status = EXIT_IO;
  }
  if (!status) {
    raise_open_files(n);
    switch (merge_shards(dirs, n, out, msg, sizeof msg)) {
      case MERGE_OK: break;
      case MERGE_REFUSED: status = EXIT_USAGE; break;
      case MERGE_BAD_INPUT: status = EXIT_DATA; break;
      case MERGE_IO: status = EXIT_IO; break;
    }
    if (status) fprintf(stderr, "msl: %s\n", msg);
  }
  if (lock >= 0) close(lock);   /* releases the lock; the lock file stays */
  free(dirs);
  return status;
}
