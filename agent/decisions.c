/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "decisions.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

struct addr_entry {
	int family;
	uint8_t addr[16];
	const struct endpoint *ep;
};

struct counter_count {
	char name[POLICY_NAME_MAX + 8];
	uint64_t total, epoch;
};

struct decisions {
	struct addr_entry *index;
	size_t nindex;
	bool stale;
	struct counter_count *counts;
	size_t ncounts;
	uint64_t total;
	decisions_name_fn name_of;
	void *name_ud;
};

void decisions_set_names(struct decisions *d, decisions_name_fn name_of, void *ud)
{
	d->name_of = name_of;
	d->name_ud = ud;
}

int decisions_new(struct decisions **ret)
{
	struct decisions *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->stale = true;
	*ret = d;
	return 0;
}

void decisions_free(struct decisions *d)
{
	if (!d)
		return;
	free(d->index);
	free(d->counts);
	free(d);
}

void decisions_invalidate(struct decisions *d)
{
	d->stale = true;
}

void decisions_reset_epoch(struct decisions *d)
{
	for (size_t i = 0; i < d->ncounts; i++)
		d->counts[i].epoch = 0;
}

static int addr_cmp(const void *a, const void *b)
{
	const struct addr_entry *x = a, *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->addr, y->addr, 16);
}

static int reindex(struct decisions *d, const struct endpoint_set *view)
{
	size_t n = 0, k = 0;
	struct addr_entry *idx;

	for (size_t i = 0; view && i < view->n; i++)
		n += view->items[i].naddrs;
	idx = calloc(n ? n : 1, sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	for (size_t i = 0; view && i < view->n; i++)
		for (size_t j = 0; j < view->items[i].naddrs; j++) {
			const struct endpoint_addr *a = &view->items[i].addrs[j];

			idx[k].family = a->family;
			memcpy(idx[k].addr, a->addr, a->family == AF_INET ? 4 : 16);
			idx[k++].ep = &view->items[i];
		}
	qsort(idx, n, sizeof(*idx), addr_cmp);
	free(d->index);
	d->index = idx;
	d->nindex = n;
	d->stale = false;
	return 0;
}

static const struct endpoint *lookup(const struct decisions *d, int family, const uint8_t *addr)
{
	struct addr_entry key = {.family = family};
	const struct addr_entry *hit;

	memcpy(key.addr, addr, family == AF_INET ? 4 : 16);
	hit = bsearch(&key, d->index, d->nindex, sizeof(key), addr_cmp);
	return hit ? hit->ep : NULL;
}

bool decisions_parse_prefix(const char *prefix, char *counter, size_t clen, char *verdict,
			    size_t vlen)
{
	const char *p = prefix, *sp;
	size_t n;

	if (strncmp(p, "netseg ", 7) != 0)
		return false;
	p += 7;
	sp = strchr(p, ' ');
	if (!sp || sp == p || (size_t)(sp - p) >= clen)
		return false;
	memcpy(counter, p, (size_t)(sp - p));
	counter[sp - p] = '\0';
	p = sp + 1;
	n = strcspn(p, ": ");
	if (n == 0 || n >= vlen)
		return false;
	memcpy(verdict, p, n);
	verdict[n] = '\0';
	return true;
}

static struct counter_count *count_of(struct decisions *d, const char *counter)
{
	struct counter_count *c;

	for (size_t i = 0; i < d->ncounts; i++)
		if (!strcmp(d->counts[i].name, counter))
			return &d->counts[i];
	c = realloc(d->counts, (d->ncounts + 1) * sizeof(*c));
	if (!c)
		return NULL;
	d->counts = c;
	c = &d->counts[d->ncounts++];
	*c = (struct counter_count){0};
	snprintf(c->name, sizeof(c->name), "%s", counter);
	return c;
}

void decisions_logged(const struct decisions *d, const char *counter, uint64_t *ret_total,
		      uint64_t *ret_epoch)
{
	*ret_total = *ret_epoch = 0;
	for (size_t i = 0; i < d->ncounts; i++)
		if (!strcmp(d->counts[i].name, counter)) {
			*ret_total = d->counts[i].total;
			*ret_epoch = d->counts[i].epoch;
		}
}

uint64_t decisions_total(const struct decisions *d)
{
	return d->total;
}

static json_t *end_json(const struct decisions *d, int family, const uint8_t *addr, uint16_t port,
			bool has_ports)
{
	char text[INET6_ADDRSTRLEN];
	const struct endpoint *ep = lookup(d, family, addr);
	json_t *o = json_object();

	inet_ntop(family, addr, text, sizeof(text));
	json_object_set_new(o, "addr", json_string(text));
	if (has_ports)
		json_object_set_new(o, "port", json_integer(port));
	if (ep) {
		json_t *labels = json_object();

		for (size_t i = 0; i < ep->nlabels; i++)
			json_object_set_new(labels, ep->labels[i].key,
					    json_string(ep->labels[i].value));
		json_object_set_new(o, "container",
				    json_pack("{s:s, s:s?, s:o, s:s*}", "name", ep->name, "id",
					      ep->id, "labels", labels, "node", ep->node));
	}
	return o;
}

int decisions_write(struct decisions *d, const struct nflog_record *rec,
		    const struct endpoint_set *view, FILE *out)
{
	char counter[POLICY_NAME_MAX + 8], verdict[16], stamp[40];
	const char *pname = ip_proto_name(rec->proto);
	bool has_ports =
	    rec->proto == IPPROTO_TCP || rec->proto == IPPROTO_UDP || rec->proto == IPPROTO_SCTP;
	struct counter_count *cc;
	json_t *line;
	char *text;

	if (!decisions_parse_prefix(rec->prefix, counter, sizeof(counter), verdict,
				    sizeof(verdict)) ||
	    (rec->family != AF_INET && rec->family != AF_INET6))
		return -EINVAL;
	if (d->stale && reindex(d, view) < 0)
		return -ENOMEM;
	line = json_pack("{s:s, s:s, s:s}", "time",
			 metrics_format_time(rec->time_ns, stamp, sizeof(stamp)), "verdict",
			 verdict, "counter", counter);
	if (!line)
		return -ENOMEM;
	if (!strncmp(counter, "r_", 2)) {
		json_object_set_new(line, "rule", json_string(counter + 2));
	} else if (!strncmp(counter, "d_", 2)) {
		for (int c = 0; c < POLICY_CATEGORY_COUNT; c++)
			if (!strcmp(counter + 2, policy_category_short(c)))
				json_object_set_new(line, "default",
						    json_string(policy_category_name(c)));
	}
	json_object_set_new(line, "proto", pname ? json_string(pname) : json_integer(rec->proto));
	json_object_set_new(line, "src",
			    end_json(d, rec->family, rec->saddr, rec->sport, has_ports));
	json_t *dst = end_json(d, rec->family, rec->daddr, rec->dport, has_ports);
	const char *fqdn = d->name_of ? d->name_of(rec->family, rec->daddr, d->name_ud) : NULL;

	if (dst && fqdn)
		json_object_set_new(dst, "fqdn", json_string(fqdn));
	json_object_set_new(line, "dst", dst);
	if (rec->indev[0])
		json_object_set_new(line, "in", json_string(rec->indev));
	if (rec->outdev[0])
		json_object_set_new(line, "out", json_string(rec->outdev));
	/* Bridged packets: "in"/"out" name the bridge, the ports say which container's. */
	if (rec->physindev[0])
		json_object_set_new(line, "in_port", json_string(rec->physindev));
	if (rec->physoutdev[0])
		json_object_set_new(line, "out_port", json_string(rec->physoutdev));
	text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(line);
	if (!text)
		return -ENOMEM;
	/* One write per line, flushed: journald and pipes see whole lines at once. */
	fprintf(out, "%s\n", text);
	fflush(out);
	free(text);
	d->total++;
	if ((cc = count_of(d, counter))) {
		cc->total++;
		cc->epoch++;
	}
	return 0;
}
