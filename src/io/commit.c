/* commit.c — the output directory's lock, temporary files that signals
 * remove, stale files of killed runs, and the all-or-nothing commit
 * (commit.h, SPEC 7).
 *
 * Names: a temporary file is `.msl-tmp-PID-NAME-XXXXXX` and a previous file
 * kept during a commit is `.msl-bak-PID-NAME`, both beside NAME, so a later
 * run can tell whose they are: files of a process that no longer exists are
 * left-overs.  A commit that was killed (SIGKILL, power loss) between moving
 * the previous files aside and putting the last new one in place is
 * recognised by a backup whose NAME is missing; the next run then restores
 * every backup of that process, so the directory holds the previous result
 * again. */
#include "io/commit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"

#define TEMP_PREFIX ".msl-tmp-"
#define BACKUP_PREFIX ".msl-bak-"
#define COMMIT_MAX_FILES 16   /* a run commits at most 9: eight results (history.csv with --history) and --rejects */

/* ---- signals ---------------------------------------------------------------------- */

/* The only process-wide mutable state in msl, and limited to signal
 * handling (the accepted exception to "no global mutable state"): the
 * temporary files a SIGINT/SIGTERM/SIGHUP handler removes before the signal
 * ends the process.  A slot's path is written while `live` is 0 and with
 * the signals blocked, then published; the handler reads only live slots
 * and calls only async-signal-safe functions (unlink, raise). */
typedef struct signal_temp {
  volatile sig_atomic_t live;
  char path[PATH_MAX];
} signal_temp;
static signal_temp signal_temps[COMMIT_MAX_FILES];
static volatile sig_atomic_t handlers_installed;

static void held_signals(sigset_t *set) {
  sigemptyset(set);
  sigaddset(set, SIGINT);
  sigaddset(set, SIGTERM);
  sigaddset(set, SIGHUP);
}

static void remove_temps_and_stop(int sig) {
  for (int i = 0; i < COMMIT_MAX_FILES; i++)
    if (signal_temps[i].live) unlink(signal_temps[i].path);
  raise(sig);   /* SA_RESETHAND restored the default action: the signal ends the process */
}

static bool install_handlers(char *msg, size_t msglen) {
  if (handlers_installed) return true;
  static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
    struct sigaction old;
    if (sigaction(sigs[i], NULL, &old) != 0) goto fail;
    if (old.sa_handler == SIG_IGN) continue;   /* nohup, a background job: it stays ignored */
    struct sigaction sa = {.sa_handler = remove_temps_and_stop, .sa_flags = SA_RESETHAND};
    held_signals(&sa.sa_mask);
    if (sigaction(sigs[i], &sa, NULL) != 0) goto fail;
  }
  handlers_installed = 1;
  return true;
fail:
  util_set_msg(msg, msglen, "cannot install signal handlers: %s", strerror(errno));
  return false;
}

/* ---- directories and the lock ---------------------------------------------------------- */

static bool make_one_dir(const char *path, char *msg, size_t msglen) {
  if (mkdir(path, 0777) == 0) return true;
  int e = errno;
  struct stat st;
  if (e == EEXIST && stat(path, &st) == 0) {
    if (S_ISDIR(st.st_mode)) return true;
    util_set_msg(msg, msglen, "cannot create directory %s: it exists and is not a directory", path);
    return false;
  }
  util_set_msg(msg, msglen, "cannot create directory %s: %s", path, strerror(e));
  return false;
}

bool commit_make_dirs(const char *dir, char *msg, size_t msglen) {
  size_t n = strlen(dir);
  char *path = util_xstrndup(dir, n);
  while (n > 1 && path[n - 1] == '/') path[--n] = '\0';
  bool ok = true;
  for (char *p = path + 1; ok && *p; p++)
    if (*p == '/' && p[-1] != '/') {
      *p = '\0';
      ok = make_one_dir(path, msg, msglen);
      *p = '/';
    }
  if (ok) ok = make_one_dir(path, msg, msglen);
  free(path);
  return ok;
}

/* The process that owns `PREFIX PID-...`, or 0 when name is not one. */
static pid_t name_pid(const char *name, const char *prefix, const char **rest) {
  size_t n = strlen(prefix);
  if (strncmp(name, prefix, n) != 0) return 0;
  char *end;
  errno = 0;
  long pid = strtol(name + n, &end, 10);
  if (errno || end == name + n || *end != '-' || pid <= 0 || pid > INT_MAX) return 0;
  *rest = end + 1;
  return (pid_t)pid;
}

static bool left_over(pid_t pid) {
  return pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH;
}

/* Restores (interrupted commit) or removes (finished commit) the backups
 * of one dead process; names[i] are the backups, NULL once settled. */
static bool settle_backups(int dfd, const char *dir, char **names, size_t n, pid_t pid, char *msg,
                           size_t msglen) {
  bool interrupted = false;
  for (size_t i = 0; i < n; i++) {
    const char *target;
    struct stat st;
    if (names[i] && name_pid(names[i], BACKUP_PREFIX, &target) == pid &&
        fstatat(dfd, target, &st, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT)
      interrupted = true;
  }
  bool ok = true;
  for (size_t i = 0; i < n; i++) {
    const char *target;
    if (!names[i] || name_pid(names[i], BACKUP_PREFIX, &target) != pid) continue;
    int r = interrupted ? renameat(dfd, names[i], dfd, target) : unlinkat(dfd, names[i], 0);
    if (r != 0 && errno != ENOENT && ok) {
      util_set_msg(msg, msglen, "cannot %s %s/%s: %s", interrupted ? "restore" : "remove", dir, names[i],
              strerror(errno));
      ok = false;
    }
    free(names[i]);
    names[i] = NULL;
  }
  return ok;
}

bool commit_clean_stale(const char *dir, char *msg, size_t msglen) {
  DIR *d = opendir(dir);
  if (!d) {
    util_set_msg(msg, msglen, "cannot read directory %s: %s", dir, strerror(errno));
    return false;
  }
  int dfd = dirfd(d);
  char **backups = NULL;
  size_t nbackups = 0, cap = 0;
  bool ok = true;
  struct dirent *e;
  while (ok && (e = readdir(d))) {
    const char *rest;
    pid_t pid = name_pid(e->d_name, TEMP_PREFIX, &rest);
    if (pid && left_over(pid)) {
      if (unlinkat(dfd, e->d_name, 0) != 0 && errno != ENOENT) {
        util_set_msg(msg, msglen, "cannot remove %s/%s: %s", dir, e->d_name, strerror(errno));
        ok = false;
      }
      continue;
    }
    pid = name_pid(e->d_name, BACKUP_PREFIX, &rest);
    if (!pid || !left_over(pid)) continue;
    util_xgrow(&backups, &cap, nbackups + 1, sizeof *backups, 8);
    backups[nbackups++] = util_xstrndup(e->d_name, strlen(e->d_name));
  }
  for (size_t i = 0; i < nbackups; i++) {
    const char *rest;
    if (backups[i] && ok)
      ok = settle_backups(dfd, dir, backups, nbackups, name_pid(backups[i], BACKUP_PREFIX, &rest), msg, msglen);
    free(backups[i]);
    backups[i] = NULL;
  }
  free(backups);
  closedir(d);
  return ok;
}

int commit_lock_dir(const char *dir, char *msg, size_t msglen) {
  size_t len = strlen(dir) + sizeof "/" COMMIT_LOCK_NAME;
  char *path = util_xalloc(len);
  snprintf(path, len, "%s/%s", dir, COMMIT_LOCK_NAME);
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) {
    util_set_msg(msg, msglen, "cannot open the lock %s: %s", path, strerror(errno));
  } else if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK)
      util_set_msg(msg, msglen, "%s is in use: another run holds the lock %s", dir, path);
    else
      util_set_msg(msg, msglen, "cannot lock %s: %s", path, strerror(errno));
    close(fd);
    fd = -1;
  } else if (!commit_clean_stale(dir, msg, msglen)) {
    close(fd);
    fd = -1;
  }
  free(path);
  return fd;
}

/* ---- the commit ------------------------------------------------------------------------ */

typedef struct commit_entry {
  char *final_path, *tmp_path, *backup_path;
  dev_t dir_dev;           /* final_path's directory, to find a target named twice */
  ino_t dir_ino;
  int slot;                /* in signal_temps */
  bool tmp_exists;         /* not yet renamed or removed */
  bool backed_up;          /* the previous final_path is at backup_path */
  bool in_place;           /* tmp_path was renamed to final_path */
} commit_entry;

struct commit_set {
  commit_entry entries[COMMIT_MAX_FILES];
  int n;
};

commit_set *commit_new(void) { return util_xalloc(sizeof(commit_set)); }

/* mkstemp creates files 0600; results get what creat(0666) would give.
 * umask() cannot be read without changing it (a race with other threads),
 * so it is read from /proc; 022 when that is not available. */
static mode_t process_umask(void) {
  mode_t mask = 022;
  FILE *st = fopen("/proc/self/status", "re");
  if (!st) return mask;
  char line[256];
  while (fgets(line, sizeof line, st)) {
    unsigned m;
    if (sscanf(line, "Umask: %o", &m) == 1) {
      mask = (mode_t)(m & 0777);
      break;
    }
  }
  fclose(st);
  return mask;
}

static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

/* dir/PREFIX[PID-]NAME[SUFFIX] for the file at path. */
static char *sibling_path(const char *path, const char *prefix, bool with_pid, const char *suffix) {
  const char *slash = strrchr(path, '/');
  int dirlen = slash ? (int)(slash - path + 1) : 0;
  const char *name = slash ? slash + 1 : path;
  char pid[24] = "";
  if (with_pid) snprintf(pid, sizeof pid, "%ld-", (long)getpid());
  size_t len = strlen(path) + strlen(prefix) + strlen(pid) + strlen(suffix) + 1;
  char *p = util_xalloc(len);
  snprintf(p, len, "%.*s%s%s%s%s", dirlen, path, prefix, pid, name, suffix);
  return p;
}

int commit_add(commit_set *c, const char *final_path, const char **tmp_path, char *msg, size_t msglen) {
  int slot = 0;
  while (slot < COMMIT_MAX_FILES && signal_temps[slot].live) slot++;
  if (c->n == COMMIT_MAX_FILES || slot == COMMIT_MAX_FILES) {
    util_set_msg(msg, msglen, "internal error: too many temporary files");
    return -1;
  }
  if (!install_handlers(msg, msglen)) return -1;
  commit_entry *e = &c->entries[c->n];
  *e = (commit_entry){.slot = slot};
  e->final_path = util_xstrndup(final_path, strlen(final_path));
  e->tmp_path = sibling_path(final_path, TEMP_PREFIX, true, "-XXXXXX");
  e->backup_path = sibling_path(final_path, BACKUP_PREFIX, true, "");
  if (strlen(e->tmp_path) >= PATH_MAX) {
    util_set_msg(msg, msglen, "cannot create a file for %s: %s", final_path, strerror(ENAMETOOLONG));
    goto fail;
  }
  /* the file is created and published to the handler with the signals held,
   * so a signal finds it either absent or registered */
  sigset_t hold, saved;
  held_signals(&hold);
  if (sigprocmask(SIG_BLOCK, &hold, &saved) != 0) {
    util_set_msg(msg, msglen, "cannot block signals: %s", strerror(errno));
    goto fail;
  }
  int fd = mkostemp(e->tmp_path, O_CLOEXEC);
  int err = errno;
  if (fd >= 0) {
    memcpy(signal_temps[slot].path, e->tmp_path, strlen(e->tmp_path) + 1);
    signal_temps[slot].live = 1;
    e->tmp_exists = true;
    c->n++;
  }
  sigprocmask(SIG_SETMASK, &saved, NULL);
  if (fd < 0) {
    const char *slash = strrchr(final_path, '/');
    util_set_msg(msg, msglen, "cannot create a file in %.*s: %s", slash ? (int)(slash - final_path) : 1,
            slash ? final_path : ".", strerror(err));
    goto fail;
  }
  if (fchmod(fd, 0666 & ~process_umask()) != 0) {
    util_set_msg(msg, msglen, "cannot set the mode of %s: %s", e->tmp_path, strerror(errno));
    close(fd);
    return -1;   /* the entry stays: commit_free removes the file */
  }
  /* the temporary file sits in final_path's directory: its device and the
   * directory's inode identify the target with its name (e.g. --rejects
   * naming a result file, which the commit would overwrite) */
  struct stat st;
  const char *slash = strrchr(e->final_path, '/');
  char *dir = slash ? util_xstrndup(e->final_path, slash == e->final_path ? 1 : (size_t)(slash - e->final_path))
                    : util_xstrndup(".", 1);
  bool seen = stat(dir, &st) == 0;
  free(dir);
  if (!seen) {
    util_set_msg(msg, msglen, "cannot read the directory of %s: %s", final_path, strerror(errno));
    close(fd);
    return -1;
  }
  e->dir_dev = st.st_dev;
  e->dir_ino = st.st_ino;
  for (int i = 0; i < c->n - 1; i++) {
    const commit_entry *o = &c->entries[i];
    if (o->dir_dev == e->dir_dev && o->dir_ino == e->dir_ino &&
        strcmp(base_name(o->final_path), base_name(e->final_path)) == 0) {
      util_set_msg(msg, msglen, "%s is also %s: one file cannot hold both", final_path, o->final_path);
      close(fd);
      return -1;
    }
  }
  if (tmp_path) *tmp_path = e->tmp_path;
  return fd;
fail:
  free(e->final_path);
  free(e->tmp_path);
  free(e->backup_path);
  *e = (commit_entry){0};
  return -1;
}

static void forget_temp(commit_entry *e) {
  e->tmp_exists = false;
  signal_temps[e->slot].live = 0;
}

/* Every target must be absent or a regular file (a symbolic link to one is
 * replaced like one): a directory in the way fails before anything moves. */
static bool check_targets(const commit_set *c, char *msg, size_t msglen) {
  for (int i = 0; i < c->n; i++) {
    const char *path = c->entries[i].final_path;
    struct stat st;
    if (stat(path, &st) != 0) {
      if (errno == ENOENT) continue;
      util_set_msg(msg, msglen, "cannot replace %s: %s", path, strerror(errno));
      return false;
    }
    if (!S_ISREG(st.st_mode)) {
      util_set_msg(msg, msglen, "cannot replace %s: it is %s", path,
              S_ISDIR(st.st_mode) ? "a directory" : "not a regular file");
      return false;
    }
  }
  return true;
}

/* Undoes a partial swap: previous files back, new files without one removed. */
static void restore(commit_set *c, char *msg, size_t msglen) {
  for (int i = c->n - 1; i >= 0; i--) {
    commit_entry *e = &c->entries[i];
    if (e->backed_up) {
      if (rename(e->backup_path, e->final_path) != 0 && msg) {
        size_t used = strlen(msg);
        util_set_msg(msg + used, msglen - used, "; the previous %s is kept as %s", e->final_path, e->backup_path);
      }
    } else if (e->in_place) {
      unlink(e->final_path);   /* it did not exist before: no result is better than a half one */
    }
    e->backed_up = e->in_place = false;
  }
}

static bool swap_in(commit_set *c, char *msg, size_t msglen) {
  for (int i = 0; i < c->n; i++) {
    commit_entry *e = &c->entries[i];
    struct stat st;
    if (lstat(e->final_path, &st) != 0) {
      if (errno == ENOENT) continue;
      util_set_msg(msg, msglen, "cannot replace %s: %s", e->final_path, strerror(errno));
      restore(c, msg, msglen);
      return false;
    }
    if (rename(e->final_path, e->backup_path) != 0) {
      /* gone since lstat: another run committing the same file (shards
         sharing one --rejects path) moved it; there is nothing to keep */
      if (errno == ENOENT) continue;
      util_set_msg(msg, msglen, "cannot move %s aside: %s", e->final_path, strerror(errno));
      restore(c, msg, msglen);
      return false;
    }
    e->backed_up = true;
  }
  for (int i = 0; i < c->n; i++) {
    commit_entry *e = &c->entries[i];
    if (rename(e->tmp_path, e->final_path) != 0) {
      util_set_msg(msg, msglen, "cannot rename %s to %s: %s", e->tmp_path, e->final_path, strerror(errno));
      restore(c, msg, msglen);
      return false;
    }
    e->in_place = true;
    forget_temp(e);
  }
  return true;
}

bool commit_all(commit_set *c, char *msg, size_t msglen) {
  sigset_t hold, saved;
  held_signals(&hold);
  if (sigprocmask(SIG_BLOCK, &hold, &saved) != 0) {
    util_set_msg(msg, msglen, "cannot block signals: %s", strerror(errno));
    return false;
  }
  if (msg && msglen) msg[0] = '\0';
  bool ok = check_targets(c, msg, msglen) && swap_in(c, msg, msglen);
  for (int i = 0; ok && i < c->n; i++) {
    commit_entry *e = &c->entries[i];
    /* a backup that cannot be removed is harmless: the next run removes it */
    if (e->backed_up) unlink(e->backup_path);
    e->backed_up = false;
  }
  sigprocmask(SIG_SETMASK, &saved, NULL);   /* a signal held meanwhile is delivered now */
  return ok;
}

void commit_free(commit_set *c) {
  if (!c) return;
  for (int i = 0; i < c->n; i++) {
    commit_entry *e = &c->entries[i];
    if (e->tmp_exists) {
      unlink(e->tmp_path);   /* before forgetting it, so a signal meanwhile cannot leave it */
      forget_temp(e);
    }
    free(e->final_path);
    free(e->tmp_path);
    free(e->backup_path);
  }
  free(c);
}
