#include "lib/log.h"
#include "lib/time.h"

#include <errno.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

static enum log_level cur_level = LOG_LVL_INFO;
static const char *cur_ident = "sluice";
static bool cur_json;
static const char *const tags[] = { "error", "warn", "info", "debug" };

void log_setup(enum log_level level, const char *ident)
{
	cur_level = level;
	if (ident)
		cur_ident = ident;
}

void log_set_json(bool on)
{
	cur_json = on;
}

enum log_level log_get_level(void)
{
	return cur_level;
}

int log_level_parse(const char *s, enum log_level *out)
{
	static const char *const names[] = { "err", "warn", "info", "debug" };

	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* RFC 3339 UTC with milliseconds, or the text form's time of day. */
static void stamp(char *out, size_t cap, bool full)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	if (full)
		snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			 ts.tv_nsec / 1000000 % 1000);
	else
		snprintf(out, cap, "%02d:%02d:%02d.%03ld", tm.tm_hour, tm.tm_min, tm.tm_sec,
			 ts.tv_nsec / 1000000 % 1000);
}

/* One write per line so lines from several threads never interleave. */
static void emit_json(json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;

	if (s)
		fprintf(stderr, "%s\n", s);
	free(s);
}

__attribute__((format(printf, 2, 0)))
static void log_vwrite(enum log_level level, const char *fmt, va_list ap)
{
	char line[1024], ts[64];
	int n;

	stamp(ts, sizeof(ts), cur_json);
	if (cur_json) {
		json_t *o;
		json_t *msg;

		vsnprintf(line, sizeof(line), fmt, ap);
		msg = json_string(line);
		if (!msg) { /* not UTF-8 (a name from a packet): still a line */
			for (char *p = line; *p; p++)
				if ((unsigned char)*p >= 0x80)
					*p = '?';
			msg = json_string(line);
		}
		o = json_pack("{sssssssO}", "time", ts, "level", tags[level], "ident", cur_ident,
			      "msg", msg ? msg : json_null());
		json_decref(msg);
		emit_json(o);
		json_decref(o);
		return;
	}
	n = snprintf(line, sizeof(line), "%s %s %s: ", ts, cur_ident, tags[level]);
	if (n < 0)
		return;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	fprintf(stderr, "%s\n", line);
}

void log_event(enum log_level level, const char *event, const json_t *obj)
{
	char ts[64];
	json_t *o;

	if (level > cur_level)
		return;
	stamp(ts, sizeof(ts), true);
	if (!cur_json) {
		char *s = json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII);

		if (s)
			log_msg(level, "%s %s", event, s);
		free(s);
		return;
	}
	o = json_pack("{ssssssss}", "time", ts, "level", tags[level], "ident", cur_ident, "event",
		      event);
	if (o)
		json_object_update_missing(o, (json_t *)obj);
	emit_json(o);
	json_decref(o);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > cur_level)
		return;
	va_start(ap, fmt);
	log_vwrite(level, fmt, ap);
	va_end(ap);
}

void log_rl(struct log_ratelimit *rl, enum log_level level, const char *fmt, ...)
{
	uint64_t now = time_mono_ns();
	va_list ap;

	if (level > cur_level)
		return;
	if (rl->window_start == 0 || now - rl->window_start >= rl->interval_ns) {
		if (rl->suppressed)
			log_msg(level, "(%lu similar lines suppressed)", rl->suppressed);
		rl->window_start = now;
		rl->count = 0;
		rl->suppressed = 0;
	}
	if (rl->count >= rl->burst) {
		rl->suppressed++;
		return;
	}
	rl->count++;
	va_start(ap, fmt);
	log_vwrite(level, fmt, ap);
	va_end(ap);
}
