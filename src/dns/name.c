/* DNS names: reading (with compression), text forms, comparison, hashing. */
#include "dns/msg.h"

#include <errno.h>
#include <string.h>

static inline uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* RFC 1035 §4.1.4 plus RFC 9267's lessons: a pointer must point before the
 * place it was read from and past the header (so no loop, no forward jump, and
 * the question is never compressed), hops are bounded (so is the work: at most
 * DNS_PTR_HOPS_MAX jumps and DNS_NAME_MAX bytes copied), and the expanded name
 * must fit in 255 bytes with labels of at most 63. */
int dns_name_read(const uint8_t *msg, size_t len, size_t *pos, struct dns_name *out)
{
	size_t p = *pos, end = 0, limit = *pos;
	unsigned hops = 0;
	uint8_t n = 0;

	for (;;) {
		uint8_t l;

		if (p >= len)
			return -EBADMSG;
		l = msg[p];
		if ((l & 0xc0) == 0xc0) {
			size_t target;

			if (p + 1 >= len || ++hops > DNS_PTR_HOPS_MAX)
				return -EBADMSG;
			target = ((size_t)(l & 0x3f) << 8) | msg[p + 1];
			if (!end)
				end = p + 2;
			if (target >= limit || target < DNS_HDR_LEN)
				return -EBADMSG; /* forward, self, or into the header */
			limit = target;
			p = target;
			continue;
		}
		if (l & 0xc0)
			return -EBADMSG; /* 0x40 / 0x80: extended label types, obsolete */
		if (l >= len - p || (size_t)n + 1 + l > DNS_NAME_MAX)
			return -EBADMSG;
		out->data[n++] = l;
		if (l == 0)
			break;
		memcpy(out->data + n, msg + p + 1, l);
		n += l;
		p += 1 + (size_t)l;
	}
	out->len = n;
	*pos = end ? end : p + 1;
	return 0;
}

bool dns_name_equal(const struct dns_name *a, const struct dns_name *b)
{
	if (a->len != b->len)
		return false;
	for (size_t i = 0; i < a->len; i++)
		if (lower(a->data[i]) != lower(b->data[i]))
			return false;
	return true;
}

void dns_name_lower(struct dns_name *n)
{
	for (size_t i = 0; i < n->len; i++)
		n->data[i] = lower(n->data[i]);
}

uint32_t dns_name_hash(const struct dns_name *n)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (size_t i = 0; i < n->len; i++)
		h = (h ^ lower(n->data[i])) * 16777619u;
	return h;
}

static bool plain_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '*' || c == '?';
}

int dns_name_to_text(const struct dns_name *n, char *out, size_t cap)
{
	size_t o = 0, i = 0;

	if (cap == 0)
		return -EMSGSIZE;
	if (n->len <= 1) {
		if (cap < 2)
			return -EMSGSIZE;
		memcpy(out, ".", 2);
		return 1;
	}
	while (i < n->len && n->data[i]) {
		uint8_t l = n->data[i++];

		if (l >= n->len - i)
			return -EINVAL; /* inconsistent: not a name this module made */
		if (o) {
			if (o + 1 >= cap)
				return -EMSGSIZE;
			out[o++] = '.';
		}
		for (uint8_t k = 0; k < l; k++, i++) {
			uint8_t c = n->data[i];

			if (plain_char(c)) {
				if (o + 1 >= cap)
					return -EMSGSIZE;
				out[o++] = (char)c;
			} else {
				if (o + 4 >= cap)
					return -EMSGSIZE;
				out[o++] = '\\';
				out[o++] = (char)('0' + c / 100);
				out[o++] = (char)('0' + c / 10 % 10);
				out[o++] = (char)('0' + c % 10);
			}
		}
	}
	out[o] = '\0';
	return (int)o;
}

int dns_name_from_text(struct dns_name *n, const char *text)
{
	size_t o = 0, lab = 0;
	const char *s = text;

	if (strcmp(text, ".") == 0) {
		n->data[0] = 0;
		n->len = 1;
		return 0;
	}
	n->data[0] = 0;
	o = 1;
	while (*s) {
		uint8_t c = (uint8_t)*s++;

		if (c == '.') {
			if (o == lab + 1)
				return -EINVAL; /* empty label */
			if (*s == '\0')
				break; /* the trailing dot */
			lab = o;
			if (o >= DNS_NAME_MAX - 1)
				return -EINVAL;
			n->data[o++] = 0;
			continue;
		}
		if (c == '\\') {
			if (s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' &&
			    s[2] >= '0' && s[2] <= '9') {
				unsigned v = (unsigned)(s[0] - '0') * 100 + (unsigned)(s[1] - '0') * 10 +
					     (unsigned)(s[2] - '0');

				if (v > 255)
					return -EINVAL;
				c = (uint8_t)v;
				s += 3;
			} else if (*s && !(*s >= '0' && *s <= '9')) {
				c = (uint8_t)*s++;
			} else {
				return -EINVAL;
			}
		}
		if (o >= DNS_NAME_MAX - 1 || o - lab > DNS_LABEL_MAX)
			return -EINVAL;
		n->data[o++] = c;
		n->data[lab] = (uint8_t)(o - lab - 1);
	}
	if (o == lab + 1 && o > 1)
		return -EINVAL;
	if (o == 1)
		return -EINVAL; /* "" */
	n->data[o++] = 0;
	n->len = (uint8_t)o;
	return 0;
}
