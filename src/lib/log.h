/* Logging: levels, printf-checked, and a rate-limited variant for every line a
 * remote packet can trigger (so a flood cannot fill the disk or hide other lines).
 *
 * The level and identity are process-wide: logging is the one piece of state every
 * module shares, set once by main() through log_setup(). */
#ifndef SLUICE_LIB_LOG_H
#define SLUICE_LIB_LOG_H

#include <stdbool.h>
#include <stdint.h>

typedef struct json_t json_t;

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* A token bucket owned by the caller, one per log site or per peer. */
struct log_ratelimit {
	uint64_t interval_ns; /* window length */
	unsigned burst;       /* lines allowed per window */
	uint64_t window_start;
	unsigned count;
	unsigned long suppressed;
};
#define LOG_RATELIMIT_INIT { .interval_ns = 5000000000ull, .burst = 10 }

void log_setup(enum log_level level, const char *ident);
/* JSON lines instead of text: {"time","level","ident","msg"} (daemons'
 * --log-json), for a log collector to read. */
void log_set_json(bool on);
enum log_level log_get_level(void);
/* Parses "err", "warn", "info", "debug"; returns -EINVAL on anything else. */
int log_level_parse(const char *s, enum log_level *out);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Logs unless the bucket is empty; reports how many lines were dropped once the
 * next window opens. */
void log_rl(struct log_ratelimit *rl, enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A structured event (a flow record, say): in JSON mode one object with the
 * line's time, level, ident, "event" and the fields of obj; in text mode
 * "EVENT " and obj as compact JSON. */
void log_event(enum log_level level, const char *event, const json_t *obj);

#define log_err(...)   log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) do { if (log_get_level() >= LOG_LVL_DEBUG) \
	log_msg(LOG_LVL_DEBUG, __VA_ARGS__); } while (0)

#endif
