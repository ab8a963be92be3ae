/* commit.h — results are never lost or mixed (SPEC 7): the lock a run
 * holds on its output directory, temporary files that SIGINT/SIGTERM/SIGHUP
 * remove, what killed runs left, and the commit that renames a set of
 * files into place all together or not at all (commit.c). */
#ifndef MSL_COMMIT_H
#define MSL_COMMIT_H

#include <stdbool.h>
#include <stddef.h>

/* The lock file every run holds in its output directory. */
#define COMMIT_LOCK_NAME ".msl.lock"

/* Creates dir and its missing parents (mode 0777 less the umask); false
 * with msg when a component cannot be made or is not a directory. */
bool commit_make_dirs(const char *dir, char *msg, size_t msglen);

/* Takes DIR/.msl.lock (flock, exclusive, without waiting) and then cleans
 * dir as commit_clean_stale does.  Returns the lock's descriptor, held until
 * it is closed, or -1 with msg (another run holds it, or an I/O error). */
int commit_lock_dir(const char *dir, char *msg, size_t msglen);

/* Removes the temporary files that runs no longer alive left in dir and
 * settles their backups: an interrupted commit gets its previous files
 * back, a finished one loses the backups.  False with msg on an I/O error. */
bool commit_clean_stale(const char *dir, char *msg, size_t msglen);

typedef struct commit_set commit_set;

commit_set *commit_new(void);

/* Creates a temporary file beside final_path (`.msl-tmp-PID-NAME-XXXXXX`,
 * the mode creat(0666) would give), to be renamed onto final_path by
 * commit_all and removed if the process is stopped by SIGINT, SIGTERM or
 * SIGHUP first.  Returns its descriptor (close-on-exec, owned by the
 * caller, who must have written, synced and closed it before commit_all),
 * or -1 with msg.  *tmp_path, when given, is the file's name, owned by the
 * set. */
int commit_add(commit_set *c, const char *final_path, const char **tmp_path, char *msg, size_t msglen);

/* Replaces every final path by its temporary file, all or none, with
 * SIGINT/SIGTERM/SIGHUP held until it is done: every target must be absent
 * or a regular file (checked before anything is renamed), and the previous
 * files are kept as backups until every new one is in place, then removed;
 * a failed step puts them back.  False with msg on failure. */
bool commit_all(commit_set *c, char *msg, size_t msglen);

/* Removes the temporary files not committed and frees the set; NULL is
 * ignored. */
void commit_free(commit_set *c);

#endif
