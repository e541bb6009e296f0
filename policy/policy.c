/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The policy model: destructors, loading, small queries and CIDR helpers. */
#include "policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "parse.h"

static const struct {
	const char *name, *shortname;
} categories[POLICY_CATEGORY_COUNT] = {
    [POLICY_C2C] = {"container_to_container", "c2c"},
    [POLICY_C2W] = {"container_to_world", "c2w"},
    [POLICY_C2H] = {"container_to_host", "c2h"},
    [POLICY_W2C] = {"world_to_container", "w2c"},
};

const char *policy_category_name(enum policy_category c)
{
	return (unsigned)c < POLICY_CATEGORY_COUNT ? categories[c].name : "?";
}

const char *policy_category_short(enum policy_category c)
{
	return (unsigned)c < POLICY_CATEGORY_COUNT ? categories[c].shortname : "?";
}

static void match_clear(struct policy_match *m)
{
	for (size_t i = 0; i < m->nlabels; i++) {
		free(m->labels[i].key);
		free(m->labels[i].value);
	}
	free(m->labels);
	free(m->name_glob);
	free(m->image_glob);
	free(m->network);
}

static void selector_clear(struct policy_selector *s)
{
	for (size_t i = 0; i < s->n; i++) {
		match_clear(&s->terms[i].match);
		free(s->terms[i].cidrs);
		free(s->terms[i].except);
		for (size_t k = 0; k < s->terms[i].nfqdns; k++)
			free(s->terms[i].fqdns[k].name);
		free(s->terms[i].fqdns);
	}
	free(s->terms);
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->ngroups; i++) {
		free(p->groups[i].name);
		match_clear(&p->groups[i].match);
	}
	free(p->groups);
	for (size_t i = 0; i < p->nnets; i++) {
		free(p->nets[i].name);
		free(p->nets[i].cidrs);
	}
	free(p->nets);
	for (size_t i = 0; i < p->nrules; i++) {
		free(p->rules[i].name);
		selector_clear(&p->rules[i].from);
		selector_clear(&p->rules[i].to);
		free(p->rules[i].ports);
	}
	free(p->rules);
	free(p->dns.resolvers);
	for (size_t i = 0; i < p->nfiles; i++)
		free(p->files[i]);
	free(p->files);
	free(p);
}

int policy_load(const char *path, struct diag_list *diags, struct policy **ret)
{
	struct node **roots = NULL;
	struct policy *p = NULL;
	size_t n = 0;
	int r;

	r = parse_path(path, diags, &roots, &n);
	if (r < 0)
		goto out;
	r = policy_from_nodes(roots, n, diags, &p);
	if (r < 0)
		goto out;
	*ret = p;
out:
	for (size_t i = 0; i < n; i++)
		node_free(roots[i]);
	free(roots);
	return r;
}

bool policy_rule_logs(const struct policy *p, const struct policy_rule *r)
{
	if (r->log >= 0)
		return r->log;
	return p->log == POLICY_LOG_ALL || (p->log == POLICY_LOG_DENY && r->action == POLICY_DENY);
}

bool policy_default_logs(const struct policy *p, enum policy_category c)
{
	return p->log == POLICY_LOG_ALL ||
	       (p->log == POLICY_LOG_DENY && p->defaults[c] == POLICY_DENY);
}

bool policy_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > POLICY_NAME_MAX)
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-") == len;
}

static size_t cidr_addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* Strict decimal prefix: digits only and no leading zero, so "/08" or "/+8" are rejected. */
static int parse_prefix(const char *s, unsigned max, uint8_t *ret)
{
	unsigned v = 0;

	if (!*s || strlen(s) > 3 || (s[0] == '0' && s[1]))
		return -ERANGE;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -ERANGE;
		v = v * 10 + (unsigned)(*s - '0');
	}
	if (v > max)
		return -ERANGE;
	*ret = (uint8_t)v;
	return 0;
}

int policy_cidr_parse(const char *s, struct policy_cidr *ret)
{
	struct policy_cidr c = {0};
	char buf[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);

	if (alen == 0 || alen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, c.addr) == 1)
		c.family = AF_INET;
	else if (inet_pton(AF_INET6, buf, c.addr) == 1)
		c.family = AF_INET6;
	else
		return -EINVAL;
	c.prefix = (uint8_t)(cidr_addr_len(c.family) * 8);
	if (slash && parse_prefix(slash + 1, c.prefix, &c.prefix) < 0)
		return -ERANGE;
	*ret = c;
	return 0;
}

bool policy_cidr_mask(struct policy_cidr *c)
{
	bool had = false;

	for (size_t i = 0; i < cidr_addr_len(c->family); i++) {
		unsigned bits = c->prefix > i * 8 ? c->prefix - i * 8 : 0;
		uint8_t keep = bits >= 8 ? 0xff : (uint8_t)(0xff00u >> bits);

		if (c->addr[i] & (uint8_t)~keep)
			had = true;
		c->addr[i] &= keep;
	}
	return had;
}

bool policy_cidr_contains(const struct policy_cidr *outer, const struct policy_cidr *inner)
{
	struct policy_cidr t = *inner;

	if (outer->family != inner->family || outer->prefix > inner->prefix)
		return false;
	t.prefix = outer->prefix;
	policy_cidr_mask(&t);
	return memcmp(t.addr, outer->addr, cidr_addr_len(t.family)) == 0;
}

bool policy_cidr_v4_mapped(const struct policy_cidr *c, struct policy_cidr *ret_v4)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	struct policy_cidr v4 = {.family = AF_INET};

	if (c->family != AF_INET6 || c->prefix < 96 || memcmp(c->addr, mapped, sizeof(mapped)))
		return false;
	if (ret_v4) {
		memcpy(v4.addr, c->addr + 12, 4);
		v4.prefix = (uint8_t)(c->prefix - 96);
		policy_cidr_mask(&v4);
		*ret_v4 = v4;
	}
	return true;
}

char *policy_cidr_format(const struct policy_cidr *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(c->family, c->addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	snprintf(buf, len, "%s/%u", a, c->prefix);
	return buf;
}
