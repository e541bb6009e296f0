/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Apply benchmark through the C API, in a private network namespace (unshare, as root):
 *
 *  1. load POLICY and ENDPOINTS (N endpoints), compile, and install with nft_batch_apply():
 *     a fresh install, then REPLACE replacements of the same tables (what `netseg apply` and a
 *     resync do), each timed; the batch's netlink bytes counted;
 *  2. one more endpoint (EXTRA, an endpoint file with one endpoint on a bridge already in the
 *     ruleset): its elements from compile_endpoint_elems() -- minus the bridge's dispatch
 *     entries, which the other endpoints on that bridge already hold and the agent counts by
 *     reference -- are added and then deleted with nft_batch_elements(), ITER times, each
 *     call timed separately. Netlink bytes are those of the same batch built with
 *     nft_encode_elems() + nft_encode_finish(), the encoder nft_batch_elements() uses.
 *
 * The agent does exactly step 2 when a container starts or stops, so the time and the bytes
 * should not grow with N.
 *
 *   bench_apply_delta -p POLICY -e ENDPOINTS -x EXTRA [-i ITER] [-r REPLACE] [-F] [-V]
 * -F: full applies only (for profiling). -V: leave the endpoint's verdict-map elements out of
 * the delta (an experiment: what they cost). Prints one JSON object on stdout.
 */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <libnftnl/batch.h>

#include "compile.h"
#include "diag.h"
#include "endpoints.h"
#include "nft_batch.h"
#include "nft_encode.h"
#include "policy.h"

#define BENCH_MAX_ITER	 100000
#define BENCH_MAX_DELTAS 256

/* -V: leave out verdict-map elements, to show what they cost (see docs/benchmarks.md). */
static bool bench_skip_vmap;

struct bench_delta_build {
	struct ir_elem elems[BENCH_MAX_DELTAS];
	struct nft_elem_delta d[BENCH_MAX_DELTAS];
	size_t nelems, nd;
};

static double bench_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int bench_dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double bench_pct(double *v, size_t n, double p)
{
	size_t i;

	qsort(v, n, sizeof(*v), bench_dcmp);
	i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

static size_t bench_batch_bytes(const struct nft_encode *e)
{
	struct nftnl_batch *b = nft_encode_batch(e);
	int n = nftnl_batch_iovec_len(b);
	struct iovec *iov = calloc((size_t)n, sizeof(*iov));
	size_t bytes = 0;

	if (!iov)
		return 0;
	nftnl_batch_iovec(b, iov, (uint32_t)n);
	for (int i = 0; i < n; i++)
		bytes += iov[i].iov_len;
	free(iov);
	return bytes;
}

static bool bench_elem_in(const struct ir_set *s, const struct ir_elem *e)
{
	for (size_t i = 0; i < s->n; i++)
		if (memcmp(&s->elems[i].key, &e->key, sizeof(e->key)) == 0)
			return true;
	return false;
}

/* compile_endpoint_elems() callback: one delta per run of elements of the same set. */
static int bench_collect(const struct ir_table *t, const struct ir_set *s, const struct ir_elem *e,
			 void *userdata)
{
	struct bench_delta_build *b = userdata;
	struct nft_elem_delta *last = b->nd ? &b->d[b->nd - 1] : NULL;

	/* The bridge's dispatch entries are shared with the endpoints already on it. */
	if (s->is_vmap && (bench_skip_vmap || bench_elem_in(s, e)))
		return 0;
	if (b->nelems == BENCH_MAX_DELTAS)
		return -E2BIG;
	b->elems[b->nelems] = *e;
	if (last && last->set == s && last->family == t->family &&
	    last->elems + last->n == &b->elems[b->nelems]) {
		last->n++;
	} else {
		b->d[b->nd++] = (struct nft_elem_delta){.family = t->family,
							.table = t->name,
							.set = s,
							.elems = &b->elems[b->nelems],
							.n = 1};
	}
	b->nelems++;
	return 0;
}

static size_t bench_delta_bytes(const struct bench_delta_build *b, bool del)
{
	struct nft_encode *e = nft_encode_new(1);
	size_t bytes = 0;

	if (!e)
		return 0;
	for (size_t i = 0; i < b->nd; i++)
		if (nft_encode_elems(e, b->d[i].family, b->d[i].table, b->d[i].set, b->d[i].elems,
				     b->d[i].n, del) < 0)
			goto out;
	if (nft_encode_finish(e) == 0)
		bytes = bench_batch_bytes(e);
out:
	nft_encode_free(e);
	return bytes;
}

static size_t bench_full_bytes(const struct ir_ruleset *rs, size_t *ret_msgs)
{
	struct nft_encode *e = nft_encode_new(1);
	size_t bytes = 0;

	if (!e)
		return 0;
	for (size_t i = 0; i < rs->n; i++)
		if (nft_encode_table_replace(e, rs->tables[i]) < 0)
			goto out;
	if (nft_encode_finish(e) == 0) {
		bytes = bench_batch_bytes(e);
		*ret_msgs = nft_encode_nmsgs(e);
	}
out:
	nft_encode_free(e);
	return bytes;
}

static void bench_die_diag(struct diag_list *d, const char *what)
{
	fprintf(stderr, "bench_apply_delta: cannot load %s\n", what);
	diag_print(d, stderr);
	exit(1);
}

static void bench_print_stats(const char *name, double *v, size_t n, bool comma)
{
	double sum = 0, mn = v[0], mx = v[0];

	for (size_t i = 0; i < n; i++) {
		sum += v[i];
		mn = v[i] < mn ? v[i] : mn;
		mx = v[i] > mx ? v[i] : mx;
	}
	printf("  \"%s\": {\"median\": %.4f, \"p99\": %.4f, \"min\": %.4f, \"max\": %.4f, "
	       "\"mean\": %.4f}%s\n",
	       name, bench_pct(v, n, 50), bench_pct(v, n, 99), mn, mx, sum / (double)n,
	       comma ? "," : "");
}

int main(int argc, char **argv)
{
	const char *ppath = NULL, *epath = NULL, *xpath = NULL;
	int iter = 200, replace = 5, opt;
	bool full_only = false;
	struct diag_list *d = diag_list_new();
	struct policy *p = NULL;
	struct endpoint_set *eps = endpoint_set_new(), *extra = endpoint_set_new();
	struct ir_ruleset *rs = NULL;
	struct nft_batch_error err;
	static struct bench_delta_build b;
	double *add_ms, *del_ms, *rep_ms, first_ms, t0;
	size_t nelems_total = 0, full_msgs = 0, full_bytes;

	while ((opt = getopt(argc, argv, "p:e:x:i:r:FV")) != -1) {
		if (opt == 'p')
			ppath = optarg;
		else if (opt == 'e')
			epath = optarg;
		else if (opt == 'x')
			xpath = optarg;
		else if (opt == 'i')
			iter = atoi(optarg);
		else if (opt == 'r')
			replace = atoi(optarg);
		else if (opt == 'F')
			full_only = true;
		else if (opt == 'V')
			bench_skip_vmap = true;
		else
			return 2;
	}
	if (!ppath || !epath || (!xpath && !full_only) || iter < 1 || iter > BENCH_MAX_ITER ||
	    replace < 1 || replace > BENCH_MAX_ITER) {
		fprintf(stderr, "usage: bench_apply_delta -p POLICY -e ENDPOINTS -x EXTRA "
				"[-i ITER] [-r REPLACE] [-F] [-V]\n");
		return 2;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "bench_apply_delta: unshare: %s (needs root)\n", strerror(errno));
		return 77;
	}
	if (policy_load(ppath, d, &p) < 0)
		bench_die_diag(d, ppath);
	if (endpoint_set_load(eps, epath, d) < 0)
		bench_die_diag(d, epath);
	if (xpath && endpoint_set_load(extra, xpath, d) < 0)
		bench_die_diag(d, xpath);

	struct compile_input in = {.policy = p, .endpoints = eps};
	if (compile_ruleset(&in, &rs) < 0)
		return 1;
	for (size_t i = 0; i < rs->n; i++)
		for (size_t s = 0; s < rs->tables[i]->nsets; s++)
			nelems_total += rs->tables[i]->sets[s]->n;
	full_bytes = bench_full_bytes(rs, &full_msgs);

	add_ms = calloc((size_t)iter, sizeof(double));
	del_ms = calloc((size_t)iter, sizeof(double));
	rep_ms = calloc((size_t)replace, sizeof(double));
	if (!add_ms || !del_ms || !rep_ms)
		return 1;

	t0 = bench_now_ms();
	if (nft_batch_apply(rs, &err) < 0) {
		fprintf(stderr, "bench_apply_delta: apply: %s\n", err.message);
		return 1;
	}
	first_ms = bench_now_ms() - t0;
	for (int i = 0; i < replace; i++) {
		t0 = bench_now_ms();
		if (nft_batch_apply(rs, &err) < 0) {
			fprintf(stderr, "bench_apply_delta: apply: %s\n", err.message);
			return 1;
		}
		rep_ms[i] = bench_now_ms() - t0;
	}

	printf("{\n  \"endpoints\": %zu,\n  \"rules\": %zu,\n  \"elements\": %zu,\n", eps->n,
	       p->nrules, nelems_total);
	printf(
	    "  \"full_apply\": {\"first_ms\": %.3f, \"netlink_bytes\": %zu, \"messages\": %zu,\n",
	    first_ms, full_bytes, full_msgs);
	bench_print_stats("replace_ms", rep_ms, (size_t)replace, false);
	if (full_only) {
		printf("  }\n}\n");
		return 0;
	}
	printf("  },\n");

	if (extra->n != 1) {
		fprintf(stderr, "bench_apply_delta: %s must hold exactly one endpoint\n", xpath);
		return 1;
	}
	int r = compile_endpoint_elems(p, rs, &extra->items[0], bench_collect, &b);
	if (r < 0) {
		fprintf(stderr, "bench_apply_delta: endpoint elements: %s\n", strerror(-r));
		return 1;
	}
	for (size_t i = 0; i < b.nd; i++)
		b.d[i].del = false;
	for (int i = 0; i < iter; i++) {
		t0 = bench_now_ms();
		if (nft_batch_elements(b.d, b.nd, &err) < 0) {
			fprintf(stderr, "bench_apply_delta: add: %s\n", err.message);
			return 1;
		}
		add_ms[i] = bench_now_ms() - t0;
		for (size_t k = 0; k < b.nd; k++)
			b.d[k].del = true;
		t0 = bench_now_ms();
		if (nft_batch_elements(b.d, b.nd, &err) < 0) {
			fprintf(stderr, "bench_apply_delta: delete: %s\n", err.message);
			return 1;
		}
		del_ms[i] = bench_now_ms() - t0;
		for (size_t k = 0; k < b.nd; k++)
			b.d[k].del = false;
	}
	printf("  \"delta\": {\"iterations\": %d, \"elements\": %zu, \"sets\": %zu, "
	       "\"add_bytes\": %zu, \"delete_bytes\": %zu,\n",
	       iter, b.nelems, b.nd, bench_delta_bytes(&b, false), bench_delta_bytes(&b, true));
	bench_print_stats("add_ms", add_ms, (size_t)iter, true);
	bench_print_stats("delete_ms", del_ms, (size_t)iter, false);
	printf("  }\n}\n");

	free(add_ms);
	free(del_ms);
	free(rep_ms);
	ir_ruleset_free(rs);
	policy_free(p);
	endpoint_set_free(eps);
	endpoint_set_free(extra);
	diag_list_free(d);
	return 0;
}
