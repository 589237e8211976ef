/* DNS-over-TCP connection slots: see tcpslots.h. The list is kept in order of
 * last activity (a slot moves to the tail when active), so the eviction victim
 * is the first one not busy from the head. */
#include "dns/tcpslots.h"

enum { NS_PER_MS = 1000000 };

void tcpslots_init(struct tcpslots *t, unsigned max, unsigned idle_ms,
		   bool (*busy)(const struct tcpslot *s))
{
	*t = (struct tcpslots){ .max = max ? max : TCPSLOT_MAX,
				.idle_ms = idle_ms ? idle_ms : TCPSLOT_IDLE_MS, .busy = busy };
}

bool tcpslots_full(const struct tcpslots *t)
{
	return t->n >= t->max;
}

struct tcpslot *tcpslots_victim(const struct tcpslots *t)
{
	for (struct tcpslot *s = t->head; s; s = s->next)
		if (!t->busy || !t->busy(s))
			return s;
	return NULL;
}

static void unlink_slot(struct tcpslots *t, struct tcpslot *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		t->head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	else
		t->tail = s->prev;
	s->prev = s->next = NULL;
}

static void append(struct tcpslots *t, struct tcpslot *s)
{
	s->prev = t->tail;
	s->next = NULL;
	if (t->tail)
		t->tail->next = s;
	else
		t->head = s;
	t->tail = s;
}

static void touch(struct tcpslots *t, struct tcpslot *s, uint64_t now)
{
	s->active = now;
	if (t->tail != s) {
		unlink_slot(t, s);
		append(t, s);
	}
}

void tcpslots_add(struct tcpslots *t, struct tcpslot *s, uint64_t now)
{
	s->active = now;
	s->msg_start = 0;
	append(t, s);
	t->n++;
}

void tcpslots_remove(struct tcpslots *t, struct tcpslot *s)
{
	unlink_slot(t, s);
	t->n--;
}

void tcpslots_read(struct tcpslots *t, struct tcpslot *s, uint64_t now, unsigned took,
		   size_t left)
{
	if (took)
		touch(t, s, now);
	if (!left)
		s->msg_start = 0;
	else if (took || !s->msg_start) {
		/* The first byte of a query: activity, and its clock starts. */
		s->msg_start = now;
		touch(t, s, now);
	}
}

void tcpslots_sent(struct tcpslots *t, struct tcpslot *s, uint64_t now)
{
	touch(t, s, now);
}

uint64_t tcpslots_deadline(const struct tcpslots *t, const struct tcpslot *s)
{
	unsigned idle = t->n > t->max / 2 && t->idle_ms > TCPSLOT_IDLE_BUSY_MS ?
			TCPSLOT_IDLE_BUSY_MS : t->idle_ms;
	uint64_t d = s->active + (uint64_t)idle * NS_PER_MS;

	if (s->msg_start && s->msg_start + (uint64_t)TCPSLOT_MSG_MS * NS_PER_MS < d)
		d = s->msg_start + (uint64_t)TCPSLOT_MSG_MS * NS_PER_MS;
	return d;
}

void tcpslots_expire(struct tcpslots *t, uint64_t now, void (*fn)(void *arg, struct tcpslot *s),
		     void *arg)
{
	for (struct tcpslot *s = t->head, *next; s; s = next) {
		next = s->next;
		if ((!t->busy || !t->busy(s)) && now >= tcpslots_deadline(t, s))
			fn(arg, s);
	}
}

uint64_t tcpslots_next(const struct tcpslots *t)
{
	uint64_t first = UINT64_MAX;

	for (const struct tcpslot *s = t->head; s; s = s->next) {
		uint64_t d;

		if (t->busy && t->busy(s))
			continue;
		d = tcpslots_deadline(t, s);
		if (d < first)
			first = d;
	}
	return first;
}
