/* SPDX-License-Identifier: GPL-2.0-or-later */
/* DNS names of fqdn selectors: checking, normalizing and matching. */
#include "policy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static char fqdn_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Letters, digits, '-' and '_' (service labels such as _sip exist), no '-' at either end. */
static const char *fqdn_check_labels(const char *s, size_t len)
{
	size_t start = 0;

	if (len == 0)
		return "a DNS name must not be empty";
	if (len > POLICY_FQDN_MAX)
		return "a DNS name is at most 253 characters";
	for (size_t i = 0; i <= len; i++) {
		char c = i < len ? s[i] : '.';

		if (c == '.') {
			if (i == start)
				return "empty label (two dots, or a dot at the start)";
			if (i - start > 63)
				return "a DNS label is at most 63 characters";
			if (s[start] == '-' || s[i - 1] == '-')
				return "a DNS label must not start or end with '-'";
			start = i + 1;
			continue;
		}
		if (c == '*')
			return "'*' is only allowed as the whole first label ('*.example.com')";
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return "a DNS name holds letters, digits, '-', '_' and dots";
	}
	return NULL;
}

int policy_fqdn_parse(const char *s, bool wildcard_ok, struct policy_fqdn *ret,
		      const char **ret_why)
{
	size_t len = strlen(s);
	bool wildcard = false;
	const char *why;
	char *name;

	if (len > 0 && s[len - 1] == '.')
		len--; /* the root label: "example.com." is "example.com" */
	if (len >= 2 && s[0] == '*' && s[1] == '.') {
		if (!wildcard_ok) {
			*ret_why = "a wildcard is not allowed here";
			return -EINVAL;
		}
		wildcard = true;
		s += 2;
		len -= 2;
	}
	why = fqdn_check_labels(s, len);
	if (why) {
		*ret_why = why;
		return -EINVAL;
	}
	name = malloc(len + 1);
	if (!name)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++)
		name[i] = fqdn_lower(s[i]);
	name[len] = '\0';
	*ret = (struct policy_fqdn){.name = name, .wildcard = wildcard};
	return 0;
}

bool policy_fqdn_match(const struct policy_fqdn *f, const char *name)
{
	size_t len = strlen(name), flen = strlen(f->name);

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (!f->wildcard) {
		if (len != flen)
			return false;
	} else {
		/* At least one label, then a dot, then the name: never the name itself. */
		if (len < flen + 2 || name[len - flen - 1] != '.')
			return false;
		name += len - flen;
	}
	for (size_t i = 0; i < flen; i++)
		if (fqdn_lower(name[i]) != f->name[i])
			return false;
	return true;
}

bool policy_has_fqdn(const struct policy *p)
{
	for (size_t i = 0; i < p->nrules; i++)
		for (size_t k = 0; k < p->rules[i].to.n; k++)
			if (p->rules[i].to.terms[k].kind == POLICY_TERM_FQDN)
				return true;
	return false;
}
