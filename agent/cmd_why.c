/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `netseg why FROM TO PROTO/PORT [-p PATH] [-e FILE | --agent] [--json] [--batch FILE]`: the
 * verdict for one new connection, the rule or default deciding it with its location, every
 * other rule that matched and why it lost. From files (the host's addresses from this
 * namespace's kernel), or asked of the running agent (its inventory and enforced policy).
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "control.h"
#include "hostaddr.h"
#include "why_report.h"

static const char why_usage[] =
    "usage: netseg why FROM TO PROTO/PORT [-p PATH] [-e FILE] [--json]\n"
    "       netseg why FROM TO PROTO/PORT --agent [--control SOCK] [--json]\n"
    "       netseg why --batch FILE ...   (one FROM TO PROTO/PORT a line)\n"
    "  FROM, TO: an endpoint name, an address, 'world' or 'host'\n"
    "  PROTO/PORT: tcp/80, udp/53, sctp/9, icmp, icmpv6\n";

#define WHY_LINE_MAX 1024

struct why_cli {
	struct why_ctx c;
	bool json;
	const char *control; /* --agent: the agent's control socket */
};

/* Asks the running agent: its inventory, its enforced policy, its host's addresses. */
static int why_ask_agent(const struct why_cli *w, const char *from, const char *to,
			 const char *proto, json_t **ret)
{
	char req[WHY_LINE_MAX + 8], *reply = NULL;
	json_error_t jerr;
	json_t *o;
	int r;

	if ((size_t)snprintf(req, sizeof(req), "why %s %s %s\n", from, to, proto) >= sizeof(req)) {
		cli_error("why", "query too long");
		return CLI_USAGE;
	}
	r = control_ask(w->control, req, &reply);
	if (r < 0) {
		cli_error("why", "cannot ask the agent at %s: %s", w->control, strerror(-r));
		return CLI_FAIL;
	}
	o = json_loads(reply, 0, &jerr);
	free(reply);
	if (!json_is_object(o)) {
		cli_error("why", "the agent at %s gave no answer it could parse", w->control);
		json_decref(o);
		return CLI_FAIL;
	}
	if (json_is_string(json_object_get(o, "error"))) {
		json_int_t code = json_integer_value(json_object_get(o, "exit"));

		cli_error("why", "%s", json_string_value(json_object_get(o, "error")));
		json_decref(o);
		return code == CLI_USAGE ? CLI_USAGE : CLI_FAIL;
	}
	*ret = o;
	return CLI_OK;
}

static int why_one(const struct why_cli *w, const char *from, const char *to, const char *proto)
{
	char err[512];
	json_t *o = NULL;
	int r;

	if (w->control)
		r = why_ask_agent(w, from, to, proto, &o);
	else {
		r = why_answer(&w->c, from, to, proto, &o, err, sizeof(err));
		if (r != CLI_OK)
			cli_error("why", "%s", err);
	}
	if (r != CLI_OK)
		return r;
	if (w->json) {
		if (json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER) < 0)
			r = CLI_FAIL;
		fputc('\n', stdout);
	} else
		why_print_text(o, stdout);
	json_decref(o);
	return r;
}

static int why_batch(const struct why_cli *c, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "re") : stdin;
	char line[WHY_LINE_MAX];
	int worst = CLI_OK, lineno = 0;

	if (!f) {
		cli_error("why", "cannot open '%s': %s", path, strerror(errno));
		return CLI_FAIL;
	}
	while (fgets(line, sizeof(line), f)) {
		char *w[4] = {0}, *save = NULL;
		int n = 0, r;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			int c;

			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			cli_error("why", "%s:%d: line longer than %d bytes", path, lineno,
				  WHY_LINE_MAX - 2);
			worst = CLI_USAGE;
			continue;
		}
		for (char *t = strtok_r(line, " \t\r\n", &save); t && n < 4;
		     t = strtok_r(NULL, " \t\r\n", &save))
			w[n++] = t;
		if (n == 0 || w[0][0] == '#')
			continue;
		if (n != 3) {
			cli_error("why", "%s:%d: want FROM TO PROTO/PORT", path, lineno);
			r = CLI_USAGE;
		} else
			r = why_one(c, w[0], w[1], w[2]);
		if (r > worst)
			worst = r;
	}
	if (f != stdin)
		fclose(f);
	fflush(stdout);
	return worst;
}

static int why_load(const char *path, const char *eps_path, struct policy **ret_p,
		    struct endpoint_set **ret_eps)
{
	struct diag_list *diags = diag_list_new();
	struct endpoint_set *eps = endpoint_set_new();
	struct policy *p = NULL;
	int r = -ENOMEM, q = 0;

	if (!diags || !eps)
		goto out;
	r = policy_load(path, diags, &p);
	if (r != -ENOMEM && eps_path)
		q = endpoint_set_load(eps, eps_path, diags);
	if (r == 0)
		r = q;
	diag_print(diags, stderr);
	if (r == 0) {
		*ret_p = p;
		*ret_eps = eps;
		p = NULL;
		eps = NULL;
	}
out:
	if (r == -ENOMEM)
		cli_error("why", "out of memory");
	policy_free(p);
	endpoint_set_free(eps);
	diag_list_free(diags);
	return r;
}

static int why_parse(int argc, char **argv, struct cli_opts *o, struct why_cli *w,
		     const char **batch)
{
	static const struct option longopts[] = {
	    {"policy", required_argument, NULL, 'p'}, {"endpoints", required_argument, NULL, 'e'},
	    {"json", no_argument, NULL, 'j'},	      {"batch", required_argument, NULL, 'B'},
	    {"agent", no_argument, NULL, 'A'},	      {"control", required_argument, NULL, 'C'},
	    {"help", no_argument, NULL, 'h'},	      {0},
	};
	bool agent = false;
	int ch;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":p:e:h", longopts, NULL)) != -1) {
		if (ch == 'p')
			o->policy_path = optarg;
		else if (ch == 'e')
			o->endpoints_path = optarg;
		else if (ch == 'j')
			w->json = true;
		else if (ch == 'B')
			*batch = optarg;
		else if (ch == 'A')
			agent = true;
		else if (ch == 'C')
			w->control = optarg;
		else if (ch == 'h') {
			fputs(why_usage, stdout);
			return -1;
		} else {
			cli_error("why", "%s '%s'",
				  ch == ':' ? "option needs a value:" : "unknown option",
				  argv[optind - 1]);
			goto usage;
		}
	}
	if (argc - optind != (*batch ? 0 : 3)) {
		cli_error("why", *batch ? "--batch takes its queries from the file"
					: "want FROM TO PROTO/PORT");
		goto usage;
	}
	if (agent && (o->policy_path || o->endpoints_path)) {
		cli_error("why", "--agent uses the agent's policy and endpoints: drop -p and -e");
		goto usage;
	}
	if (w->control && !agent) {
		cli_error("why", "--control goes with --agent");
		goto usage;
	}
	if (agent && !w->control)
		w->control = CONTROL_DEFAULT_SOCKET;
	return CLI_OK;
usage:
	fputs(why_usage, stderr);
	return CLI_USAGE;
}

int cmd_why(int argc, char **argv)
{
	struct cli_opts o = {0};
	struct why_cli w = {0};
	struct policy *p = NULL;
	struct endpoint_set *eps = NULL;
	struct endpoint_addr *host = NULL;
	const char *batch = NULL;
	int r;

	r = why_parse(argc, argv, &o, &w, &batch);
	if (r != CLI_OK)
		return r < 0 ? CLI_OK : r;
	if (!w.control) {
		if (why_load(cli_policy_path(&o), o.endpoints_path, &p, &eps) < 0)
			return CLI_FAIL;
		r = hostaddr_list(&host, &w.c.nhost);
		if (r < 0) {
			cli_error("why", "cannot read this host's addresses: %s", strerror(-r));
			r = CLI_FAIL;
			goto out;
		}
		w.c = (struct why_ctx){.p = p, .eps = eps, .host = host, .nhost = w.c.nhost};
	}
	r = batch ? why_batch(&w, batch)
		  : why_one(&w, argv[optind], argv[optind + 1], argv[optind + 2]);
out:
	free(host);
	policy_free(p);
	endpoint_set_free(eps);
	return r;
}
