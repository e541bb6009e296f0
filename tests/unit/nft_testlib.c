/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared by the kernel-touching nft suites (test_nft_encode.c, test_apply.c, test_elems.c,
 * test_monitor.c, test_nflog.c, test_counters.c): tests/meson.build builds it once, into the
 * suites' static testlib.
 */
#include "nft_testlib.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "nft_batch.h"

void nt_enter_netns_or_skip(const char *suite)
{
	/* check ends a failing test with _exit: unflushed diagnostics would be lost. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		printf("%s: skipped: needs root to create network namespaces\n", suite);
		exit(77);
	}
	if (unshare(CLONE_NEWNET) < 0) {
		printf("%s: skipped: unshare(CLONE_NEWNET): %s\n", suite, strerror(errno));
		exit(77);
	}
	if (system("nft --version >/dev/null 2>&1") != 0) {
		printf("%s: skipped: nft(8) not found\n", suite);
		exit(77);
	}
}

void nt_fresh_netns(bool lo_up)
{
	ck_assert_msg(unshare(CLONE_NEWNET) == 0, "unshare: %s", strerror(errno));
	if (lo_up)
		ck_assert_int_eq(system("ip link set lo up"), 0);
}

void nt_apply_ok(const struct ir_ruleset *rs)
{
	struct nft_batch_error err = {0};
	int r = nft_batch_apply(rs, &err);

	ck_assert_msg(r == 0, "apply: %d: %s", r, err.message);
}

/* ------------------------------------------------------------------------ IR building */

struct ir_value nt_v4(const char *addr, int prefix)
{
	uint8_t a[4];

	ck_assert_int_eq(inet_pton(AF_INET, addr, a), 1);
	return ir_value_addr(AF_INET, a, prefix);
}

struct ir_value nt_v6(const char *addr, int prefix)
{
	uint8_t a[16];

	ck_assert_int_eq(inet_pton(AF_INET6, addr, a), 1);
	return ir_value_addr(AF_INET6, a, prefix);
}

struct ir_stmt nt_match(enum ir_key k, enum ir_op op, struct ir_value v)
{
	struct ir_stmt s = {.kind = IR_STMT_MATCH};

	s.match.keys[0] = k;
	s.match.nkeys = 1;
	s.match.op = op;
	s.match.value = v;
	return s;
}

struct ir_stmt nt_range(enum ir_key k, struct ir_value lo, struct ir_value hi)
{
	struct ir_stmt s = nt_match(k, IR_OP_RANGE, lo);

	s.match.value_end = hi;
	return s;
}

struct ir_stmt nt_lookup(enum ir_op op, const char *set, size_t nkeys, const enum ir_key *keys)
{
	struct ir_stmt s = {.kind = IR_STMT_MATCH};

	ck_assert_uint_le(nkeys, IR_CONCAT_MAX);
	memcpy(s.match.keys, keys, nkeys * sizeof(*keys));
	s.match.nkeys = (uint8_t)nkeys;
	s.match.op = op;
	s.match.set = set;
	return s;
}

struct ir_stmt nt_verdict(enum ir_verdict_kind kind, const char *chain)
{
	struct ir_stmt s = {.kind = IR_STMT_VERDICT};

	s.verdict.kind = kind;
	s.verdict.chain = chain;
	return s;
}

struct ir_stmt nt_counter(const char *name)
{
	struct ir_stmt s = {.kind = IR_STMT_COUNTER};

	s.counter = name;
	return s;
}

void nt_rule(struct ir_chain *c, const struct ir_stmt *s, size_t n)
{
	struct ir_rule *r = ir_rule_add(c);

	ck_assert_ptr_nonnull(r);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(ir_rule_push(r, &s[i]), 0);
}

struct ir_chain *nt_base_chain(struct ir_ruleset *rs, struct ir_table *t, const char *name,
			       enum ir_hook hook, int prio)
{
	struct ir_chain *c = ir_chain_add(rs, t, name);

	ck_assert_ptr_nonnull(c);
	c->base = true;
	c->hook = hook;
	c->priority = prio;
	return c;
}

void nt_elem1(struct ir_set *s, struct ir_value v)
{
	struct ir_elem e = {0};

	e.key[0] = v;
	ck_assert_int_eq(ir_elem_add(s, &e), 0);
}

void nt_elem_range(struct ir_set *s, struct ir_value lo, struct ir_value hi)
{
	struct ir_elem e = {0};

	e.key[0] = lo;
	e.key_end[0] = hi;
	ck_assert_int_eq(ir_elem_add(s, &e), 0);
}

void nt_elem2(struct ir_set *s, struct ir_value a, struct ir_value b)
{
	struct ir_elem e = {0};

	e.key[0] = a;
	e.key[1] = b;
	ck_assert_int_eq(ir_elem_add(s, &e), 0);
}

void nt_elem2_range(struct ir_set *s, struct ir_value a, struct ir_value b_lo, struct ir_value b_hi)
{
	struct ir_elem e = {0};

	e.key[0] = a;
	e.key_end[0] = a;
	e.key[1] = b_lo;
	e.key_end[1] = b_hi;
	ck_assert_int_eq(ir_elem_add(s, &e), 0);
}

void nt_elem_vmap(struct ir_set *s, struct ir_value k, enum ir_verdict_kind kind, const char *chain)
{
	struct ir_elem e = {0};

	e.key[0] = k;
	e.verdict.kind = kind;
	e.verdict.chain = chain;
	ck_assert_int_eq(ir_elem_add(s, &e), 0);
}

/* ------------------------------------------------------------------ namespaces, commands */

int nt_in_new_netns(int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWNET) < 0) {
			fprintf(stderr, "unshare: %s\n", strerror(errno));
			_exit(99);
		}
		_exit(fn(arg));
	}
	while (waitpid(pid, &status, 0) < 0)
		ck_assert_int_eq(errno, EINTR);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

char *nt_capture(const char *cmd, int *ret_status)
{
	FILE *p = popen(cmd, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int st;

	if (!p)
		return NULL;
	for (;;) {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap + 65536);

			if (!nb) {
				free(buf);
				pclose(p);
				return NULL;
			}
			buf = nb;
			cap += 65536;
		}
		size_t n = fread(buf + len, 1, cap - len - 1, p);

		if (n == 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	st = pclose(p);
	if (ret_status)
		*ret_status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return buf;
}

char *nt_ruleset_text(void)
{
	int st;
	char *s = nt_capture("nft list ruleset 2>&1", &st);

	if (s && st != 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* ------------------------------------------------------------------------- listings */

struct nt_lines {
	char **v;
	size_t n, cap;
};

static void nt_lines_add(struct nt_lines *l, const char *s, size_t len)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 256;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		ck_assert_ptr_nonnull(l->v);
	}
	l->v[l->n] = strndup(s, len);
	ck_assert_ptr_nonnull(l->v[l->n]);
	l->n++;
}

static int nt_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *nt_lines_join(struct nt_lines *l, bool sort)
{
	size_t total = 1, off = 0;
	char *out;

	if (sort)
		qsort(l->v, l->n, sizeof(*l->v), nt_strcmp);
	for (size_t i = 0; i < l->n; i++)
		total += strlen(l->v[i]) + 1;
	out = malloc(total);
	ck_assert_ptr_nonnull(out);
	for (size_t i = 0; i < l->n; i++) {
		off += (size_t)sprintf(out + off, "%s\n", l->v[i]);
		free(l->v[i]);
	}
	out[off] = '\0';
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
	return out;
}

static void nt_json_strip(json_t *j)
{
	const char *k;
	json_t *v;
	size_t i;
	void *tmp;

	if (json_is_object(j)) {
		json_object_del(j, "handle");
		json_object_foreach_safe (j, tmp, k, v)
			nt_json_strip(v);
	} else if (json_is_array(j)) {
		json_array_foreach (j, i, v)
			nt_json_strip(v);
	}
}

static int nt_json_cmp(const void *a, const void *b)
{
	char *sa = json_dumps(*(json_t *const *)a, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
	char *sb = json_dumps(*(json_t *const *)b, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
	int r = strcmp(sa, sb);

	free(sa);
	free(sb);
	return r;
}

/* nft -j: one line per object, handles dropped, set elements sorted. */
static bool nt_json_state(const char *family, const char *name, struct nt_lines *out)
{
	char cmd[256];
	json_error_t jerr;
	json_t *root, *arr, *item;
	size_t i;
	int st;
	char *text;

	snprintf(cmd, sizeof(cmd), "nft -j list table %s %s 2>/dev/null", family, name);
	text = nt_capture(cmd, &st);
	if (!text || st != 0) {
		free(text);
		return false;
	}
	root = json_loads(text, 0, &jerr);
	free(text);
	ck_assert_msg(root != NULL, "nft -j output: %s", jerr.text);
	arr = json_object_get(root, "nftables");
	ck_assert(json_is_array(arr));
	json_array_foreach (arr, i, item) {
		json_t *inner;
		const char *kind;
		char *s;

		if (json_object_get(item, "metainfo"))
			continue;
		nt_json_strip(item);
		json_object_foreach (item, kind, inner) {
			json_t *elem = json_object_get(inner, "elem");

			if (json_is_array(elem)) {
				size_t n = json_array_size(elem);
				json_t **v = calloc(n ? n : 1, sizeof(*v));
				json_t *sorted = json_array();

				for (size_t e = 0; e < n; e++)
					v[e] = json_array_get(elem, e);
				qsort(v, n, sizeof(*v), nt_json_cmp);
				for (size_t e = 0; e < n; e++)
					json_array_append(sorted, v[e]);
				json_object_set_new(inner, "elem", sorted);
				free(v);
			}
		}
		s = json_dumps(item, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
		nt_lines_add(out, "json ", 5);
		out->v[out->n - 1] = realloc(out->v[out->n - 1], strlen(s) + 6);
		strcat(out->v[out->n - 1], s);
		free(s);
	}
	json_decref(root);
	return true;
}

/* Drops trailing all-digit words while more than "family table chain" remains. */
static size_t nt_strip_numbers(const char *p, size_t len)
{
	for (;;) {
		size_t w = len, words = 1;

		while (w > 0 && p[w - 1] >= '0' && p[w - 1] <= '9')
			w--;
		if (w == len || w == 0 || p[w - 1] != ' ')
			return len;
		for (size_t i = 0; i < w - 1; i++)
			words += p[i] == ' ';
		if (words < 3)
			return len;
		len = w - 1;
	}
}

/*
 * nft --debug=netlink list: the kernel's own expressions per rule and the raw element keys.
 * Rule header lines end in handle and position numbers, which differ between namespaces;
 * element order within a hash set is the hash's.
 */
static bool nt_debug_state(const char *family, const char *name, struct nt_lines *out)
{
	char cmd[256];
	struct nt_lines block = {0};
	const char *p, *nl;
	char *text, *joined;
	int st;

	snprintf(cmd, sizeof(cmd), "nft --debug=netlink list table %s %s 2>/dev/null", family,
		 name);
	text = nt_capture(cmd, &st);
	if (!text || st != 0) {
		free(text);
		return false;
	}
	/* Blocks start at a line without leading whitespace; element lines are sorted. */
	for (p = text; *p; p = nl + 1) {
		size_t len;

		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		len = (size_t)(nl - p);
		if (len == 0) {
			if (!*nl)
				break;
			continue;
		}
		if (p[0] == '\t' && strncmp(p, "\telement", 8) == 0) {
			nt_lines_add(&block, p, len);
		} else {
			if (block.n) {
				joined = nt_lines_join(&block, true);
				nt_lines_add(out, joined, strlen(joined) - 1);
				free(joined);
			}
			if (p[0] != ' ' && p[0] != '\t') {
				/* "inet netseg forward 18 17": drop the numbers. */
				len = nt_strip_numbers(p, len);
			}
			nt_lines_add(out, p, len);
		}
		if (!*nl)
			break;
	}
	if (block.n) {
		joined = nt_lines_join(&block, true);
		nt_lines_add(out, joined, strlen(joined) - 1);
		free(joined);
	}
	free(text);
	return true;
}

static int nt_set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nt_lines *out = data;
	struct nftnl_set *s = nftnl_set_alloc();
	char line[2048];
	size_t off;
	uint32_t len = 0;
	const uint8_t *ud;
	const uint8_t *fl;

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(nftnl_set_nlmsg_parse(nlh, s), 0);
	off = (size_t)snprintf(
	    line, sizeof(line), "set %s flags=0x%x ktype=0x%x klen=%u dtype=0x%x dlen=%u size=%u",
	    nftnl_set_get_str(s, NFTNL_SET_NAME), nftnl_set_get_u32(s, NFTNL_SET_FLAGS),
	    nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE), nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN),
	    nftnl_set_get_u32(s, NFTNL_SET_DATA_TYPE), nftnl_set_get_u32(s, NFTNL_SET_DATA_LEN),
	    nftnl_set_is_set(s, NFTNL_SET_DESC_SIZE) ? nftnl_set_get_u32(s, NFTNL_SET_DESC_SIZE)
						     : 0);
	ud = nftnl_set_get_data(s, NFTNL_SET_USERDATA, &len);
	off += (size_t)snprintf(line + off, sizeof(line) - off, " udata=");
	for (uint32_t i = 0; ud && i < len && off < sizeof(line) - 3; i++)
		off += (size_t)snprintf(line + off, sizeof(line) - off, "%02x", ud[i]);
	len = 0;
	fl = nftnl_set_get_data(s, NFTNL_SET_DESC_CONCAT, &len);
	off += (size_t)snprintf(line + off, sizeof(line) - off, " fields=");
	for (uint32_t i = 0; fl && i < len / sizeof(*fl) && off < sizeof(line) - 12; i++)
		off += (size_t)snprintf(line + off, sizeof(line) - off, "%u,", fl[i]);
	nt_lines_add(out, line, strlen(line));
	nftnl_set_free(s);
	return MNL_CB_OK;
}

/* The set attributes nft does not print: flags, key type and length, user data, fields. */
static bool nt_set_state(int family, const char *table, struct nt_lines *out)
{
	char *buf = malloc(MNL_SOCKET_BUFFER_SIZE);
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	struct nftnl_set *s = nftnl_set_alloc();
	uint32_t seq = (uint32_t)time(NULL), portid;
	struct nlmsghdr *nlh;
	bool ok = false;
	ssize_t n;
	int r;

	ck_assert_ptr_nonnull(buf);
	ck_assert_ptr_nonnull(nl);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID), 0);
	portid = mnl_socket_get_portid(nl);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSET, (uint16_t)family, NLM_F_DUMP | NLM_F_ACK,
				    seq);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	ck_assert_int_ge(mnl_socket_sendto(nl, nlh, nlh->nlmsg_len), 0);
	while ((n = mnl_socket_recvfrom(nl, buf, MNL_SOCKET_BUFFER_SIZE)) > 0) {
		r = mnl_cb_run(buf, (size_t)n, seq, portid, nt_set_cb, out);
		if (r <= 0) {
			ok = r == 0;
			break;
		}
	}
	mnl_socket_close(nl);
	free(buf);
	return ok;
}

static int nt_family_num(const char *family)
{
	if (strcmp(family, "inet") == 0)
		return NFPROTO_INET;
	if (strcmp(family, "bridge") == 0)
		return NFPROTO_BRIDGE;
	if (strcmp(family, "arp") == 0)
		return NFPROTO_ARP;
	return -1;
}

char *nt_table_state(const char *family, const char *name)
{
	struct nt_lines l = {0}, sets = {0};
	char *joined;

	if (!nt_json_state(family, name, &l) || !nt_debug_state(family, name, &l) ||
	    !nt_set_state(nt_family_num(family), name, &sets)) {
		while (l.n)
			free(l.v[--l.n]);
		free(l.v);
		while (sets.n)
			free(sets.v[--sets.n]);
		free(sets.v);
		return NULL;
	}
	joined = nt_lines_join(&sets, true);
	nt_lines_add(&l, joined, strlen(joined) ? strlen(joined) - 1 : 0);
	free(joined);
	return nt_lines_join(&l, false);
}

static void nt_split(const char *s, struct nt_lines *l)
{
	const char *p = s, *nl;

	while (*p) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		nt_lines_add(l, p, (size_t)(nl - p));
		p = *nl ? nl + 1 : nl;
	}
	qsort(l->v, l->n, sizeof(*l->v), nt_strcmp);
}

bool nt_same_lines(const char *what, const char *a, const char *b)
{
	struct nt_lines la = {0}, lb = {0};
	size_t i = 0, j = 0, shown = 0;
	bool same = true;

	nt_split(a, &la);
	nt_split(b, &lb);
	while (i < la.n || j < lb.n) {
		int c = i == la.n ? 1 : j == lb.n ? -1 : strcmp(la.v[i], lb.v[j]);

		if (c == 0) {
			i++;
			j++;
			continue;
		}
		if (same)
			printf("%s: listings differ (- nft -f, + libnftnl):\n", what);
		same = false;
		if (shown++ < 60)
			printf("%c %s\n", c < 0 ? '-' : '+', c < 0 ? la.v[i] : lb.v[j]);
		if (c < 0)
			i++;
		else
			j++;
	}
	for (i = 0; i < la.n; i++)
		free(la.v[i]);
	for (j = 0; j < lb.n; j++)
		free(lb.v[j]);
	free(la.v);
	free(lb.v);
	return same;
}
