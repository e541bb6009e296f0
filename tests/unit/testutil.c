/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endpoints.h"
#include "parse.h"
#include "policy.h"

const char *tu_src_path(const char *rel)
{
	static char bufs[8][4096];
	static unsigned slot;
	const char *root = getenv("NETSEG_SRCDIR");
	char *b = bufs[slot++ % 8];

	snprintf(b, sizeof(bufs[0]), "%s/%s", root ? root : ".", rel);
	return b;
}

char *tu_read_file(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long len;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)len + 1);
		if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
			free(buf);
			buf = NULL;
		} else if (buf) {
			buf[len] = '\0';
			if (ret_len)
				*ret_len = (size_t)len;
		}
	}
	fclose(f);
	return buf;
}

void tu_write_file(const char *dir, const char *name, const char *text)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

int tu_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

char *tu_render(const struct diag_list *d)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	diag_print(d, f);
	fclose(f);
	return text;
}

static int tu_parse(const char *file, const char *text, struct diag_list *d, struct node **ret)
{
	enum parse_format fmt;

	ck_assert_int_eq(parse_format_from_name(file, &fmt), 0);
	return parse_buffer(text, strlen(text), file, fmt, d, ret);
}

char *tu_check_policy_docs(const struct tu_doc *docs, size_t n, int *ret_r, struct policy **ret_p)
{
	struct diag_list *d = diag_list_new();
	struct node **roots = calloc(n, sizeof(*roots));
	struct policy *p = NULL;
	char *out;
	int r = 0;

	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_nonnull(roots);
	/* Every document, even after an error, as `netseg check` does. */
	for (size_t i = 0; i < n; i++)
		if (tu_parse(docs[i].file, docs[i].text, d, &roots[i]) < 0)
			r = -EINVAL;
	if (r == 0)
		r = policy_from_nodes(roots, n, d, &p);
	out = tu_render(d);
	for (size_t i = 0; i < n; i++)
		node_free(roots[i]);
	free(roots);
	diag_list_free(d);
	*ret_r = r;
	if (ret_p)
		*ret_p = p;
	else
		policy_free(p);
	return out;
}

char *tu_check_policy(const char *file, const char *text, int *ret_r, struct policy **ret_p)
{
	struct tu_doc doc = {file, text};

	return tu_check_policy_docs(&doc, 1, ret_r, ret_p);
}

char *tu_load_endpoints(struct endpoint_set *s, const char *file, const char *text, int *ret_r)
{
	struct diag_list *d = diag_list_new();
	struct node *root = NULL;
	char *out;
	int r;

	ck_assert_ptr_nonnull(d);
	r = tu_parse(file, text, d, &root);
	if (r == 0)
		r = endpoint_set_from_node(s, root, d);
	out = tu_render(d);
	node_free(root);
	diag_list_free(d);
	*ret_r = r;
	return out;
}

void tu_assert_bad(const char *name, const char *file, int r, char *out, const char *want)
{
	ck_assert_msg(r == -EINVAL, "%s (%s): r=%d", name, file, r);
	ck_assert_msg(strcmp(out, want) == 0, "%s (%s):\nwant: %sgot:  %s", name, file, want, out);
	free(out);
}

const char tu_spec_policy_yaml[] = "version: 1\n"
				   "defaults:\n"
				   "  container_to_container: allow\n"
				   "  container_to_world: allow\n"
				   "  container_to_host: allow\n"
				   "  world_to_container: allow\n"
				   "  log: deny\n"
				   "groups:\n"
				   "  web:\n"
				   "    labels: { app: web }\n"
				   "  db:\n"
				   "    compose_service: db\n"
				   "  admin:\n"
				   "    name: \"admin-*\"\n"
				   "  ci:\n"
				   "    image: \"registry.local/ci/*\"\n"
				   "  front:\n"
				   "    network: frontnet\n"
				   "nets:\n"
				   "  corp: [10.0.0.0/8, \"fd00::/8\"]\n"
				   "  metadata: [169.254.169.254/32, \"fd00:ec2::254/128\"]\n"
				   "rules:\n"
				   "  - name: web-to-db\n"
				   "    from: web\n"
				   "    to: db\n"
				   "    ports: [tcp/5432]\n"
				   "  - name: web-https-out\n"
				   "    from: web\n"
				   "    to: world\n"
				   "    ports: [tcp/443, udp/53, \"tcp/8000-8100\"]\n"
				   "  - name: no-metadata\n"
				   "    from: containers\n"
				   "    to: { net: metadata }\n"
				   "    action: deny\n"
				   "    log: true\n"
				   "  - name: scrape\n"
				   "    from: { cidr: [10.1.0.0/24], except: [10.1.0.7/32] }\n"
				   "    to: { labels: { metrics: \"on\" } }\n"
				   "    ports: [tcp/9100]\n";

const char tu_spec_policy_json[] =
    "{\n"
    "  \"version\": 1,\n"
    "  \"defaults\": {\"container_to_container\": \"allow\", \"container_to_world\": \"allow\",\n"
    "               \"container_to_host\": \"allow\", \"world_to_container\": \"allow\",\n"
    "               \"log\": \"deny\"},\n"
    "  \"groups\": {\n"
    "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
    "    \"db\": {\"compose_service\": \"db\"},\n"
    "    \"admin\": {\"name\": \"admin-*\"},\n"
    "    \"ci\": {\"image\": \"registry.local/ci/*\"},\n"
    "    \"front\": {\"network\": \"frontnet\"}\n"
    "  },\n"
    "  \"nets\": {\n"
    "    \"corp\": [\"10.0.0.0/8\", \"fd00::/8\"],\n"
    "    \"metadata\": [\"169.254.169.254/32\", \"fd00:ec2::254/128\"]\n"
    "  },\n"
    "  \"rules\": [\n"
    "    {\"name\": \"web-to-db\", \"from\": \"web\", \"to\": \"db\", \"ports\": [\"tcp/5432\"]},\n"
    "    {\"name\": \"web-https-out\", \"from\": \"web\", \"to\": \"world\",\n"
    "     \"ports\": [\"tcp/443\", \"udp/53\", \"tcp/8000-8100\"]},\n"
    "    {\"name\": \"no-metadata\", \"from\": \"containers\", \"to\": {\"net\": \"metadata\"},\n"
    "     \"action\": \"deny\", \"log\": true},\n"
    "    {\"name\": \"scrape\", \"from\": {\"cidr\": [\"10.1.0.0/24\"], \"except\": "
    "[\"10.1.0.7/32\"]},\n"
    "     \"to\": {\"labels\": {\"metrics\": \"on\"}}, \"ports\": [\"tcp/9100\"]}\n"
    "  ]\n"
    "}\n";
