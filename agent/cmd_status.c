/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `netseg status [--json] [--control SOCK]`: asks the running agent over its control socket. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "control.h"

#define TABLE_MAX_COLS 8

static const char status_usage[] = "usage: netseg status [--json] [--control SOCK]\n";

/* --- a plain text table: columns as wide as their widest cell ------------------------------ */
struct table {
	size_t ncols, nrows;
	char **cells; /* nrows * ncols */
};

static void table_row(struct table *t, const char *const *cols)
{
	char **c = realloc(t->cells, (t->nrows + 1) * t->ncols * sizeof(*c));

	if (!c)
		return;
	t->cells = c;
	for (size_t i = 0; i < t->ncols; i++)
		c[t->nrows * t->ncols + i] = strdup(cols[i] ? cols[i] : "-");
	t->nrows++;
}

static void table_print(struct table *t)
{
	size_t w[TABLE_MAX_COLS] = {0};

	for (size_t r = 0; r < t->nrows; r++)
		for (size_t i = 0; i < t->ncols; i++) {
			size_t l =
			    t->cells[r * t->ncols + i] ? strlen(t->cells[r * t->ncols + i]) : 0;
			if (l > w[i])
				w[i] = l;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t i = 0; i < t->ncols; i++) {
			const char *s = t->cells[r * t->ncols + i];

			if (i + 1 == t->ncols)
				printf("  %s", s ? s : "");
			else
				printf("  %-*s", (int)w[i], s ? s : "");
		}
		putchar('\n');
		for (size_t i = 0; i < t->ncols; i++)
			free(t->cells[r * t->ncols + i]);
	}
	free(t->cells);
	t->cells = NULL;
	t->nrows = 0;
}

static const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static long long num(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* "a, b, c" of a string array, or "k=v,k=v" of an object. */
static char *joined(const json_t *v)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	const char *k;
	json_t *x;
	size_t i;

	if (!f)
		return NULL;
	if (json_is_array(v))
		json_array_foreach (v, i, x)
			fprintf(f, "%s%s", i ? "," : "", json_string_value(x));
	else {
		i = 0;
		json_object_foreach ((json_t *)v, k, x)
			fprintf(f, "%s%s=%s", i++ ? "," : "", k, json_string_value(x));
	}
	fclose(f);
	return out;
}

static void counters_table(const char *title, const json_t *arr, const char *key)
{
	struct table t = {.ncols = 7};
	size_t i;
	json_t *o;

	printf("\n%s\n", title);
	table_row(&t, (const char *[]){!strcmp(key, "name") ? "NAME" : "CATEGORY", "ACTION",
				       "PACKETS", "BYTES", "LOG", "LOGGED", "SUPPRESSED"});
	json_array_foreach (arr, i, o) {
		char p[24], b[24], l[24], s[24];
		bool logs = json_is_true(json_object_get(o, "log"));

		snprintf(p, sizeof(p), "%lld", num(o, "packets"));
		snprintf(b, sizeof(b), "%lld", num(o, "bytes"));
		snprintf(l, sizeof(l), "%lld", num(o, "logged"));
		snprintf(s, sizeof(s), "%lld", num(o, "suppressed"));
		table_row(&t,
			  (const char *[]){str(o, key), str(o, "action"), p, b, logs ? "yes" : "no",
					   logs ? l : "-", logs ? s : "-"});
	}
	table_print(&t);
}

/* Endpoints a source reported that are not enforced (conflicts, host interfaces). */
static void print_refused(const json_t *refused)
{
	const json_t *o;
	size_t i;

	if (json_array_size(refused) == 0)
		return;
	printf("\nREFUSED (%zu)\n", json_array_size(refused));
	json_array_foreach (refused, i, o)
		printf("  %s (%s, interface %s): %s\n", str(o, "name"), str(o, "owner"),
		       str(o, "interface") ? str(o, "interface") : "-", str(o, "reason"));
}

/* What DNS taught the fqdn rules (the agent's "fqdn" object). */
static void print_fqdn(const json_t *fq)
{
	const json_t *learned = json_object_get(fq, "learned"), *o;
	struct table t = {.ncols = 4};
	size_t i;

	if (!fq)
		return;
	printf("\nFQDN       queue %s: %lld replies held, %lld addresses learned, %lld unparsed, "
	       "%lld over limits, %lld queue overflows\n",
	       json_is_true(json_object_get(fq, "queue")) ? "on" : "off", num(fq, "replies_held"),
	       num(fq, "learned_addresses"), num(fq, "parse_failures"), num(fq, "over_limits"),
	       num(fq, "queue_overflows"));
	if (json_array_size(learned) == 0)
		return;
	table_row(&t, (const char *[]){"RULE", "NAME", "ADDRESS", "EXPIRES IN"});
	json_array_foreach (learned, i, o) {
		char exp[32];

		snprintf(exp, sizeof(exp), "%lld s", num(o, "expires_in"));
		table_row(&t,
			  (const char *[]){str(o, "rule"), str(o, "name"), str(o, "address"), exp});
	}
	table_print(&t);
}

static void print_tables(const json_t *st)
{
	const json_t *ag = json_object_get(st, "agent"), *pol = json_object_get(st, "policy");
	const json_t *rec = json_object_get(st, "reconcile"), *last = json_object_get(rec, "last");
	const json_t *dec = json_object_get(st, "decisions"), *err = json_object_get(st, "errors");
	const json_t *eps = json_object_get(st, "endpoints"), *o;
	struct table t = {.ncols = 6};
	size_t i;

	printf("agent      pid %lld, netseg %s, up %.0f s (since %s)\n", num(ag, "pid"),
	       str(ag, "version"), json_real_value(json_object_get(ag, "uptime_s")),
	       str(ag, "started"));
	printf("policy     %s: %lld rules, %lld groups\n", str(pol, "path"), num(pol, "rules"),
	       num(pol, "groups"));
	if (json_is_object(last))
		printf("reconcile  last %s at %s, %.1f ms\n", str(last, "kind"), str(last, "at"),
		       json_real_value(json_object_get(last, "duration_ms")));
	printf("           %lld full, %lld incremental, %lld failed; %lld resyncs, %lld tamper "
	       "repairs, %lld policy reload failures\n",
	       num(rec, "full"), num(rec, "incremental"), num(rec, "failures"), num(rec, "resyncs"),
	       num(rec, "tamper_repairs"), num(rec, "policy_reload_failures"));
	printf("decisions  %s: %lld logged, %lld lost\n",
	       json_is_true(json_object_get(dec, "enabled")) ? "on" : "off", num(dec, "logged"),
	       num(dec, "lost"));
	if (str(st, "counters_error"))
		printf("counters   cannot read from the kernel: %s\n", str(st, "counters_error"));

	printf("\nENDPOINTS (%zu)\n", json_array_size(eps));
	table_row(&t, (const char *[]){"NAME", "ID", "INTERFACE", "BRIDGE", "ADDRESSES", "LABELS"});
	json_array_foreach (eps, i, o) {
		char *a = joined(json_object_get(o, "addresses"));
		char *l = joined(json_object_get(o, "labels"));
		char id[13], ifn[80];

		snprintf(id, sizeof(id), "%s", str(o, "id") ? str(o, "id") : "-");
		/* A remote endpoint has no interface here: say which node it is on. */
		snprintf(ifn, sizeof(ifn), "%s%s", str(o, "node") ? "node:" : "",
			 str(o, "node") ? str(o, "node") : str(o, "interface"));
		table_row(&t, (const char *[]){str(o, "name"), id, ifn, str(o, "bridge"), a, l});
		free(a);
		free(l);
	}
	table_print(&t);
	print_refused(json_object_get(st, "refused"));

	printf("\nGROUPS\n");
	t.ncols = 3;
	table_row(&t, (const char *[]){"NAME", "SIZE", "MEMBERS"});
	json_array_foreach (json_object_get(st, "groups"), i, o) {
		char *m = joined(json_object_get(o, "members"));
		char n[24];

		snprintf(n, sizeof(n), "%zu", json_array_size(json_object_get(o, "members")));
		table_row(&t, (const char *[]){str(o, "name"), n, m && *m ? m : "-"});
		free(m);
	}
	table_print(&t);

	counters_table("RULES", json_object_get(st, "rules"), "name");
	counters_table("DEFAULTS", json_object_get(st, "defaults"), "category");
	print_fqdn(json_object_get(st, "fqdn"));

	printf("\nERRORS (%lld)\n", num(err, "count"));
	json_array_foreach (json_object_get(err, "recent"), i, o)
		printf("  %s  %s\n", str(o, "at"), str(o, "message"));
}

int cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"control", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *path = CONTROL_DEFAULT_SOCKET;
	bool as_json = false;
	json_error_t jerr;
	char *reply = NULL;
	json_t *st;
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (c == 'j')
			as_json = true;
		else if (c == 'c')
			path = optarg;
		else if (c == 'h') {
			fputs(status_usage, stdout);
			return CLI_HELP;
		} else {
			cli_error("status",
				  c == ':' ? "option '%s' needs a value"
					   : "unknown option '%s'; see 'netseg --help'",
				  argv[optind - 1]);
			return CLI_USAGE;
		}
	}
	if (optind < argc) {
		cli_error("status", "unexpected argument '%s'", argv[optind]);
		return CLI_USAGE;
	}
	r = control_ask(path, "status\n", &reply);
	if (r == -ENOENT || r == -ECONNREFUSED) {
		cli_error("status", "the agent is not running (nothing answers at %s)", path);
		return CLI_FAIL;
	}
	if (r == -EACCES || r == -EPERM) {
		cli_error("status", "permission denied on %s: run as root", path);
		return CLI_FAIL;
	}
	if (r < 0) {
		cli_error("status", "cannot ask the agent at %s: %s", path, strerror(-r));
		return CLI_FAIL;
	}
	st = json_loads(reply, 0, &jerr);
	if (!st) {
		/* The agent closes without a word when it refuses a peer it cannot even tell. */
		cli_error("status", "%s from the agent at %s",
			  *reply ? "unreadable answer" : "no answer", path);
		free(reply);
		return CLI_FAIL;
	}
	if (str(st, "error")) {
		cli_error("status", "the agent at %s refused: %s", path, str(st, "error"));
		json_decref(st);
		free(reply);
		return CLI_FAIL;
	}
	if (as_json)
		fputs(reply, stdout);
	else
		print_tables(st);
	json_decref(st);
	free(reply);
	return CLI_OK;
}
