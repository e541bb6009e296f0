/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "status.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compile.h"
#include "nft_counters.h"
#include "util.h"

struct kcounter {
	char name[POLICY_NAME_MAX + 8];
	uint64_t packets, bytes;
};

struct kcounters {
	struct kcounter *items; /* sorted by name, one per name, after read_counters() */
	size_t n, cap;
	int err;
};

static int add_counter(const char *name, uint64_t packets, uint64_t bytes, void *ud)
{
	struct kcounters *k = ud;
	struct kcounter *c;

	if (GROW(k->items, k->cap, k->n + 1, 64) < 0)
		return -ENOMEM;
	c = &k->items[k->n++];
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->packets = packets;
	c->bytes = bytes;
	return 0;
}

static int kcounter_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kcounter *)a)->name, ((const struct kcounter *)b)->name);
}

static const struct kcounter *find_counter(const struct kcounters *k, const char *name)
{
	struct kcounter key;

	snprintf(key.name, sizeof(key.name), "%s", name);
	return k->n ? bsearch(&key, k->items, k->n, sizeof(*k->items), kcounter_cmp) : NULL;
}

/* Sorted, then merged: a rule has thousands of counters' worth of company at 1,000 rules, and
 * every rule and default looks its own up. */
static void read_counters(struct kcounters *k)
{
	static const enum ir_family families[] = {IR_FAMILY_INET, IR_FAMILY_BRIDGE, IR_FAMILY_ARP};
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(families); i++) {
		int r = nft_counters_read(families[i], COMPILE_TABLE_NAME, add_counter, k);

		if (r < 0 && r != -ENOENT && !k->err)
			k->err = r;
	}
	if (k->n == 0)
		return;
	qsort(k->items, k->n, sizeof(*k->items), kcounter_cmp);
	/* The same counter name in several tables (the bridge table's flood chains keep their
	 * own r_ and d_c2c) is one rule's or default's: the sum is what it matched. */
	for (size_t i = 1; i < k->n; i++) {
		if (!strcmp(k->items[n].name, k->items[i].name)) {
			k->items[n].packets += k->items[i].packets;
			k->items[n].bytes += k->items[i].bytes;
		} else {
			k->items[++n] = k->items[i];
		}
	}
	k->n = n + 1;
}

/* One rule's or default's counter, its logging, and what the rate limit suppressed. */
static json_t *counter_json(const struct status_input *in, const struct kcounters *k,
			    const char *counter, bool logs)
{
	const struct kcounter *c = find_counter(k, counter);
	char sname[sizeof(c->name) + 2];
	uint64_t total = 0, epoch = 0;
	json_t *o = json_pack("{s:s, s:I, s:I, s:b}", "counter", counter, "packets",
			      (json_int_t)(c ? c->packets : 0), "bytes",
			      (json_int_t)(c ? c->bytes : 0), "log", logs);

	if (!logs || !o)
		return o;
	if (in->dec)
		decisions_logged(in->dec, counter, &total, &epoch);
	snprintf(sname, sizeof(sname), "s_%s", counter);
	const struct kcounter *s = find_counter(k, sname);
	uint64_t suppressed;
	const char *source;
	if (s) {
		suppressed = s->packets;
		source = "kernel";
	} else {
		/* Without a kernel count of the limit's overflow: every packet the counter saw
		 * since our tables were installed was either logged or suppressed (lost
		 * messages included, counted apart in decisions.lost). */
		uint64_t p = c ? c->packets : 0;

		suppressed = p > epoch ? p - epoch : 0;
		source = "derived";
	}
	json_object_set_new(o, "logged", json_integer((json_int_t)total));
	json_object_set_new(o, "suppressed", json_integer((json_int_t)suppressed));
	json_object_set_new(o, "suppressed_source", json_string(source));
	return o;
}

static json_t *endpoint_json(const struct endpoint *e)
{
	json_t *addrs = json_array(), *labels = json_object(), *nets = json_array();
	char text[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < e->naddrs; i++)
		json_array_append_new(addrs,
				      json_string(inet_ntop(e->addrs[i].family, e->addrs[i].addr,
							    text, sizeof(text))));
	for (size_t i = 0; i < e->nlabels; i++)
		json_object_set_new(labels, e->labels[i].key, json_string(e->labels[i].value));
	for (size_t i = 0; i < e->nnetworks; i++)
		json_array_append_new(nets, json_string(e->networks[i]));
	return json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:o, s:o, s:o}", "name", e->name, "id",
			 e->id, "interface", e->interface, "bridge", e->bridge, "image", e->image,
			 "addresses", addrs, "labels", labels, "networks", nets);
}

static void refused_one(const char *owner, const struct endpoint *e, const char *reason, void *ud)
{
	json_t *o = endpoint_json(e);

	json_object_set_new(o, "owner", json_string(owner));
	json_object_set_new(o, "reason", json_string(reason));
	json_array_append_new(ud, o);
}

static json_t *reconcile_json(const struct status_input *in)
{
	const struct agent_stats *st = in->st;
	char stamp[40];
	json_t *last = json_null();

	if (st->last_at_ns)
		last = json_pack("{s:s, s:s, s:f}", "kind", st->last_full ? "full" : "incremental",
				 "at", metrics_format_time(st->last_at_ns, stamp, sizeof(stamp)),
				 "duration_ms", st->last_ms);
	return json_pack(
	    "{s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:{s:o, s:o}}", "last", last, "full",
	    (json_int_t)st->full.count, "incremental", (json_int_t)st->incremental.count,
	    "elements_added", (json_int_t)in->rs->elements_added, "elements_deleted",
	    (json_int_t)in->rs->elements_deleted, "failures", (json_int_t)in->rs->failures,
	    "resyncs", (json_int_t)st->resyncs, "tamper_repairs", (json_int_t)st->tamper_repairs,
	    "policy_reload_failures", (json_int_t)st->reload_failures, "duration_seconds", "full",
	    metrics_hist_json(&st->full), "incremental", metrics_hist_json(&st->incremental));
}

static json_t *errors_json(const struct agent_stats *st)
{
	json_t *recent = json_array();
	uint64_t first = st->nerrors > METRICS_NERRORS ? st->nerrors - METRICS_NERRORS : 0;
	char stamp[40];

	for (uint64_t i = first; i < st->nerrors; i++) {
		const struct metrics_error *e = &st->errors[i % METRICS_NERRORS];

		json_array_append_new(recent,
				      json_pack("{s:s, s:s}", "at",
						metrics_format_time(e->at_ns, stamp, sizeof(stamp)),
						"message", e->message));
	}
	return json_pack("{s:I, s:o}", "count", (json_int_t)st->nerrors, "recent", recent);
}

json_t *status_build(const struct status_input *in)
{
	const struct policy *p = in->policy;
	struct kcounters k = {0};
	struct endpoint_set view = {0};
	struct compile_members *idx = NULL;
	json_t *doc, *eps, *refused, *groups, *rules, *defs, *events;
	char stamp[40], cname[POLICY_NAME_MAX + 8];

	read_counters(&k);
	if (inventory_view(in->inv, &view) < 0) {
		free(k.items);
		return NULL;
	}
	/* The compiler's label index: testing every endpoint against every group took most of
	 * a status at 250 groups and 10,000 endpoints. */
	if (compile_members_new(&view, &idx) < 0) {
		inventory_view_free(&view);
		free(k.items);
		return NULL;
	}
	refused = json_array();
	inventory_refused(in->inv, refused_one, refused);
	eps = json_array();
	for (size_t i = 0; i < view.n; i++)
		json_array_append_new(eps, endpoint_json(&view.items[i]));
	groups = json_array();
	for (size_t g = 0; p && g < p->ngroups; g++) {
		json_t *members = json_array();
		const size_t *ids;
		size_t n;

		compile_members_query(idx, &p->groups[g].match, &ids, &n);
		for (size_t i = 0; i < n; i++)
			json_array_append_new(members, json_string(view.items[ids[i]].name));
		json_array_append_new(
		    groups, json_pack("{s:s, s:o}", "name", p->groups[g].name, "members", members));
	}
	compile_members_free(idx);
	rules = json_array();
	for (size_t i = 0; p && i < p->nrules; i++) {
		const struct policy_rule *r = &p->rules[i];
		json_t *o;

		snprintf(cname, sizeof(cname), "r_%s", r->name);
		o = counter_json(in, &k, cname, policy_rule_logs(p, r));
		json_object_set_new(o, "name", json_string(r->name));
		json_object_set_new(o, "action",
				    json_string(r->action == POLICY_DENY ? "deny" : "allow"));
		json_array_append_new(rules, o);
	}
	defs = json_array();
	for (int c = 0; p && c < POLICY_CATEGORY_COUNT; c++) {
		json_t *o;

		snprintf(cname, sizeof(cname), "d_%s", policy_category_short(c));
		o = counter_json(in, &k, cname, policy_default_logs(p, c));
		json_object_set_new(o, "category", json_string(policy_category_name(c)));
		json_object_set_new(o, "action",
				    json_string(p->defaults[c] == POLICY_DENY ? "deny" : "allow"));
		json_array_append_new(defs, o);
	}
	events = json_object();
	for (int s = 0; s < METRICS_SRC_COUNT; s++)
		json_object_set_new(events, metrics_source_name(s),
				    json_integer((json_int_t)in->st->events[s]));
	doc = json_pack(
	    "{s:{s:s, s:i, s:s, s:f}, s:{s:s?, s:I, s:I}, s:o, s:o, s:o, s:o, s:o, "
	    "s:o, s:{s:b, s:I, s:I}, s:o, s:o}",
	    "agent", "version", NETSEG_VERSION, "pid", (int)getpid(), "started",
	    metrics_format_time(in->st->started_ns, stamp, sizeof(stamp)), "uptime_s",
	    (double)(metrics_now_ns() - in->st->started_ns) / 1e9, "policy", "path",
	    in->policy_path, "rules", (json_int_t)(p ? p->nrules : 0), "groups",
	    (json_int_t)(p ? p->ngroups : 0), "endpoints", eps, "refused", refused, "groups",
	    groups, "rules", rules, "defaults", defs, "reconcile", reconcile_json(in), "decisions",
	    "enabled", in->nflog_on, "logged", (json_int_t)(in->dec ? decisions_total(in->dec) : 0),
	    "lost", (json_int_t)in->nflog_lost, "events", events, "errors", errors_json(in->st));
	if (doc && k.err)
		json_object_set_new(doc, "counters_error", json_string(strerror(-k.err)));
	inventory_view_free(&view);
	free(k.items);
	return doc;
}
