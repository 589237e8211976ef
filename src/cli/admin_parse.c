/* `sluice admin` words into one request. See admin.h; the tables are in
 * admin_spec.c. Nothing here touches the network. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/admin_priv.h"
#include "lib/buf.h"

enum { MAX_POS = 8, QUERY_MAX = 8192 };

struct given {
	const struct admin_opt *opt;
	const char *value;
};

struct parse {
	const char *pos[MAX_POS];
	size_t npos;
	struct given *given;
	size_t ngiven;
	bool help, json, quiet;
	const struct admin_cmd *cmd;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3)))
static int usage(struct parse *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->err, p->errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* A positive decimal id, as the API's ids are. */
static int parse_id(struct parse *p, const char *what, const char *s, int64_t *out)
{
	char *end;
	intmax_t v;

	if (s[0] < '0' || s[0] > '9')
		return usage(p, "%s must be a number (an id): %s", what, s);
	errno = 0;
	v = strtoimax(s, &end, 10);
	if (errno || *end || v < 1 || v > INT64_MAX)
		return usage(p, "%s must be a number (an id): %s", what, s);
	*out = (int64_t)v;
	return 0;
}

/* A whole number, 0 or more (a limit, a number of days). */
static int parse_count(struct parse *p, const char *what, const char *s, int64_t *out)
{
	char *end;
	intmax_t v;

	if (s[0] < '0' || s[0] > '9')
		return usage(p, "--%s must be a whole number: %s", what, s);
	errno = 0;
	v = strtoimax(s, &end, 10);
	if (errno || *end || v > INT64_MAX)
		return usage(p, "--%s must be a whole number: %s", what, s);
	*out = (int64_t)v;
	return 0;
}

static int set_global(struct parse *p, struct admin_req *r, const struct admin_opt *o,
		      const char *v)
{
	const char **slot = NULL;

	if (strcmp(o->name, "portal") == 0)
		slot = &r->portal;
	else if (strcmp(o->name, "ca") == 0)
		slot = &r->ca_file;
	else if (strcmp(o->name, "token-file") == 0)
		slot = &r->token_file;
	else if (strcmp(o->name, "json") == 0)
		p->json = true;
	else if (strcmp(o->name, "quiet") == 0)
		p->quiet = true;
	else if (strcmp(o->name, "help") == 0)
		p->help = true;
	else if (strcmp(o->name, "all") == 0)
		r->all = true;
	else if (strcmp(o->name, "timeout") == 0) {
		char *end;
		unsigned long s = strtoul(v, &end, 10);

		if (v[0] < '0' || v[0] > '9' || *end || s < 1 || s > 3600)
			return usage(p, "--timeout takes seconds, 1-3600: %s", v);
		r->timeout_s = (unsigned)s;
	}
	if (slot && *slot)
		return usage(p, "--%s given twice", o->name);
	if (slot)
		*slot = v;
	return 0;
}

/* Sorts the words into options and positional arguments. */
static int scan(struct parse *p, struct admin_req *r, int argc, char *const *argv)
{
	bool only_pos = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		const struct admin_opt *o;
		char name[64];

		if (only_pos || a[0] != '-' || a[1] == '\0') {
			if (p->npos == MAX_POS)
				return usage(p, "too many arguments: %s", a);
			p->pos[p->npos++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_pos = true;
			continue;
		}
		if (a[1] != '-') {
			if (a[2] != '\0' || !(o = admin_opt_find(NULL, a[1])))
				return usage(p, "unknown option %s", a);
		} else {
			size_t n = strcspn(a + 2, "=");

			if (n >= sizeof(name))
				return usage(p, "unknown option %s", a);
			memcpy(name, a + 2, n);
			name[n] = '\0';
			o = admin_opt_find(name, 0);
			if (!o)
				return usage(p, "unknown option --%s", name);
			if (a[2 + n] == '=')
				v = a + 3 + n;
		}
		if (o->arg && !v) {
			if (i + 1 >= argc)
				return usage(p, "--%s needs a value (%s)", o->name, o->arg);
			v = argv[++i];
		} else if (!o->arg && v) {
			return usage(p, "--%s takes no value", o->name);
		}
		if (o->conv == CONV_GLOBAL) {
			if (set_global(p, r, o, v) < 0)
				return -EINVAL;
			if (strcmp(o->name, "all") != 0)
				continue; /* "all" is also checked against the command */
		}
		p->given[p->ngiven++] = (struct given){ o, v };
	}
	return 0;
}

static bool is_part(enum admin_conv c)
{
	return c == CONV_FILTER || c == CONV_WINDOW || c == CONV_TZ || c == CONV_SOURCE ||
	       c == CONV_STRLIST;
}

/* Options the command does not take, twice, together, or missing. */
static int check_opts(struct parse *p)
{
	const struct admin_cmd *c = p->cmd;

	for (size_t i = 0; i < p->ngiven; i++) {
		const struct admin_opt *o = p->given[i].opt;

		if (!admin_word_in(c->opts, o->name))
			return usage(p, "--%s is not an option of %s%s%s", o->name, c->entity,
				     c->verb ? " " : "", c->verb ? c->verb : "");
		for (size_t j = 0; j < i; j++) {
			const struct admin_opt *q = p->given[j].opt;

			if (q == o && !admin_opt_repeatable(o))
				return usage(p, "--%s given twice", o->name);
			if (q != o && q->field && o->field && strcmp(q->field, o->field) == 0 &&
			    !(is_part(q->conv) && is_part(o->conv) && q->conv != CONV_FILTER &&
			      o->conv != CONV_FILTER))
				return usage(p, "--%s and --%s cannot be used together", q->name,
					     o->name);
		}
	}
	for (size_t i = 0; i < admin_n_opts; i++) {
		const char *name = admin_opts[i].name;
		bool found = false;

		if (!admin_word_in(c->required, name))
			continue;
		for (size_t j = 0; j < p->ngiven; j++)
			found |= p->given[j].opt == &admin_opts[i];
		if (!found)
			return usage(p, "%s %s needs --%s %s", c->entity, c->verb, name,
				     admin_opts[i].arg);
	}
	return 0;
}

static void query_add(struct buf *q, const char *name, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";

	buf_printf(q, "%s%s=", q->len ? "&" : "", name);
	for (const unsigned char *s = (const unsigned char *)value; *s; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("-._~", *s))
			buf_printf(q, "%c", *s);
		else
			buf_printf(q, "%%%c%c", hex[*s >> 4], hex[*s & 15]);
	}
}

static int build_query(struct parse *p, struct admin_req *r)
{
	struct buf q;
	int rc = 0;

	buf_init(&q, QUERY_MAX);
	buf_printf(&q, "%s", "");
	for (size_t i = 0; i < p->ngiven && rc == 0; i++) {
		const struct admin_opt *o = p->given[i].opt;
		const char *v = p->given[i].value;
		int64_t id = 0; /* set by parse_id(); -O3 cannot see it */
		char num[24];

		switch (o->conv) {
		case CONV_PAGE:
			if ((rc = parse_id(p, o->name[0] == 'l' ? "--limit" : "--after", v,
					   &id)) < 0)
				break;
			snprintf(num, sizeof(num), "%" PRId64, id);
			if (strcmp(o->name, "after") == 0) {
				if (!(r->after = strdup(num)))
					rc = -ENOMEM;
			} else {
				query_add(&q, o->field, num);
			}
			break;
		case CONV_ID:
			if ((rc = parse_id(p, o->name, v, &id)) == 0) {
				snprintf(num, sizeof(num), "%" PRId64, id);
				query_add(&q, o->field, num);
			}
			break;
		case CONV_TRUE:
		case CONV_FALSE:
			query_add(&q, o->field, o->conv == CONV_TRUE ? "true" : "false");
			break;
		case CONV_STR:
			query_add(&q, o->field, v);
			break;
		default:
			break; /* "all" */
		}
	}
	if (rc == 0 && q.len >= QUERY_MAX - 1)
		rc = usage(p, "the filters are too long");
	if (rc == 0 && !(r->query = strdup(q.data ? (char *)q.data : "")))
		rc = -ENOMEM;
	buf_free(&q);
	return rc;
}

static int add_filter(struct parse *p, json_t *list, const char *v)
{
	size_t n = strcspn(v, ":");
	const char *ports = v[n] ? v + n + 1 : NULL;
	char proto[8];
	json_t *f;

	if (n >= sizeof(proto))
		return usage(p, "--filter: tcp[:PORTS], udp[:PORTS] or icmp: %s", v);
	memcpy(proto, v, n);
	proto[n] = '\0';
	if (strcmp(proto, "tcp") && strcmp(proto, "udp") && strcmp(proto, "icmp"))
		return usage(p, "--filter: tcp[:PORTS], udp[:PORTS] or icmp: %s", v);
	if (ports && (!strcmp(proto, "icmp") || !ports[0] ||
		      strspn(ports, "0123456789-") != strlen(ports)))
		return usage(p, "--filter: ports are N or N-M, for tcp and udp: %s", v);
	f = ports ? json_pack("{s:s,s:s}", "protocol", proto, "ports", ports) :
		    json_pack("{s:s}", "protocol", proto);
	return f && json_array_append_new(list, f) == 0 ? 0 : -ENOMEM;
}

static bool is_hhmm(const char *s, size_t n)
{
	return n == 5 && s[0] >= '0' && s[0] <= '2' && s[1] >= '0' && s[1] <= '9' &&
	       s[2] == ':' && s[3] >= '0' && s[3] <= '5' && s[4] >= '0' && s[4] <= '9';
}

/* "[DAYS@]HH:MM-HH:MM", DAYS a comma list of days and day ranges (mon-fri). */
static int add_window(struct parse *p, json_t *list, const char *v)
{
	static const char *const days[] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };
	const char *at = strchr(v, '@'), *times = at ? at + 1 : v, *dash;
	unsigned mask = at ? 0 : 0x7f;
	json_t *w, *jd;

	for (const char *d = v; at && d < at;) {
		size_t n = strcspn(d, ",@");
		int a = -1, b = -1;

		for (int i = 0; i < 7; i++) {
			if (n >= 3 && strncmp(d, days[i], 3) == 0)
				a = i;
			if (n == 7 && d[3] == '-' && strncmp(d + 4, days[i], 3) == 0)
				b = i;
		}
		if (a < 0 || (n != 3 && (n != 7 || b < 0)))
			return usage(p, "--window: days are mon..sun or ranges like mon-fri: %s", v);
		for (int i = a;; i = (i + 1) % 7) {
			mask |= 1u << i;
			if (i == (b < 0 ? a : b))
				break;
		}
		d += n + (d[n] == ',');
	}
	dash = strchr(times, '-');
	if (!dash || !is_hhmm(times, (size_t)(dash - times)) || !is_hhmm(dash + 1, strlen(dash + 1)))
		return usage(p, "--window: [DAYS@]HH:MM-HH:MM: %s", v);
	jd = json_array();
	for (int i = 0; jd && i < 7; i++)
		if (mask & (1u << i))
			json_array_append_new(jd, json_string(days[i]));
	w = json_pack("{s:o,s:s%,s:s}", "days", jd, "start", times, (size_t)(dash - times),
		      "end", dash + 1);
	return w && json_array_append_new(list, w) == 0 ? 0 : -ENOMEM;
}

/* The array at obj[key], created when absent. */
static json_t *array_at(json_t *obj, const char *key)
{
	json_t *a = json_object_get(obj, key);

	if (!a) {
		a = json_array();
		if (!a || json_object_set_new(obj, key, a) < 0)
			return NULL;
	}
	return a;
}

static int body_add(struct parse *p, json_t *body, const struct admin_opt *o, const char *v)
{
	json_t *cond, *val = NULL;
	int64_t id = 0; /* as above */
	int r;

	switch (o->conv) {
	case CONV_STR:
		val = json_string(v);
		if (!val)
			return usage(p, "--%s is not UTF-8 text", o->name);
		break;
	case CONV_ID:
		if ((r = parse_id(p, o->name, v, &id)) < 0)
			return r;
		val = json_integer(id);
		break;
	case CONV_COUNT:
		if ((r = parse_count(p, o->name, v, &id)) < 0)
			return r;
		val = json_integer(id);
		break;
	case CONV_TRUE: val = json_true(); break;
	case CONV_FALSE: val = json_false(); break;
	case CONV_NULL: val = json_null(); break;
	case CONV_EMPTY_ARRAY: val = json_array(); break;
	case CONV_EMPTY_OBJECT: val = json_object(); break;
	case CONV_FILTER:
		return add_filter(p, array_at(body, o->field), v);
	case CONV_STRLIST:
		val = json_string(v);
		if (!val || json_array_append_new(array_at(body, o->field), val) < 0)
			return usage(p, "--%s is not UTF-8 text", o->name);
		return 0;
	case CONV_WINDOW:
	case CONV_TZ:
	case CONV_SOURCE:
		cond = json_object_get(body, "conditions");
		if (!cond && json_object_set_new(body, "conditions", cond = json_object()) < 0)
			return -ENOMEM;
		if (o->conv == CONV_WINDOW)
			return add_window(p, array_at(cond, "time_windows"), v);
		val = json_string(v);
		if (!val)
			return usage(p, "--%s is not UTF-8 text", o->name);
		if (o->conv == CONV_TZ)
			return json_object_set_new(cond, "time_zone", val) < 0 ? -ENOMEM : 0;
		return json_array_append_new(array_at(cond, "source_cidrs"), val) < 0 ? -ENOMEM : 0;
	default:
		return 0;
	}
	if (!val || json_object_set_new(body, o->field, val) < 0)
		return -ENOMEM;
	return 0;
}

static int build_body(struct parse *p, struct admin_req *r)
{
	int rc;

	r->body = json_object();
	if (!r->body)
		return -ENOMEM;
	for (size_t i = 0; i < p->ngiven; i++)
		if ((rc = body_add(p, r->body, p->given[i].opt, p->given[i].value)) < 0)
			return rc;
	if (json_object_size(r->body) == 0 && p->cmd->act != ACT_CREATE)
		return usage(p, "nothing to change: see sluice admin %s %s --help",
			     p->cmd->entity, p->cmd->verb);
	return 0;
}

static int build_raw(struct parse *p, struct admin_req *r, const char *const *args,
		     size_t n)
{
	static const char *const methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE" };
	const char *path = args[1];
	json_error_t je;

	for (size_t i = 0; i < 5; i++)
		if (strcmp(args[0], methods[i]) == 0)
			r->method = methods[i];
	if (!r->method)
		return usage(p, "raw: METHOD is GET, POST, PUT, PATCH or DELETE: %s", args[0]);
	if (strncmp(path, "/api/v1/", 8) == 0)
		path += 7;
	if (path[0] != '/' || strpbrk(path, " \t\r\n#"))
		return usage(p, "raw: PATH is a path under /api/v1, like /sites?limit=5: %s",
			     args[1]);
	if (n == 3) {
		r->body = json_loads(args[2], JSON_DECODE_ANY, &je);
		if (!r->body)
			return usage(p, "raw: the body is not JSON: %s", je.text);
	}
	r->path = strdup(path);
	r->query = strdup("");
	r->shape = ADMIN_SHAPE_RAW;
	return r->path && r->query ? 0 : -ENOMEM;
}

static int build(struct parse *p, struct admin_req *r, const char *const *args)
{
	const struct admin_cmd *c = p->cmd;
	const struct admin_entity *e = admin_entity_find(c->entity);
	int64_t id[2] = { 0, 0 };
	char path[128];
	int rc;

	for (size_t i = 0; i < 2 && args[i]; i++)
		if ((rc = parse_id(p, i ? "USER_ID" : c->act == ACT_GET ||
				   c->act == ACT_UPDATE || c->act == ACT_DELETE ||
				   c->act == ACT_REVOKE ? "ID" : "GROUP_ID", args[i], &id[i])) < 0)
			return rc;
	snprintf(path, sizeof(path), "/%s", c->entity);
	r->method = "GET";
	r->shape = ADMIN_SHAPE_OBJECT;
	r->view = c->entity;
	switch (c->act) {
	case ACT_LIST:
		r->shape = ADMIN_SHAPE_LIST;
		break;
	case ACT_MEMBERS:
		snprintf(path, sizeof(path), "/groups/%" PRId64 "/members", id[0]);
		r->shape = ADMIN_SHAPE_LIST;
		r->view = "members";
		break;
	case ACT_CREATE:
		r->method = "POST";
		if (strcmp(c->entity, "tokens") == 0)
			r->shape = ADMIN_SHAPE_SECRET;
		break;
	case ACT_GET:
	case ACT_UPDATE:
	case ACT_DELETE:
	case ACT_REVOKE:
		snprintf(path, sizeof(path), "/%s/%" PRId64 "%s", c->entity, id[0],
			 c->act == ACT_REVOKE ? "/revoke" : "");
		r->method = c->act == ACT_UPDATE ? "PATCH" : c->act == ACT_DELETE ? "DELETE" :
			    c->act == ACT_REVOKE ? "POST" : "GET";
		break;
	case ACT_ADD_MEMBER:
	case ACT_REMOVE_MEMBER:
		snprintf(path, sizeof(path), "/groups/%" PRId64 "/members/%" PRId64, id[0], id[1]);
		r->method = c->act == ACT_ADD_MEMBER ? "PUT" : "DELETE";
		break;
	case ACT_SETTINGS_SET:
		r->method = "PATCH";
		break;
	default:
		break;
	}
	if (c->act == ACT_DELETE || c->act == ACT_REMOVE_MEMBER) {
		char done[128];

		r->shape = ADMIN_SHAPE_NONE;
		if (c->act == ACT_DELETE)
			snprintf(done, sizeof(done), "deleted %s %" PRId64, e->singular, id[0]);
		else
			snprintf(done, sizeof(done), "removed user %" PRId64 " from group %" PRId64,
				 id[1], id[0]);
		if (!(r->done = strdup(done)))
			return -ENOMEM;
	}
	if (!(r->path = strdup(path)))
		return -ENOMEM;
	if (c->act == ACT_CREATE || c->act == ACT_UPDATE || c->act == ACT_SETTINGS_SET)
		return (rc = build_body(p, r)) < 0 ? rc : (r->query = strdup("")) ? 0 : -ENOMEM;
	return build_query(p, r);
}

static int parse(struct parse *p, struct admin_req *r, int argc, char *const *argv)
{
	const struct admin_entity *e;
	size_t want, have, skip;
	int rc;

	if ((rc = scan(p, r, argc, argv)) < 0)
		return rc;
	if (p->npos == 0) {
		if (p->help)
			return (r->help = admin_help(NULL, NULL)) ? 0 : -ENOMEM;
		return usage(p, "what to do? (sluice admin --help)");
	}
	e = admin_entity_find(p->pos[0]);
	if (!e)
		return usage(p, "no such entity: %s (sluice admin --help)", p->pos[0]);
	skip = strcmp(e->name, "raw") == 0 ? 1 : 2;
	if (p->npos < skip) {
		if (p->help)
			return (r->help = admin_help(e, NULL)) ? 0 : -ENOMEM;
		return usage(p, "%s what? (sluice admin %s --help)", e->name, e->name);
	}
	p->cmd = admin_cmd_find(e->name, p->pos[1]);
	if (!p->cmd)
		return usage(p, "%s has no command %s (sluice admin %s --help)", e->name,
			     p->pos[1], e->name);
	if (p->help)
		return (r->help = admin_help(e, p->cmd)) ? 0 : -ENOMEM;
	admin_act_args(p->cmd->act, &want);
	have = p->npos - skip;
	if (have > want || (have < want && !(p->cmd->act == ACT_RAW && have == 2)))
		return usage(p, "%s%s%s takes %s (sluice admin %s%s%s --help)", e->name,
			     p->cmd->verb ? " " : "", p->cmd->verb ? p->cmd->verb : "",
			     want ? admin_act_args(p->cmd->act, &want) : "no arguments",
			     e->name, p->cmd->verb ? " " : "", p->cmd->verb ? p->cmd->verb : "");
	if (p->json && p->quiet)
		return usage(p, "--json and --quiet cannot be used together");
	r->output = p->json ? ADMIN_OUT_JSON : p->quiet ? ADMIN_OUT_QUIET : ADMIN_OUT_TABLE;
	if ((rc = check_opts(p)) < 0)
		return rc;
	if (p->cmd->act == ACT_RAW)
		return build_raw(p, r, p->pos + 1, have);
	return build(p, r, p->pos + skip);
}

int admin_parse(int argc, char *const *argv, struct admin_req *out, char *err,
		size_t errlen)
{
	struct parse p = { .err = err, .errlen = errlen };
	int r;

	*out = (struct admin_req){ 0 };
	p.given = calloc((size_t)(argc > 0 ? argc : 1), sizeof(*p.given));
	if (!p.given)
		return -ENOMEM;
	r = parse(&p, out, argc, argv);
	free(p.given);
	if (r == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (r < 0)
		admin_req_free(out);
	return r;
}

void admin_req_free(struct admin_req *r)
{
	free(r->path);
	free(r->query);
	free(r->after);
	free(r->done);
	free(r->help);
	json_decref(r->body);
	*r = (struct admin_req){ 0 };
}
