/* progress.c: the progress line of long commands, on stderr. */
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "util/clock.h"
#include "util/log.h"
#include "util/progress.h"

struct ai_progress {
	FILE *f;
	const char *label, *unit;
	/* atomics */
	uint64_t items, bytes, total_items, total_bytes, steps, total_steps;
	int64_t start;              /* monotonic ns */
	pthread_mutex_t mu;         /* guards what follows and the writing */
	int64_t last;               /* when last drawn; 0: draw at the next tick */
	size_t shown;               /* characters on the line now */
	size_t width;               /* the line stays shorter than this */
};

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

/* Messages go on a line of their own: the progress line is cleared
 * before one is written and drawn again at the next tick. */
static void clear_locked(struct ai_progress *p)
{
	if (!p->shown)
		return;
	fputc('\r', p->f);
	for (size_t i = 0; i < p->shown; i++)
		fputc(' ', p->f);
	fputc('\r', p->f);
	fflush(p->f);
	p->shown = 0;
}

static void before_log(void *arg)
{
	struct ai_progress *p = arg;

	pthread_mutex_lock(&p->mu);
	clear_locked(p);
}

static void after_log(void *arg)
{
	struct ai_progress *p = arg;

	p->last = 0;
	pthread_mutex_unlock(&p->mu);
}

struct ai_progress *ai_progress_new(FILE *f, const char *label, const char *unit)
{
	struct ai_progress *p = calloc(1, sizeof *p);
	struct winsize ws;

	if (!p)
		return NULL;
	p->f = f;
	p->label = label;
	p->unit = unit;
	p->start = ai_clock_mono_ns();
	p->width = 80;
	if (ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		p->width = ws.ws_col;
	pthread_mutex_init(&p->mu, NULL);
	ai_log_set_hook(before_log, after_log, p);
	return p;
}

void ai_progress_total(struct ai_progress *p, uint64_t items, uint64_t bytes)
{
	if (!p)
		return;
	__atomic_store_n(&p->total_items, items, __ATOMIC_RELAXED);
	__atomic_store_n(&p->total_bytes, bytes, __ATOMIC_RELAXED);
}

void ai_progress_add(struct ai_progress *p, uint64_t items, uint64_t bytes)
{
	if (!p)
		return;
	if (items)
		__atomic_add_fetch(&p->items, items, __ATOMIC_RELAXED);
	if (bytes)
		__atomic_add_fetch(&p->bytes, bytes, __ATOMIC_RELAXED);
}

void ai_progress_steps(struct ai_progress *p, uint64_t done, uint64_t total)
{
	if (!p)
		return;
	__atomic_store_n(&p->steps, done, __ATOMIC_RELAXED);
	__atomic_store_n(&p->total_steps, total, __ATOMIC_RELAXED);
}

/* "512 B", "3.5 KiB", "120.0 MiB", "1.2 GiB" */
static void human_bytes(double b, char *out, size_t cap)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	size_t u = 0;

	while (b >= 1024 && u + 1 < sizeof units / sizeof units[0])
		b /= 1024, u++;
	if (u == 0)
		snprintf(out, cap, "%.0f B", b);
	else
		snprintf(out, cap, "%.1f %s", b, units[u]);
}

/* "1h05m", "4m10s", "12s" */
static void human_time(double s, char *out, size_t cap)
{
	uint64_t n = s > 0 ? (uint64_t)(s + 0.5) : 0;

	if (n >= 3600)
		snprintf(out, cap, "%" PRIu64 "h%02" PRIu64 "m", n / 3600, n % 3600 / 60);
	else if (n >= 60)
		snprintf(out, cap, "%" PRIu64 "m%02" PRIu64 "s", n / 60, n % 60);
	else
		snprintf(out, cap, "%" PRIu64 "s", n);
}

void ai_progress_format(struct ai_progress *p, int64_t elapsed_ns, char *out, size_t cap)
{
	uint64_t items = LOAD(p->items), bytes = LOAD(p->bytes), ti = LOAD(p->total_items);
	uint64_t tb = LOAD(p->total_bytes), steps = LOAD(p->steps), ts = LOAD(p->total_steps);
	double secs = (double)elapsed_ns / 1e9, frac = -1;
	char b[32], t[32], rate[32], eta[32];
	int n;

	n = snprintf(out, cap, "%s: %" PRIu64, p->label, items);
	if (ti && n >= 0 && (size_t)n < cap)
		n += snprintf(out + n, cap - (size_t)n, "/%" PRIu64, ti);
	human_bytes((double)bytes, b, sizeof b);
	if (tb) {
		human_bytes((double)tb, t, sizeof t);
		frac = (double)bytes / (double)tb;
	} else if (ti) {
		frac = (double)items / (double)ti;
	} else if (ts) {
		frac = (double)steps / (double)ts;
	}
	/* Rates and estimates mean little in the first half second. */
	rate[0] = '\0';
	snprintf(eta, sizeof eta, "-");
	if (secs >= 0.5) {
		rate[0] = ',';
		rate[1] = ' ';
		human_bytes((double)bytes / secs, rate + 2, sizeof rate - 4);
		strcat(rate, "/s");
		if (frac > 0 && frac <= 1)
			human_time(secs * (1 - frac) / frac, eta, sizeof eta);
	}
	if (n >= 0 && (size_t)n < cap)
		snprintf(out + n, cap - (size_t)n, " %s, %s%s%s%s, ETA %s", p->unit, b,
		         tb ? " of " : "", tb ? t : "", rate, eta);
}

void ai_progress_tick(struct ai_progress *p)
{
	char line[256];
	int64_t now;
	size_t len;

	if (!p || pthread_mutex_trylock(&p->mu) != 0)
		return;
	now = ai_clock_mono_ns();
	if (p->last && now - p->last < AI_PROGRESS_INTERVAL_NS) {
		pthread_mutex_unlock(&p->mu);
		return;
	}
	ai_progress_format(p, now - p->start, line, sizeof line);
	len = strlen(line);
	if (len >= p->width)
		line[len = p->width - 1] = '\0';
	fprintf(p->f, "\r%s", line);
	for (size_t i = len; i < p->shown; i++)
		fputc(' ', p->f);
	fflush(p->f);
	p->shown = len;
	p->last = now ? now : 1;
	pthread_mutex_unlock(&p->mu);
}

void ai_progress_end(struct ai_progress *p)
{
	if (!p)
		return;
	ai_log_set_hook(NULL, NULL, NULL);
	pthread_mutex_lock(&p->mu);
	clear_locked(p);
	pthread_mutex_unlock(&p->mu);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
