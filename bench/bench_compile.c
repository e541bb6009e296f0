/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Compiler benchmark: a generated policy with R rules and E endpoints (deterministic PRNG),
 * loaded through the real parser and validator, then compile_ruleset() + emit_nft() to
 * /dev/null, timed. Each size runs in its own process (fork) so that its peak RSS
 * (getrusage ru_maxrss) is its own. Prints a table and writes JSON.
 *
 *   bench_compile [-o results.json] [-r RUNS] [R E]...
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "compile.h"
#include "emit_nft.h"
#include "endpoints.h"
#include "parse.h"
#include "policy.h"

#define BENCH_MAX_RUNS 15

struct bench_buf {
	char *s;
	size_t len;
	FILE *f;
};

static uint64_t bench_rng = 0x9e3779b97f4a7c15ull;

static uint32_t bench_rand(void)
{
	/* xorshift64*: deterministic across runs and machines */
	bench_rng ^= bench_rng >> 12;
	bench_rng ^= bench_rng << 25;
	bench_rng ^= bench_rng >> 27;
	return (uint32_t)((bench_rng * 2685821657736338717ull) >> 32);
}

static size_t bench_apps(size_t e)
{
	return e / 100 > 10 ? e / 100 : 10; /* about 100 containers per app */
}

static void bench_gen_endpoints(FILE *f, size_t e)
{
	size_t apps = bench_apps(e);

	fputs("endpoints:\n", f);
	for (size_t i = 0; i < e; i++) {
		fprintf(f,
			"  - name: ep-%zu\n    interface: v%zu\n    bridge: br%zu\n"
			"    image: registry.local/team%zu/app:%zu\n"
			"    addresses: [10.%zu.%zu.%zu",
			i, i, i % 8, i % 7, i % 3, 64 + i / 65536 % 64, i / 256 % 256, i % 256);
		if (i % 2 == 0)
			fprintf(f, ", \"fd00::%zx:%zx\"", i >> 16, i & 0xffff);
		fprintf(f, "]\n    labels: { app: app%zu, tier: t%zu, env: e%zu }\n", i % apps,
			i % 5, i % 3);
	}
}

static void bench_gen_port(FILE *f)
{
	static const char *const protos[] = {"tcp", "tcp", "tcp", "udp", "sctp"};
	unsigned p = 1 + bench_rand() % 60000;

	if (bench_rand() % 4 == 0)
		fprintf(f, "\"%s/%u-%u\"", protos[bench_rand() % 5], p, p + bench_rand() % 100);
	else
		fprintf(f, "%s/%u", protos[bench_rand() % 5], p);
}

static void bench_gen_cidr4(FILE *f, unsigned *a, unsigned *plen)
{
	*plen = 8 + bench_rand() % 17;
	*a = bench_rand() & ~(0xffffffffu >> *plen);
	fprintf(f, "%u.%u.%u.%u/%u", *a >> 24, *a >> 16 & 255, *a >> 8 & 255, *a & 255, *plen);
}

static void bench_gen_selector(FILE *f, size_t ngroups, size_t nnets, size_t apps, bool from)
{
	unsigned k = bench_rand() % 20;

	if (k < 11) {
		fprintf(f, "g%u", bench_rand() % (unsigned)ngroups);
	} else if (k < 13) {
		fputs(from ? "containers" : "world", f);
	} else if (k < 14) {
		fputs(from ? "world" : "host", f);
	} else if (k < 16) {
		fprintf(f, "{ labels: { app: app%u, tier: t%u } }", bench_rand() % (unsigned)apps,
			bench_rand() % 5);
	} else if (k < 18) {
		fprintf(f, "{ net: n%u }", bench_rand() % (unsigned)nnets);
	} else {
		unsigned a, plen;

		fputs("{ cidr: [", f);
		bench_gen_cidr4(f, &a, &plen);
		/* an except inside the cidr: the first address of its second half */
		a |= 1u << (31 - plen);
		fprintf(f, ", \"2001:db8:%x::/48\"], except: [%u.%u.%u.%u/32] }",
			bench_rand() & 0xfff, a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255);
	}
}

static void bench_gen_policy(FILE *f, size_t r, size_t e)
{
	size_t apps = bench_apps(e), ngroups = r / 4 + 1, nnets = 20;

	fputs("version: 1\ndefaults:\n  container_to_container: deny\n  log: deny\ngroups:\n", f);
	for (size_t g = 0; g < ngroups; g++) {
		if (g % 5 == 4)
			fprintf(f, "  g%zu: { labels: { app: app%zu, env: e%zu } }\n", g, g % apps,
				g % 3);
		else if (g % 11 == 10)
			fprintf(f, "  g%zu: { image: \"registry.local/team%zu/*\" }\n", g, g % 7);
		else
			fprintf(f, "  g%zu: { labels: { app: app%zu } }\n", g, g % apps);
	}
	fputs("nets:\n", f);
	for (size_t n = 0; n < nnets; n++) {
		unsigned a, plen;

		fprintf(f, "  n%zu: [", n);
		bench_gen_cidr4(f, &a, &plen);
		fprintf(f, ", \"2001:db8:%zx::/48\"]\n", n);
	}
	fputs("rules:\n", f);
	for (size_t i = 0; i < r; i++) {
		unsigned np = bench_rand() % 6;

		fprintf(f, "  - name: rule-%zu\n    from: ", i);
		bench_gen_selector(f, ngroups, nnets, apps, true);
		fputs("\n    to: ", f);
		bench_gen_selector(f, ngroups, nnets, apps, false);
		fputs("\n", f);
		if (np == 5) {
			fputs("    ports: [icmp, icmpv6]\n", f);
		} else if (np > 0) {
			fputs("    ports: [", f);
			for (unsigned j = 0; j < np; j++) {
				if (j)
					fputs(", ", f);
				bench_gen_port(f);
			}
			fputs("]\n", f);
		}
		if (bench_rand() % 10 == 0)
			fputs("    action: deny\n", f);
		if (bench_rand() % 20 == 0)
			fputs("    log: true\n", f);
	}
}

static struct node *bench_parse(const char *text, const char *name)
{
	struct diag_list *d = diag_list_new();
	struct node *root = NULL;

	if (parse_buffer(text, strlen(text), name, PARSE_YAML, d, &root) < 0) {
		diag_print(d, stderr);
		exit(1);
	}
	diag_list_free(d);
	return root;
}

static double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int bench_dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct bench_result {
	double median_ms, min_ms;
	double compile_ms, emit_ms; /* medians of the two halves */
	long maxrss_kib;	    /* whole process: generator, parser, model, IR, emit */
	long baseline_kib;	    /* before compiling: generator, parser, model */
	size_t nsets, nelems, nrules_ir;
};

/* One size, in the calling (child) process. */
static void bench_one(size_t r, size_t e, int runs, struct bench_result *res)
{
	struct bench_buf pb = {0}, eb = {0};
	struct diag_list *d = diag_list_new();
	struct policy *p = NULL;
	struct endpoint_set *eps = endpoint_set_new();
	struct node *proot, *eroot;
	double t[BENCH_MAX_RUNS], tc[BENCH_MAX_RUNS], te[BENCH_MAX_RUNS];
	FILE *devnull = fopen("/dev/null", "w");
	struct rusage ru;

	pb.f = open_memstream(&pb.s, &pb.len);
	eb.f = open_memstream(&eb.s, &eb.len);
	bench_gen_policy(pb.f, r, e);
	bench_gen_endpoints(eb.f, e);
	fclose(pb.f);
	fclose(eb.f);
	proot = bench_parse(pb.s, "bench-policy.yaml");
	eroot = bench_parse(eb.s, "bench-endpoints.yaml");
	free(pb.s);
	free(eb.s);
	if (policy_from_nodes(&proot, 1, d, &p) < 0 || endpoint_set_from_node(eps, eroot, d) < 0) {
		diag_print(d, stderr);
		exit(1);
	}
	node_free(proot);
	node_free(eroot);
	diag_list_free(d);
	getrusage(RUSAGE_SELF, &ru);
	res->baseline_kib = ru.ru_maxrss;

	struct compile_input in = {.policy = p, .endpoints = eps};
	for (int i = 0; i < runs; i++) {
		struct ir_ruleset *rs = NULL;
		double t0 = bench_now(), t1;

		if (compile_ruleset(&in, &rs) < 0) {
			fprintf(stderr, "compile failed\n");
			exit(1);
		}
		t1 = bench_now();
		if (emit_nft(rs, devnull) < 0) {
			fprintf(stderr, "emit failed\n");
			exit(1);
		}
		t[i] = (bench_now() - t0) * 1000.0;
		tc[i] = (t1 - t0) * 1000.0;
		te[i] = t[i] - tc[i];
		if (i == 0) {
			res->nsets = res->nelems = res->nrules_ir = 0;
			for (size_t k = 0; k < rs->n; k++) {
				const struct ir_table *tb = rs->tables[k];

				res->nsets += tb->nsets;
				for (size_t s = 0; s < tb->nsets; s++)
					res->nelems += tb->sets[s]->n;
				for (size_t c = 0; c < tb->nchains; c++)
					res->nrules_ir += tb->chains[c]->n;
			}
		}
		ir_ruleset_free(rs);
	}
	qsort(t, (size_t)runs, sizeof(t[0]), bench_dcmp);
	qsort(tc, (size_t)runs, sizeof(tc[0]), bench_dcmp);
	qsort(te, (size_t)runs, sizeof(te[0]), bench_dcmp);
	res->compile_ms = tc[runs / 2];
	res->emit_ms = te[runs / 2];
	res->median_ms = t[runs / 2];
	res->min_ms = t[0];
	getrusage(RUSAGE_SELF, &ru);
	res->maxrss_kib = ru.ru_maxrss;
	fclose(devnull);
	policy_free(p);
	endpoint_set_free(eps);
}

static int bench_write_inputs(const char *dir, size_t r, size_t e)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/policy.yaml", dir);
	if (!(f = fopen(path, "w")))
		return 1;
	bench_gen_policy(f, r, e);
	fclose(f);
	snprintf(path, sizeof(path), "%s/endpoints.yaml", dir);
	if (!(f = fopen(path, "w")))
		return 1;
	bench_gen_endpoints(f, e);
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	static const size_t defaults[][2] = {{10, 100},	  {10, 1000},	{10, 10000},
					     {100, 100},  {100, 1000},	{100, 10000},
					     {1000, 100}, {1000, 1000}, {1000, 10000}};
	size_t sizes[64][2], nsizes = 0;
	const char *out_path = NULL, *write_dir = NULL;
	int runs = 5, opt;
	FILE *json = NULL;

	while ((opt = getopt(argc, argv, "o:r:w:")) != -1) {
		if (opt == 'o')
			out_path = optarg;
		else if (opt == 'w')
			write_dir = optarg;
		else if (opt == 'r')
			runs = atoi(optarg);
		else
			return 2;
	}
	if (runs < 1 || runs > BENCH_MAX_RUNS)
		runs = 5;
	for (int i = optind; i + 1 < argc && nsizes < 64; i += 2) {
		sizes[nsizes][0] = strtoul(argv[i], NULL, 10);
		sizes[nsizes++][1] = strtoul(argv[i + 1], NULL, 10);
	}
	if (nsizes == 0) {
		memcpy(sizes, defaults, sizeof(defaults));
		nsizes = sizeof(defaults) / sizeof(defaults[0]);
	}
	/* -w DIR: write the first size's generated inputs, for benchmarks of the whole CLI. */
	if (write_dir)
		return bench_write_inputs(write_dir, sizes[0][0], sizes[0][1]);
	if (out_path && !(json = fopen(out_path, "w"))) {
		fprintf(stderr, "bench_compile: %s: %s\n", out_path, strerror(errno));
		return 1;
	}
	printf("%6s %6s | %9s %7s %7s %7s | %8s %8s | %5s %7s %6s\n", "rules", "endps", "median ms",
	       "min", "compile", "emit", "peak MiB", "base MiB", "sets", "elems", "lines");
	if (json)
		fprintf(json, "{\n  \"runs\": %d,\n  \"results\": [", runs);
	for (size_t i = 0; i < nsizes; i++) {
		struct bench_result res = {0};
		int fds[2], status;
		pid_t pid;

		if (pipe(fds) < 0)
			return 1;
		fflush(stdout);
		pid = fork();
		if (pid < 0)
			return 1;
		if (pid == 0) {
			close(fds[0]);
			bench_one(sizes[i][0], sizes[i][1], runs, &res);
			if (write(fds[1], &res, sizeof(res)) != sizeof(res))
				_exit(1);
			_exit(0);
		}
		close(fds[1]);
		if (read(fds[0], &res, sizeof(res)) != sizeof(res)) {
			fprintf(stderr, "bench_compile: size %zux%zu failed\n", sizes[i][0],
				sizes[i][1]);
			return 1;
		}
		close(fds[0]);
		waitpid(pid, &status, 0);
		printf("%6zu %6zu | %9.2f %7.2f %7.2f %7.2f | %8.1f %8.1f | %5zu %7zu %6zu\n",
		       sizes[i][0], sizes[i][1], res.median_ms, res.min_ms, res.compile_ms,
		       res.emit_ms, res.maxrss_kib / 1024.0, res.baseline_kib / 1024.0, res.nsets,
		       res.nelems, res.nrules_ir);
		if (json)
			fprintf(json,
				"%s\n    {\"rules\": %zu, \"endpoints\": %zu, \"median_ms\": %.3f, "
				"\"min_ms\": %.3f, \"compile_ms\": %.3f, \"emit_ms\": %.3f, "
				"\"peak_rss_kib\": %ld, \"baseline_rss_kib\": %ld, "
				"\"sets\": %zu, \"elements\": %zu, \"lines\": %zu}",
				i ? "," : "", sizes[i][0], sizes[i][1], res.median_ms, res.min_ms,
				res.compile_ms, res.emit_ms, res.maxrss_kib, res.baseline_kib,
				res.nsets, res.nelems, res.nrules_ir);
	}
	if (json) {
		fputs("\n  ]\n}\n", json);
		fclose(json);
	}
	return 0;
}
