/* progress.c — the progress line of `msl run` (prefix progress_). */
#include "cli/progress.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "core/util.h"

struct progress {
  FILE *out;
  progress_counts *counts;
  int n;
  struct timespec began;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t wake;
  bool stopping;           /* under lock */
};

static double seconds_since(const struct timespec *t0) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

/* 1234567 as "1,234,567" into buf (32 bytes). */
static const char *grouped(int64_t v, char *buf) {
  char digits[24];
  int n = snprintf(digits, sizeof digits, "%lld", (long long)(v < 0 ? 0 : v));
  int o = 0;
  for (int i = 0; i < n; i++) {
    if (i && (n - i) % 3 == 0) buf[o++] = ',';
    buf[o++] = digits[i];
  }
  buf[o] = '\0';
  return buf;
}

/* Rewrites the line: \r, the text, then erase to the end of the line. */
static void show(progress *p, bool last) {
  int64_t rows = 0, accounts = 0;
  for (int i = 0; i < p->n; i++) {
    rows += atomic_load_explicit(&p->counts[i].rows, memory_order_relaxed);
    accounts += atomic_load_explicit(&p->counts[i].accounts, memory_order_relaxed);
  }
  double s = seconds_since(&p->began);
  double rate = s > 0 ? (double)rows / s : 0;
  char r[32], a[32];
  fprintf(p->out, "\rmsl: %s rows read, %s accounts, %.2fM rows/s, %d:%02d\033[K%s", grouped(rows, r),
          grouped(accounts, a), rate / 1e6, (int)(s / 60), (int)s % 60, last ? "\n" : "");
  fflush(p->out);
}

static void *run_meter(void *arg) {
  progress *p = arg;
  pthread_mutex_lock(&p->lock);
  while (!p->stopping) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 250 * 1000 * 1000;
    if (until.tv_nsec >= 1000 * 1000 * 1000) {
      until.tv_sec++;
      until.tv_nsec -= 1000 * 1000 * 1000;
    }
    pthread_cond_timedwait(&p->wake, &p->lock, &until);
    if (!p->stopping) show(p, false);
  }
  pthread_mutex_unlock(&p->lock);
  return NULL;
}

progress *progress_start(FILE *out, progress_counts *counts, int n) {
  progress *p = util_xalloc(sizeof *p);
  *p = (progress){.out = out, .counts = counts, .n = n};
  clock_gettime(CLOCK_MONOTONIC, &p->began);
  if (pthread_mutex_init(&p->lock, NULL) != 0) {
    free(p);
    return NULL;
  }
  if (pthread_cond_init(&p->wake, NULL) != 0) {
    pthread_mutex_destroy(&p->lock);
    free(p);
    return NULL;
  }
  if (pthread_create(&p->thread, NULL, run_meter, p) != 0) {
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p);
    return NULL;
  }
  return p;
}

void progress_stop(progress *p) {
  if (!p) return;
  pthread_mutex_lock(&p->lock);
  p->stopping = true;
  pthread_cond_signal(&p->wake);
  pthread_mutex_unlock(&p->lock);
  pthread_join(p->thread, NULL);
  show(p, true);
  pthread_cond_destroy(&p->wake);
  pthread_mutex_destroy(&p->lock);
  free(p);
}
