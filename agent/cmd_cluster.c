/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `netseg cluster push|status|add-node`: one-shot commands against etcd's JSON gateway. They
 * may block (libcurl easy calls); the agent never uses this file.
 */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cluster.h"
#include "cluster_ep.h"
#include "etcd_json.h"
#include "http.h"

struct copts {
	const char *policy_path, *cluster, *cidr, *node;
	bool json;
};

static const char cluster_usage[] =
    "usage: netseg cluster push -p PATH --cluster URL[,URL...]\n"
    "       netseg cluster status --cluster URL[,URL...] [--json]\n"
    "       netseg cluster add-node NAME --cidr CIDR[,CIDR...] --cluster URL[,URL...]\n";

/* POSTs BODY to PATH on the first of the cluster's URLs that answers. */
int cluster_call(const char *urls, const char *path, json_t *body, json_t **ret, char *err,
		 size_t errlen)
{
	char *list = strdup(urls), *save = NULL, *text = json_dumps(body, JSON_COMPACT);
	int r = -EINVAL;

	snprintf(err, errlen, "no cluster URL");
	for (char *u = list && text ? strtok_r(list, ",", &save) : NULL; u;
	     u = strtok_r(NULL, ",", &save)) {
		char url[1024], *answer = NULL;
		long status = 0;

		snprintf(url, sizeof(url), "%s%s", u, path);
		r = http_post_blocking(url, text, ETCD_MAX_ANSWER, 10000, &status, &answer, err,
				       errlen);
		if (r < 0)
			continue;
		json_t *j = json_loads(answer, 0, NULL);
		if (status != 200 || !json_is_object(j)) {
			const char *m = json_string_value(json_object_get(j, "message"));

			snprintf(err, errlen, "%s: HTTP %ld%s%s", url, status, m ? ": " : "",
				 m ? m : "");
			json_decref(j);
			free(answer);
			r = -EPROTO;
			continue;
		}
		free(answer);
		*ret = j;
		r = 0;
		break;
	}
	free(list);
	free(text);
	json_decref(body);
	return r;
}

static int is_policy_name(const char *n)
{
	size_t l = strlen(n);

	return n[0] != '.' &&
	       ((l > 5 && !strcmp(n + l - 5, ".yaml")) || (l > 4 && !strcmp(n + l - 4, ".yml")) ||
		(l > 5 && !strcmp(n + l - 5, ".json")));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int read_text(const char *path, char **ret, size_t *ret_len)
{
	FILE *f = fopen(path, "re");
	char *buf = malloc(CLUSTER_MAX_POLICY + 1);
	size_t n;

	if (!f || !buf) {
		int r = f ? -ENOMEM : -errno;

		if (f)
			fclose(f);
		free(buf);
		return r;
	}
	n = fread(buf, 1, CLUSTER_MAX_POLICY + 1, f);
	fclose(f);
	if (n > CLUSTER_MAX_POLICY) {
		free(buf);
		return -EFBIG;
	}
	buf[n] = '\0';
	*ret = buf;
	*ret_len = n;
	return 0;
}

/* The files of policy PATH, as parse_path() reads them: a file, or a directory's entries. */
static int collect_files(const char *path, struct cluster_policy_file **ret, size_t *ret_n)
{
	struct cluster_policy_file *files = NULL;
	char **names = NULL;
	size_t n = 0, total = 0;
	struct stat st;
	int r = 0;

	if (stat(path, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *de;

		if (!d)
			return -errno;
		while (r == 0 && (de = readdir(d)))
			if (is_policy_name(de->d_name)) {
				char **nn = realloc(names, (n + 1) * sizeof(*names));

				if (nn)
					names = nn;
				if (!nn || asprintf(&names[n], "%s/%s", path, de->d_name) < 0)
					r = -ENOMEM;
				else
					n++;
			}
		closedir(d);
		if (n)
			qsort(names, n, sizeof(*names), cmp_str);
	} else if (!(names = malloc(sizeof(*names))) || !(names[0] = strdup(path))) {
		r = -ENOMEM;
	} else {
		n = 1;
	}
	if (r == 0 && !(files = calloc(n + 1, sizeof(*files))))
		r = -ENOMEM;
	for (size_t i = 0, k = 0; r == 0 && i < n; i++) {
		const char *base = strrchr(names[i], '/') ? strrchr(names[i], '/') + 1 : names[i];

		if (stat(names[i], &st) < 0 || !S_ISREG(st.st_mode))
			continue; /* skipped by parse_path too, with its warning */
		if (!(files[k].name = strdup(base)))
			r = -ENOMEM;
		else if ((r = read_text(names[i], &files[k].text, &files[k].len)) == 0 &&
			 (total += files[k].len) > CLUSTER_MAX_POLICY)
			r = -EFBIG;
		k++;
		*ret_n = k;
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (r == 0 && !*ret_n)
		*ret_n = 0;
	*ret = files;
	return r;
}

static void files_free(struct cluster_policy_file *f, size_t n)
{
	for (size_t i = 0; f && i < n; i++) {
		free(f[i].name);
		free(f[i].text);
	}
	free(f);
}

static json_t *txn_put(const char *key, const char *value)
{
	return json_pack("{s:[{s:o}]}", "success", "request_put",
			 etcd_req_put(key, value, strlen(value), 0));
}

static int push(const struct copts *o)
{
	struct diag_list *d = diag_list_new();
	struct cluster_policy_file *files = NULL;
	struct policy *p = NULL;
	size_t n = 0;
	char err[512], *doc = NULL;
	json_t *ans = NULL;
	int r;

	if (!d)
		return CLI_FAIL;
	r = policy_load(o->policy_path, d, &p);
	diag_print(d, stderr);
	if (r < 0) {
		cli_error("cluster push", "%s: not valid; nothing pushed", o->policy_path);
		goto out;
	}
	policy_free(p);
	p = NULL;
	if ((r = collect_files(o->policy_path, &files, &n)) < 0 ||
	    !(doc = cluster_policy_encode(files, n))) {
		cli_error("cluster push", "%s: %s; nothing pushed", o->policy_path,
			  strerror(r < 0 ? -r : ENOMEM));
		r = r < 0 ? r : -ENOMEM;
		goto out;
	}
	/* What is stored is checked as the agents will read it: the files may have changed. */
	if ((r = cluster_policy_decode(doc, strlen(doc), d, &p)) < 0) {
		diag_print(d, stderr);
		cli_error("cluster push", "%s changed while reading it; nothing pushed",
			  o->policy_path);
		goto out;
	}
	if ((r = cluster_call(o->cluster, "/v3/kv/txn", txn_put(CLUSTER_KEY_POLICY, doc), &ans, err,
			      sizeof(err))) < 0) {
		cli_error("cluster push", "%s; nothing pushed", err);
		goto out;
	}
	struct etcd_header h = {0};
	char *text = json_dumps(ans, JSON_COMPACT);
	bool ok = false;
	r = text ? etcd_decode_txn(text, strlen(text), &ok, &h, err, sizeof(err)) : -ENOMEM;
	free(text);
	if (r == 0)
		printf("%s: pushed: %zu rules, %zu files, revision %" PRId64 "\n", o->policy_path,
		       p->nrules, n, h.revision);
	else
		cli_error("cluster push", "unexpected answer: %s", err);
out:
	json_decref(ans);
	free(doc);
	files_free(files, n);
	policy_free(p);
	diag_list_free(d);
	return r == 0 ? CLI_OK : CLI_FAIL;
}

static int add_node(const struct copts *o)
{
	struct cluster_cidrs c = {0};
	char err[512], *val = NULL;
	json_t *ans = NULL;
	int r;

	if (!cluster_node_name_valid(o->node)) {
		cli_error("cluster add-node",
			  "'%s' is not a node name ([A-Za-z0-9._-], at most %d)", o->node,
			  CLUSTER_NODE_MAX);
		return CLI_USAGE;
	}
	if (cluster_cidrs_parse(o->cidr, &c, err, sizeof(err)) < 0) {
		cli_error("cluster add-node", "--cidr: %s", err);
		return CLI_USAGE;
	}
	char key[128];
	snprintf(key, sizeof(key), "%s%s", CLUSTER_KEY_NODES, o->node);
	val = cluster_node_encode(&c);
	r = val ? cluster_call(o->cluster, "/v3/kv/txn", txn_put(key, val), &ans, err, sizeof(err))
		: -ENOMEM;
	if (r < 0)
		cli_error("cluster add-node", "%s", val ? err : "out of memory");
	else
		printf("node %s: %s\n", o->node, val);
	json_decref(ans);
	free(val);
	cluster_cidrs_clear(&c);
	return r == 0 ? CLI_OK : CLI_FAIL;
}

static int parse(int argc, char **argv, bool want_node, struct copts *ret)
{
	static const struct option longopts[] = {
	    {"policy", required_argument, NULL, 'p'}, {"cluster", required_argument, NULL, 'C'},
	    {"cidr", required_argument, NULL, 'c'},   {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},	      {0},
	};
	struct copts o = {0};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:h", longopts, NULL)) != -1) {
		if (c == 'p')
			o.policy_path = optarg;
		else if (c == 'C')
			o.cluster = optarg;
		else if (c == 'c')
			o.cidr = optarg;
		else if (c == 'j')
			o.json = true;
		else {
			if (c == 'h')
				fputs(cluster_usage, stdout);
			else
				cli_error("cluster", "%s '%s'; see 'netseg cluster --help'",
					  c == ':' ? "option needs a value:" : "unknown option",
					  argv[optind - 1]);
			return CLI_USAGE;
		}
	}
	if (want_node && optind < argc)
		o.node = argv[optind++];
	if (optind < argc) {
		cli_error("cluster", "unexpected argument '%s'", argv[optind]);
		return CLI_USAGE;
	}
	if (!o.cluster) {
		cli_error("cluster", "--cluster URL is required");
		return CLI_USAGE;
	}
	*ret = o;
	return CLI_OK;
}

int cmd_cluster(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;
	struct copts o;
	int r;

	if (!sub || !strcmp(sub, "-h") || !strcmp(sub, "--help")) {
		fputs(cluster_usage, sub ? stdout : stderr);
		return sub ? CLI_OK : CLI_USAGE;
	}
	if ((r = parse(argc - 1, argv + 1, !strcmp(sub, "add-node"), &o)) != CLI_OK)
		return r;
	if (!strcmp(sub, "push")) {
		if (!o.policy_path || o.cidr || o.json) {
			cli_error("cluster push", "needs -p PATH (and no --cidr/--json)");
			return CLI_USAGE;
		}
		return push(&o);
	}
	if (!strcmp(sub, "add-node")) {
		if (!o.node || !o.cidr || o.policy_path) {
			cli_error("cluster add-node", "needs NAME and --cidr CIDR[,CIDR...]");
			return CLI_USAGE;
		}
		return add_node(&o);
	}
	if (!strcmp(sub, "status")) {
		if (o.policy_path || o.cidr) {
			cli_error("cluster status", "takes only --cluster and --json");
			return CLI_USAGE;
		}
		return cluster_status_cmd(o.cluster, o.json);
	}
	cli_error("cluster", "unknown subcommand '%s'; see 'netseg cluster --help'", sub);
	return CLI_USAGE;
}
