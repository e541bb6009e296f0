/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Endpoint files: containers declared by something other than Docker (a CNI plugin, a test).
 * Validated like the policy: every problem is one located error, and a document with any error
 * adds nothing, so a half-read file can never half-change what the agent enforces.
 */
#include "endpoints.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "parse.h"
#include "schema.h"

#define ENDPOINT_NAME_MAX 255

static const char *const root_keys[] = {"endpoints"};
static const char *const endpoint_keys[] = {"name",  "id",	  "interface", "bridge",
					    "image", "addresses", "labels",    "networks"};
static const struct schema_keys root_ks = SCHEMA_KEYS("an endpoint file", root_keys);
static const struct schema_keys endpoint_ks = SCHEMA_KEYS("an endpoint", endpoint_keys);

/*
 * Names, interfaces and addresses already taken, so uniqueness costs one lookup per item
 * instead of a walk over every endpoint (10,000 endpoints made that walk take a second).
 * Values are endpoint indexes as endpoint_at() counts them.
 */
struct taken {
	struct taken_slot {
		uint64_t hash; /* 0: free */
		char kind;     /* 'n' name, 'i' interface, 'a' address */
		const void *key;
		size_t len;
		size_t endpoint;
	} * slots;
	size_t cap, used;
};

struct ectx {
	struct diag_list *d;
	const struct endpoint_set *prev; /* endpoints loaded earlier, for uniqueness */
	struct endpoint_set *cur;	 /* this document's, moved into prev's set on success */
	struct taken taken;
};

static uint64_t taken_hash(char kind, const void *key, size_t len)
{
	const uint8_t *p = key;
	uint64_t h = 0xcbf29ce484222325ull ^ (uint8_t)kind;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h | 1;
}

/* The endpoint index holding KEY, or SIZE_MAX. */
static size_t taken_find(const struct taken *t, char kind, const void *key, size_t len)
{
	uint64_t h = taken_hash(kind, key, len);

	for (size_t i = h & (t->cap - 1); t->cap && t->slots[i].hash; i = (i + 1) & (t->cap - 1)) {
		const struct taken_slot *s = &t->slots[i];

		if (s->hash == h && s->kind == kind && s->len == len && !memcmp(s->key, key, len))
			return s->endpoint;
	}
	return SIZE_MAX;
}

/* KEY must outlive the index (it points into an endpoint's own strings or addresses). */
static int taken_add(struct taken *t, char kind, const void *key, size_t len, size_t endpoint)
{
	uint64_t h = taken_hash(kind, key, len);
	size_t i;

	if ((t->used + 1) * 2 > t->cap) {
		struct taken bigger = {.cap = t->cap ? t->cap * 2 : 256};

		bigger.slots = calloc(bigger.cap, sizeof(*bigger.slots));
		if (!bigger.slots)
			return -ENOMEM;
		for (size_t k = 0; k < t->cap; k++) {
			const struct taken_slot *o = &t->slots[k];

			if (!o->hash)
				continue;
			for (i = o->hash & (bigger.cap - 1); bigger.slots[i].hash;
			     i = (i + 1) & (bigger.cap - 1))
				;
			bigger.slots[i] = *o;
		}
		bigger.used = t->used;
		free(t->slots);
		*t = bigger;
	}
	for (i = h & (t->cap - 1); t->slots[i].hash; i = (i + 1) & (t->cap - 1))
		;
	t->slots[i] = (struct taken_slot){h, kind, key, len, endpoint};
	t->used++;
	return 0;
}

static int taken_add_endpoint(struct taken *t, const struct endpoint *e, size_t index)
{
	int r = 0;

	if (e->name)
		r = taken_add(t, 'n', e->name, strlen(e->name), index);
	if (r == 0 && e->interface)
		r = taken_add(t, 'i', e->interface, strlen(e->interface), index);
	for (size_t k = 0; r == 0 && k < e->naddrs; k++)
		r = taken_add(t, 'a', &e->addrs[k], sizeof(e->addrs[k]), index);
	return r;
}

void endpoint_clear(struct endpoint *e)
{
	if (!e)
		return;
	free(e->name);
	free(e->id);
	free(e->interface);
	free(e->bridge);
	free(e->image);
	free(e->addrs);
	for (size_t i = 0; i < e->nlabels; i++) {
		free(e->labels[i].key);
		free(e->labels[i].value);
	}
	free(e->labels);
	for (size_t i = 0; i < e->nnetworks; i++)
		free(e->networks[i]);
	free(e->networks);
	free(e->node);
	*e = (struct endpoint){0};
}

struct endpoint_set *endpoint_set_new(void)
{
	return calloc(1, sizeof(struct endpoint_set));
}

void endpoint_set_free(struct endpoint_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		endpoint_clear(&s->items[i]);
	free(s->items);
	for (size_t i = 0; i < s->nfiles; i++)
		free(s->files[i]);
	free(s->files);
	free(s);
}

/* Index I over earlier documents' endpoints, then this one's; NULL past the end. */
static const struct endpoint *endpoint_at(const struct ectx *c, size_t i)
{
	if (i < c->prev->n)
		return &c->prev->items[i];
	i -= c->prev->n;
	return i < c->cur->n ? &c->cur->items[i] : NULL;
}

/* Kernel rules (dev_valid_name): 1..15 bytes, not "." or "..", no '/', ':' or whitespace. */
static bool ifname_check(struct ectx *c, const struct node *n, const char *what)
{
	const char *s = schema_want_str(c->d, n, what);

	if (!s)
		return false;
	if (strlen(s) > ENDPOINT_IFNAME_MAX) {
		diag_error(c->d, n->loc, NULL, "%s name '%s' is longer than %d characters", what, s,
			   ENDPOINT_IFNAME_MAX);
		return false;
	}
	for (const char *p = s; *p; p++)
		if (*p == '/' || *p == ':' || isspace((unsigned char)*p)) {
			diag_error(c->d, n->loc, NULL, "%s name '%s' contains '%c'", what, s, *p);
			return false;
		}
	if (!strcmp(s, ".") || !strcmp(s, "..")) {
		diag_error(c->d, n->loc, NULL, "invalid %s name '%s'", what, s);
		return false;
	}
	return true;
}

static bool name_check(struct ectx *c, const struct node *n)
{
	const struct endpoint *e;
	const char *s = schema_want_str(c->d, n, "name");

	if (!s)
		return false;
	for (const char *p = s; *p; p++)
		if (iscntrl((unsigned char)*p) || isspace((unsigned char)*p) ||
		    p - s >= ENDPOINT_NAME_MAX) {
			diag_error(c->d, n->loc, "use 1 to 255 characters without spaces",
				   "invalid endpoint name '%s'", s);
			return false;
		}
	e = endpoint_at(c, taken_find(&c->taken, 'n', s, strlen(s)));
	if (e) {
		diag_error(c->d, n->loc, NULL,
			   "duplicate endpoint name '%s' (first defined at %s:%d:%d)", s,
			   e->loc.file ? e->loc.file : "?", e->loc.line, e->loc.col);
		return false;
	}
	return true;
}

static bool interface_check(struct ectx *c, const struct node *n)
{
	const struct endpoint *e;

	if (!ifname_check(c, n, "interface"))
		return false;
	e = endpoint_at(c, taken_find(&c->taken, 'i', n->str, strlen(n->str)));
	if (e) {
		diag_error(c->d, n->loc, NULL, "interface '%s' is already used by endpoint '%s'",
			   n->str, e->name ? e->name : "?");
		return false;
	}
	return true;
}

static bool addr_used(struct ectx *c, const struct node *n, const struct endpoint_addr *a,
		      const struct endpoint *self)
{
	const struct endpoint *e = endpoint_at(c, taken_find(&c->taken, 'a', a, sizeof(*a)));

	if (!e) {
		/* Also the earlier addresses of SELF, whose array may still move: compare. */
		for (size_t k = 0; k < self->naddrs; k++)
			if (self->addrs[k].family == a->family &&
			    !memcmp(self->addrs[k].addr, a->addr, sizeof(a->addr)))
				e = self;
	}
	if (!e)
		return false;
	if (e == self)
		diag_error(c->d, n->loc, NULL, "address '%s' is listed twice", n->str);
	else
		diag_error(c->d, n->loc, NULL, "address '%s' is already used by endpoint '%s'",
			   n->str, e->name ? e->name : "?");
	return true;
}

/* Why A cannot be a container's own address (NULL if it can): the compiler would give every
 * packet from or to such an address the endpoint's rights. */
static const char *addr_not_unicast(const struct endpoint_addr *a)
{
	static const uint8_t zero[16], mapped[12] = {[10] = 0xff, [11] = 0xff};
	const uint8_t *b = a->addr;

	if (a->family == AF_INET) {
		if (!memcmp(b, zero, 4))
			return "the unspecified address";
		if (b[0] == 127)
			return "a loopback address";
		if (b[0] >= 224 && b[0] <= 239)
			return "a multicast address";
		if (b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255)
			return "the limited broadcast address";
		return NULL;
	}
	if (!memcmp(b, zero, 16))
		return "the unspecified address";
	if (!memcmp(b, zero, 15) && b[15] == 1)
		return "the loopback address";
	if (b[0] == 0xff)
		return "a multicast address";
	if (!memcmp(b, mapped, 12))
		return "an IPv4-mapped address";
	return NULL;
}

static bool addr_from_node(struct ectx *c, const struct node *n, struct endpoint_addr *ret)
{
	struct endpoint_addr a = {0};
	struct policy_cidr cidr;
	char hint[SCHEMA_HINT_MAX];
	const char *slash, *why;

	if (!schema_want_str(c->d, n, "address"))
		return false;
	slash = strchr(n->str, '/');
	if (slash && policy_cidr_parse(n->str, &cidr) == 0) {
		diag_error(c->d, n->loc,
			   schema_hintf(hint, sizeof(hint), "did you mean %.*s?",
					(int)(slash - n->str), n->str),
			   "address '%s' must not have a prefix length", n->str);
		return false;
	}
	if (inet_pton(AF_INET, n->str, a.addr) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, n->str, a.addr) == 1)
		a.family = AF_INET6;
	else {
		diag_error(c->d, n->loc, NULL, "invalid address '%s'", n->str);
		return false;
	}
	if ((why = addr_not_unicast(&a))) {
		diag_error(c->d, n->loc,
			   "an endpoint address must be the container's own unicast address",
			   "address '%s' is %s", n->str, why);
		return false;
	}
	*ret = a;
	return true;
}

static int addrs_from_node(struct ectx *c, const struct node *n, struct endpoint *e)
{
	if (!schema_want_seq(c->d, n, "addresses"))
		return 0;
	if (n->n == 0) {
		diag_error(c->d, n->loc, "an endpoint without addresses cannot send anything",
			   "'addresses' must not be empty");
		return 0;
	}
	for (size_t i = 0; i < n->n; i++) {
		struct endpoint_addr a;

		if (!addr_from_node(c, n->items[i], &a) || addr_used(c, n->items[i], &a, e))
			continue;
		if (SCHEMA_GROW(e->addrs, e->naddrs) < 0)
			return -ENOMEM;
		e->addrs[e->naddrs++] = a;
	}
	return 0;
}

static int networks_from_node(struct ectx *c, const struct node *n, struct endpoint *e)
{
	if (!schema_want_seq(c->d, n, "networks"))
		return 0;
	for (size_t i = 0; i < n->n; i++) {
		if (!schema_want_str(c->d, n->items[i], "network"))
			continue;
		if (SCHEMA_GROW(e->networks, e->nnetworks) < 0 ||
		    schema_dup_str(n->items[i]->str, &e->networks[e->nnetworks]) < 0)
			return -ENOMEM;
		e->nnetworks++;
	}
	return 0;
}

/* E is already the last element of c->cur, so uniqueness checks see it as "self". */
static int endpoint_body(struct ectx *c, const struct node *m, struct endpoint *e)
{
	struct node *name = node_map_get(m, "name", NULL),
		    *ifn = node_map_get(m, "interface", NULL);
	struct node *br = node_map_get(m, "bridge", NULL),
		    *addrs = node_map_get(m, "addresses", NULL);
	struct node *labels = node_map_get(m, "labels", NULL);
	struct node *nets = node_map_get(m, "networks", NULL);
	int r;

	schema_check_keys(c->d, m, &endpoint_ks);
	if (name && name_check(c, name) && (r = schema_dup_str(name->str, &e->name)) < 0)
		return r;
	if (ifn && interface_check(c, ifn) && (r = schema_dup_str(ifn->str, &e->interface)) < 0)
		return r;
	if (br && ifname_check(c, br, "bridge") && (r = schema_dup_str(br->str, &e->bridge)) < 0)
		return r;
	if (!name)
		schema_missing(c->d, m, &endpoint_ks, "endpoint", e->name, "name");
	if (!ifn)
		schema_missing(c->d, m, &endpoint_ks, "endpoint", e->name, "interface");
	if (!addrs)
		schema_missing(c->d, m, &endpoint_ks, "endpoint", e->name, "addresses");
	if ((addrs && (r = addrs_from_node(c, addrs, e)) < 0) ||
	    (labels && (r = schema_labels(c->d, labels, &e->labels, &e->nlabels)) < 0) ||
	    (nets && (r = networks_from_node(c, nets, e)) < 0) ||
	    (r = schema_optional_str(c->d, m, "id", &e->id)) < 0 ||
	    (r = schema_optional_str(c->d, m, "image", &e->image)) < 0)
		return r;
	return 0;
}

static int endpoint_from_node(struct ectx *c, const struct node *m)
{
	struct endpoint_set *s = c->cur;
	struct endpoint *e;
	int r;

	if (m->kind != NODE_MAP) {
		diag_error(c->d, m->loc, NULL, "an endpoint must be a mapping, got %s",
			   node_kind_name(m));
		return 0;
	}
	if (SCHEMA_GROW(s->items, s->n) < 0)
		return -ENOMEM;
	e = &s->items[s->n++];
	*e = (struct endpoint){0};
	if (schema_own_loc(&s->files, &s->nfiles, m->loc, &e->loc) < 0)
		return -ENOMEM;
	r = endpoint_body(c, m, e);
	/* Index it once complete: its strings and address array no longer move. */
	if (r == 0)
		r = taken_add_endpoint(&c->taken, e, c->prev->n + s->n - 1);
	return r;
}

static int endpoints_from_root(struct ectx *c, const struct node *root)
{
	const struct node *list;
	int r;

	if (root->kind != NODE_MAP) {
		diag_error(c->d, root->loc, NULL, "an endpoint file must be a mapping, got %s",
			   node_kind_name(root));
		return 0;
	}
	schema_check_keys(c->d, root, &root_ks);
	list = node_map_get(root, "endpoints", NULL);
	if (!list) {
		diag_error(c->d, root->loc, NULL, "missing 'endpoints'");
		return 0;
	}
	if (!schema_want_seq(c->d, list, "endpoints"))
		return 0;
	for (size_t i = 0; i < list->n; i++)
		if ((r = endpoint_from_node(c, list->items[i])) < 0)
			return r;
	return 0;
}

/* Moves CUR's endpoints and file names into S; cannot fail once room is made. */
static int endpoint_set_take(struct endpoint_set *s, struct endpoint_set *cur)
{
	struct endpoint *items;
	char **files;

	if (cur->n == 0 && cur->nfiles == 0)
		return 0;
	items = reallocarray(s->items, s->n + cur->n + 1, sizeof(*items));
	if (!items)
		return -ENOMEM;
	s->items = items;
	s->cap = s->n + cur->n + 1;
	files = reallocarray(s->files, s->nfiles + cur->nfiles, sizeof(*files));
	if (!files)
		return -ENOMEM;
	s->files = files;
	memcpy(s->items + s->n, cur->items, cur->n * sizeof(*items));
	memcpy(s->files + s->nfiles, cur->files, cur->nfiles * sizeof(*files));
	s->n += cur->n;
	s->nfiles += cur->nfiles;
	cur->n = cur->nfiles = 0;
	return 0;
}

int endpoint_set_from_node(struct endpoint_set *s, const struct node *root, struct diag_list *diags)
{
	struct endpoint_set *cur = endpoint_set_new();
	struct ectx c = {.d = diags, .prev = s, .cur = cur};
	size_t errors = diags->nerrors;
	int r = -ENOMEM;

	if (!cur)
		goto out;
	for (size_t i = 0; i < s->n; i++)
		if ((r = taken_add_endpoint(&c.taken, &s->items[i], i)) < 0)
			goto out;
	r = endpoints_from_root(&c, root);
	if (r < 0)
		goto out;
	if (diags->nerrors > errors) {
		r = -EINVAL;
		goto out;
	}
	r = endpoint_set_take(s, cur);
out:
	free(c.taken.slots);
	endpoint_set_free(cur);
	return r;
}

static int endpoint_set_load_at(struct endpoint_set *s, const char *path, bool listed,
				struct diag_list *diags)
{
	struct node *root = NULL;
	int r;

	r = listed ? parse_listed_file(path, diags, &root) : parse_file(path, diags, &root);
	if (r != 0)
		return r;
	r = endpoint_set_from_node(s, root, diags);
	node_free(root);
	return r;
}

int endpoint_set_load(struct endpoint_set *s, const char *path, struct diag_list *diags)
{
	return endpoint_set_load_at(s, path, false, diags);
}

int endpoint_set_load_listed(struct endpoint_set *s, const char *path, struct diag_list *diags)
{
	return endpoint_set_load_at(s, path, true, diags);
}

static const char *label_value(const struct endpoint *e, const char *key)
{
	for (size_t i = 0; i < e->nlabels; i++)
		if (strcmp(e->labels[i].key, key) == 0)
			return e->labels[i].value;
	return NULL;
}

static bool on_network(const struct endpoint *e, const char *net)
{
	for (size_t i = 0; i < e->nnetworks; i++)
		if (strcmp(e->networks[i], net) == 0)
			return true;
	return false;
}

bool endpoint_matches(const struct endpoint *e, const struct policy_match *m)
{
	for (size_t i = 0; i < m->nlabels; i++) {
		const char *v = label_value(e, m->labels[i].key);

		if (!v || strcmp(v, m->labels[i].value) != 0)
			return false;
	}
	/* No fnmatch flags: '*' also crosses '/', so "registry.local/ci/<star>" covers subpaths. */
	if (m->name_glob && (!e->name || fnmatch(m->name_glob, e->name, 0) != 0))
		return false;
	if (m->image_glob && (!e->image || fnmatch(m->image_glob, e->image, 0) != 0))
		return false;
	if (m->network && !on_network(e, m->network))
		return false;
	return true;
}
