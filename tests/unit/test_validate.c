/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * policy_from_nodes(): every kind of bad input, in YAML and in JSON, must give exactly one
 * located error (the full rendered text is compared), and good documents must give the model
 * they mean, the same in either format.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "parse.h"
#include "policy.h"
#include "testutil.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A valid document: no diagnostics at all, and its model. */
static struct policy *good(const char *file, const char *text)
{
	struct policy *p;
	char *out;
	int r;

	out = tu_check_policy(file, text, &r, &p);
	ck_assert_msg(r == 0, "%s: %s", file, out);
	ck_assert_str_eq(out, "");
	free(out);
	ck_assert_ptr_nonnull(p);
	return p;
}

/* ---- bad input: one error each, YAML and JSON ------------------------------------------- */

struct bad_case {
	const char *name;
	const char *yaml, *yaml_err;
	const char *json, *json_err;
};

static const struct bad_case bad_cases[] = {
    {"yaml-malformed",
     "version: 1\n"
     "rules: [\n",
     "t.yaml:3:1: error: YAML: did not find expected node content\n"
     "  hint: while parsing a flow node at 3:1\n",
     "{\"version\": 1,\n", "t.json:1:15: error: JSON: string or '}' expected near end of file\n"},
    {"root-list", "- version: 1\n", "t.yaml:1:1: error: a policy must be a mapping, got a list\n",
     "[{\"version\": 1}]\n", "t.json:1:1: error: a policy must be a mapping, got a list\n"},
    {"missing-version", "groups: {}\n",
     "t.yaml:1:1: error: missing 'version'\n"
     "  hint: add 'version: 1'\n",
     "{\n"
     "  \"groups\": {}\n"
     "}\n",
     "t.json:1:1: error: missing 'version'\n"
     "  hint: add 'version: 1'\n"},
    {"version-2", "version: 2\n",
     "t.yaml:1:10: error: unsupported version 2\n"
     "  hint: this netseg reads version 1\n",
     "{\n"
     "  \"version\": 2\n"
     "}\n",
     "t.json:2:14: error: unsupported version 2\n"
     "  hint: this netseg reads version 1\n"},
    {"version-string", "version: \"1\"\n",
     "t.yaml:1:10: error: 'version' must be an integer, got a string\n"
     "  hint: write 'version: 1'\n",
     "{\n"
     "  \"version\": \"1\"\n"
     "}\n",
     "t.json:2:14: error: 'version' must be an integer, got a string\n"
     "  hint: write 'version: 1'\n"},
    {"version-float", "version: 1.5\n",
     "t.yaml:1:10: error: 'version' must be an integer, got a number\n"
     "  hint: write 'version: 1'\n",
     "{\n"
     "  \"version\": 1.5\n"
     "}\n",
     "t.json:2:14: error: 'version' must be an integer, got a number\n"
     "  hint: write 'version: 1'\n"},
    {"unknown-root-key",
     "version: 1\n"
     "rule: []\n",
     "t.yaml:2:1: error: unknown key 'rule' in the policy\n"
     "  hint: did you mean 'rules'?\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"rule\": []\n"
     "}\n",
     "t.json:3:3: error: unknown key 'rule' in the policy\n"
     "  hint: did you mean 'rules'?\n"},
    {"groups-list",
     "version: 1\n"
     "groups: [web]\n",
     "t.yaml:2:9: error: 'groups' must be a mapping, got a list\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": [\"web\"]\n"
     "}\n",
     "t.json:3:13: error: 'groups' must be a mapping, got a list\n"},
    {"groups-null",
     "version: 1\n"
     "groups:\n",
     "t.yaml:2:8: error: 'groups' must be a mapping, got null\n"
     "  hint: write '{}' for none\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": null\n"
     "}",
     "t.json:3:13: error: 'groups' must be a mapping, got null\n"
     "  hint: write '{}' for none\n"},
    {"group-string",
     "version: 1\n"
     "groups:\n"
     "  web: app=web\n",
     "t.yaml:3:8: error: 'web' must be a mapping, got a string\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": \"app=web\"\n"
     "  }\n"
     "}\n",
     "t.json:4:12: error: 'web' must be a mapping, got a string\n"},
    {"group-empty",
     "version: 1\n"
     "groups:\n"
     "  web: {}\n",
     "t.yaml:3:8: error: group 'web' has no match keys\n"
     "  hint: use labels, name, image, compose_service or network\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {}\n"
     "  }\n"
     "}\n",
     "t.json:4:12: error: group 'web' has no match keys\n"
     "  hint: use labels, name, image, compose_service or network\n"},
    {"group-unknown-key",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    lables: {app: web}\n",
     "t.yaml:4:5: error: unknown key 'lables' in a group\n"
     "  hint: did you mean 'labels'?\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"lables\": {\"app\": \"web\"}}\n"
     "  }\n"
     "}\n",
     "t.json:4:13: error: unknown key 'lables' in a group\n"
     "  hint: did you mean 'labels'?\n"},
    {"group-reserved",
     "version: 1\n"
     "groups:\n"
     "  any:\n"
     "    labels: {app: web}\n",
     "t.yaml:3:3: error: group name 'any' is a reserved word\n"
     "  hint: containers, world, host and any are built in; pick another name\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"any\": {\"labels\": {\"app\": \"web\"}}\n"
     "  }\n"
     "}\n",
     "t.json:4:5: error: group name 'any' is a reserved word\n"
     "  hint: containers, world, host and any are built in; pick another name\n"},
    {"group-bad-name",
     "version: 1\n"
     "groups:\n"
     "  Web:\n"
     "    labels: {app: web}\n",
     "t.yaml:3:3: error: invalid group name 'Web'\n"
     "  hint: names are 1 to 63 characters of a-z, 0-9, '_' and '-'\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"Web\": {\"labels\": {\"app\": \"web\"}}\n"
     "  }\n"
     "}\n",
     "t.json:4:5: error: invalid group name 'Web'\n"
     "  hint: names are 1 to 63 characters of a-z, 0-9, '_' and '-'\n"},
    {"group-long-name",
     "version: 1\n"
     "groups:\n"
     "  gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg:\n"
     "    labels: {app: web}\n",
     "t.yaml:3:3: error: invalid group name "
     "'gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg'\n"
     "  hint: names are 1 to 63 characters of a-z, 0-9, '_' and '-'\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg\": {\"labels\": "
     "{\"app\": \"web\"}}\n"
     "  }\n"
     "}\n",
     "t.json:4:5: error: invalid group name "
     "'gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg'\n"
     "  hint: names are 1 to 63 characters of a-z, 0-9, '_' and '-'\n"},
    {"label-bool",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {metrics: true}\n",
     "t.yaml:4:23: error: label value must be a string, got a boolean\n"
     "  hint: quote it: \"true\"\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"metrics\": true}}\n"
     "  }\n"
     "}\n",
     "t.json:4:35: error: label value must be a string, got a boolean\n"
     "  hint: quote it: \"true\"\n"},
    {"label-int",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {port: 8080}\n",
     "t.yaml:4:20: error: label value must be a string, got an integer\n"
     "  hint: quote it: \"8080\"\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"port\": 8080}}\n"
     "  }\n"
     "}\n",
     "t.json:4:32: error: label value must be a string, got an integer\n"
     "  hint: quote it: \"8080\"\n"},
    {"labels-empty",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {}\n",
     "t.yaml:4:13: error: 'labels' must not be empty\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {}}\n"
     "  }\n"
     "}\n",
     "t.json:4:23: error: 'labels' must not be empty\n"},
    {"labels-list",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: [app=web]\n",
     "t.yaml:4:13: error: 'labels' must be a mapping, got a list\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": [\"app=web\"]}\n"
     "  }\n"
     "}\n",
     "t.json:4:23: error: 'labels' must be a mapping, got a list\n"},
    {"name-empty",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    name: ''\n",
     "t.yaml:4:11: error: 'name' must not be empty\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"name\": \"\"}\n"
     "  }\n"
     "}\n",
     "t.json:4:21: error: 'name' must not be empty\n"},
    {"compose-list",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    compose_service: [db]\n",
     "t.yaml:4:22: error: 'compose_service' must be a string, got a list\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"compose_service\": [\"db\"]}\n"
     "  }\n"
     "}\n",
     "t.json:4:32: error: 'compose_service' must be a string, got a list\n"},
    {"compose-conflict",
     "version: 1\n"
     "groups:\n"
     "  db:\n"
     "    labels: {com.docker.compose.service: db}\n"
     "    compose_service: db\n",
     "t.yaml:5:5: error: 'compose_service' repeats label 'com.docker.compose.service'\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"db\": {\"labels\": {\"com.docker.compose.service\": \"db\"}, \"compose_service\": "
     "\"db\"}\n"
     "  }\n"
     "}\n",
     "t.json:4:60: error: 'compose_service' repeats label 'com.docker.compose.service'\n"},
    {"net-string",
     "version: 1\n"
     "nets:\n"
     "  corp: 10.0.0.0/8\n",
     "t.yaml:3:9: error: 'corp' must be a list, got a string\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"nets\": {\n"
     "    \"corp\": \"10.0.0.0/8\"\n"
     "  }\n"
     "}\n",
     "t.json:4:13: error: 'corp' must be a list, got a string\n"},
    {"net-empty",
     "version: 1\n"
     "nets:\n"
     "  corp: []\n",
     "t.yaml:3:9: error: 'corp' must not be empty\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"nets\": {\n"
     "    \"corp\": []\n"
     "  }\n"
     "}\n",
     "t.json:4:13: error: 'corp' must not be empty\n"},
    {"net-bad-name",
     "version: 1\n"
     "nets:\n"
     "  Corp: [10.0.0.0/8]\n",
     "t.yaml:3:3: error: invalid net name 'Corp'\n"
     "  hint: names are 1 to 63 characters of a-z, 0-9, '_' and '-'\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"nets\": {\n"
     "    \"Corp\": [\"10.0.0.0/8\"]\n"
     "  }\n"
     "}\n",
     "t.json:4:5: error: invalid net name 'Corp'\n"
     "  hint: names are 1 to 63 characters of a-z, 0-9, '_' and '-'\n"},
    {"cidr-invalid",
     "version: 1\n"
     "nets:\n"
     "  corp: [10.0.0.300/8]\n",
     "t.yaml:3:10: error: invalid CIDR '10.0.0.300/8'\n"
     "  hint: write an IPv4 or IPv6 address, optionally with /PREFIX\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"nets\": {\n"
     "    \"corp\": [\"10.0.0.300/8\"]\n"
     "  }\n"
     "}\n",
     "t.json:4:14: error: invalid CIDR '10.0.0.300/8'\n"
     "  hint: write an IPv4 or IPv6 address, optionally with /PREFIX\n"},
    {"cidr-host-bits",
     "version: 1\n"
     "nets:\n"
     "  corp: [10.1.0.5/24]\n",
     "t.yaml:3:10: error: host bits set in '10.1.0.5/24'\n"
     "  hint: did you mean 10.1.0.0/24?\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"nets\": {\n"
     "    \"corp\": [\"10.1.0.5/24\"]\n"
     "  }\n"
     "}\n",
     "t.json:4:14: error: host bits set in '10.1.0.5/24'\n"
     "  hint: did you mean 10.1.0.0/24?\n"},
    {"cidr-prefix",
     "version: 1\n"
     "nets:\n"
     "  corp: [10.0.0.0/33]\n",
     "t.yaml:3:10: error: invalid prefix length in '10.0.0.0/33'\n"
     "  hint: IPv4 prefixes are 0 to 32\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"nets\": {\n"
     "    \"corp\": [\"10.0.0.0/33\"]\n"
     "  }\n"
     "}\n",
     "t.json:4:14: error: invalid prefix length in '10.0.0.0/33'\n"
     "  hint: IPv4 prefixes are 0 to 32\n"},
    {"cidr6-host-bits",
     "version: 1\n"
     "nets:\n"
     "  corp: ['fd00::1/8']\n",
     "t.yaml:3:10: error: host bits set in 'fd00::1/8'\n"
     "  hint: did you mean fd00::/8?\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"nets\": {\n"
     "    \"corp\": [\"fd00::1/8\"]\n"
     "  }\n"
     "}\n",
     "t.json:4:14: error: host bits set in 'fd00::1/8'\n"
     "  hint: did you mean fd00::/8?\n"},
    {"cidr6-v4-mapped",
     "version: 1\n"
     "nets:\n"
     "  corp: ['::ffff:1.2.3.4/128']\n",
     "t.yaml:3:10: error: IPv4-mapped IPv6 address '::ffff:1.2.3.4/128' never matches: packets "
     "carry the IPv4 address\n"
     "  hint: did you mean 1.2.3.4/32?\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"nets\": {\n"
     "    \"corp\": [\"::ffff:1.2.3.4/128\"]\n"
     "  }\n"
     "}\n",
     "t.json:4:14: error: IPv4-mapped IPv6 address '::ffff:1.2.3.4/128' never matches: packets "
     "carry the IPv4 address\n"
     "  hint: did you mean 1.2.3.4/32?\n"},
    {"cidr6-v4-mapped-selector",
     "version: 1\n"
     "rules:\n"
     "  - name: r\n"
     "    from: {cidr: ['::ffff:10.1.2.3/104'], except: ['::ffff:10.1.0.0/112']}\n"
     "    to: world\n",
     "t.yaml:4:19: error: IPv4-mapped IPv6 address '::ffff:10.1.2.3/104' never matches: packets "
     "carry the IPv4 address\n"
     "  hint: did you mean 10.0.0.0/8?\n"
     "t.yaml:4:52: error: IPv4-mapped IPv6 address '::ffff:10.1.0.0/112' never matches: packets "
     "carry the IPv4 address\n"
     "  hint: did you mean 10.1.0.0/16?\n",
     "{\"version\": 1, \"rules\": [{\"name\": \"r\", \"to\": \"world\",\n"
     " \"from\": {\"cidr\": [\"::ffff:10.1.2.3/104\"], \"except\": [\"::ffff:10.1.0.0/112\"]}}]}\n",
     "t.json:2:20: error: IPv4-mapped IPv6 address '::ffff:10.1.2.3/104' never matches: packets "
     "carry the IPv4 address\n"
     "  hint: did you mean 10.0.0.0/8?\n"
     "t.json:2:55: error: IPv4-mapped IPv6 address '::ffff:10.1.0.0/112' never matches: packets "
     "carry the IPv4 address\n"
     "  hint: did you mean 10.1.0.0/16?\n"},
    {"cidr6-prefix",
     "version: 1\n"
     "nets:\n"
     "  corp: ['fd00::/129']\n",
     "t.yaml:3:10: error: invalid prefix length in 'fd00::/129'\n"
     "  hint: IPv6 prefixes are 0 to 128\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"nets\": {\n"
     "    \"corp\": [\"fd00::/129\"]\n"
     "  }\n"
     "}\n",
     "t.json:4:14: error: invalid prefix length in 'fd00::/129'\n"
     "  hint: IPv6 prefixes are 0 to 128\n"},
    {"cidr-int",
     "version: 1\n"
     "nets:\n"
     "  corp: [10]\n",
     "t.yaml:3:10: error: 'address' must be a string, got an integer\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"nets\": {\n"
     "    \"corp\": [10]\n"
     "  }\n"
     "}\n",
     "t.json:4:14: error: 'address' must be a string, got an integer\n"},
    {"defaults-list",
     "version: 1\n"
     "defaults: [allow]\n",
     "t.yaml:2:11: error: 'defaults' must be a mapping, got a list\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"defaults\": [\"allow\"]\n"
     "}\n",
     "t.json:3:15: error: 'defaults' must be a mapping, got a list\n"},
    {"defaults-unknown",
     "version: 1\n"
     "defaults:\n"
     "  container_to_wrold: deny\n",
     "t.yaml:3:3: error: unknown key 'container_to_wrold' in defaults\n"
     "  hint: did you mean 'container_to_world'?\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"defaults\": {\n"
     "    \"container_to_wrold\": \"deny\"\n"
     "  }\n"
     "}\n",
     "t.json:4:5: error: unknown key 'container_to_wrold' in defaults\n"
     "  hint: did you mean 'container_to_world'?\n"},
    {"defaults-value",
     "version: 1\n"
     "defaults:\n"
     "  world_to_container: permit\n",
     "t.yaml:3:23: error: 'world_to_container' must be allow or deny, got 'permit'\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"defaults\": {\n"
     "    \"world_to_container\": \"permit\"\n"
     "  }\n"
     "}\n",
     "t.json:4:27: error: 'world_to_container' must be allow or deny, got 'permit'\n"},
    {"defaults-typo",
     "version: 1\n"
     "defaults:\n"
     "  world_to_container: dney\n",
     "t.yaml:3:23: error: 'world_to_container' must be allow or deny, got 'dney'\n"
     "  hint: did you mean 'deny'?\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"defaults\": {\n"
     "    \"world_to_container\": \"dney\"\n"
     "  }\n"
     "}\n",
     "t.json:4:27: error: 'world_to_container' must be allow or deny, got 'dney'\n"
     "  hint: did you mean 'deny'?\n"},
    {"defaults-log",
     "version: 1\n"
     "defaults:\n"
     "  log: always\n",
     "t.yaml:3:8: error: 'log' must be none, deny or all, got 'always'\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"defaults\": {\n"
     "    \"log\": \"always\"\n"
     "  }\n"
     "}\n",
     "t.json:4:12: error: 'log' must be none, deny or all, got 'always'\n"},
    {"defaults-bool",
     "version: 1\n"
     "defaults:\n"
     "  container_to_host: false\n",
     "t.yaml:3:22: error: 'container_to_host' must be allow or deny, got a boolean\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"defaults\": {\n"
     "    \"container_to_host\": false\n"
     "  }\n"
     "}\n",
     "t.json:4:26: error: 'container_to_host' must be allow or deny, got a boolean\n"},
    {"rules-map",
     "version: 1\n"
     "rules:\n"
     "  r: {from: any, to: any}\n",
     "t.yaml:3:3: error: 'rules' must be a list, got a mapping\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"rules\": {\n"
     "    \"r\": {\"from\": \"any\", \"to\": \"any\"}\n"
     "  }\n"
     "}\n",
     "t.json:3:12: error: 'rules' must be a list, got a mapping\n"},
    {"rules-null",
     "version: 1\n"
     "rules:\n",
     "t.yaml:2:7: error: 'rules' must be a list, got null\n"
     "  hint: write '[]' for none\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"rules\": null\n"
     "}",
     "t.json:3:12: error: 'rules' must be a list, got null\n"
     "  hint: write '[]' for none\n"},
    {"rule-string",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - web-to-db\n",
     "t.yaml:8:5: error: a rule must be a mapping, got a string\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    \"web-to-db\"\n"
     "  ]\n"
     "}\n",
     "t.json:8:5: error: a rule must be a mapping, got a string\n"},
    {"rule-no-name",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - from: web\n"
     "    to: db\n",
     "t.yaml:8:5: error: rule is missing 'name'\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"from\": \"web\", \"to\": \"db\"}\n"
     "  ]\n"
     "}\n",
     "t.json:8:5: error: rule is missing 'name'\n"},
    {"rule-no-from",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    to: db\n",
     "t.yaml:8:5: error: rule 'r' is missing 'from'\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"to\": \"db\"}\n"
     "  ]\n"
     "}\n",
     "t.json:8:5: error: rule 'r' is missing 'from'\n"},
    {"rule-no-to",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: web\n",
     "t.yaml:8:5: error: rule 'r' is missing 'to'\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": \"web\"}\n"
     "  ]\n"
     "}\n",
     "t.json:8:5: error: rule 'r' is missing 'to'\n"},
    {"rule-name-int",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: 7\n"
     "    from: web\n"
     "    to: db\n",
     "t.yaml:8:11: error: 'name' must be a string, got an integer\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": 7, \"from\": \"web\", \"to\": \"db\"}\n"
     "  ]\n"
     "}\n",
     "t.json:8:14: error: 'name' must be a string, got an integer\n"},
    {"rule-bad-name",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: Web To DB\n"
     "    from: web\n"
     "    to: db\n",
     "t.yaml:8:11: error: invalid rule name 'Web To DB'\n"
     "  hint: names are 1 to 63 characters of a-z, 0-9, '_' and '-'\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"Web To DB\", \"from\": \"web\", \"to\": \"db\"}\n"
     "  ]\n"
     "}\n",
     "t.json:8:14: error: invalid rule name 'Web To DB'\n"
     "  hint: names are 1 to 63 characters of a-z, 0-9, '_' and '-'\n"},
    {"rule-unknown-key",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: web\n"
     "    to: db\n"
     "    prots: [tcp/80]\n",
     "t.yaml:11:5: error: unknown key 'prots' in a rule\n"
     "  hint: did you mean 'ports'?\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": \"web\", \"to\": \"db\", \"prots\": [\"tcp/80\"]}\n"
     "  ]\n"
     "}\n",
     "t.json:8:46: error: unknown key 'prots' in a rule\n"
     "  hint: did you mean 'ports'?\n"},
    {"rule-dup",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: web\n"
     "    to: db\n"
     "  - name: r\n"
     "    from: db\n"
     "    to: web\n",
     "t.yaml:11:11: error: duplicate rule name 'r' (first defined at t.yaml:8:5)\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": \"web\", \"to\": \"db\"},\n"
     "    {\"name\": \"r\", \"from\": \"db\", \"to\": \"web\"}\n"
     "  ]\n"
     "}\n",
     "t.json:9:14: error: duplicate rule name 'r' (first defined at t.json:8:5)\n"},
    {"undefined-group",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: wbe\n"
     "    to: db\n",
     "t.yaml:9:11: error: undefined group 'wbe'\n"
     "  hint: did you mean 'web'?\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": \"wbe\", \"to\": \"db\"}\n"
     "  ]\n"
     "}\n",
     "t.json:8:27: error: undefined group 'wbe'\n"
     "  hint: did you mean 'web'?\n"},
    {"undefined-group-far",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: web\n"
     "    to: frontend\n",
     "t.yaml:10:9: error: undefined group 'frontend'\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": \"web\", \"to\": \"frontend\"}\n"
     "  ]\n"
     "}\n",
     "t.json:8:40: error: undefined group 'frontend'\n"},
    {"group-is-net",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "nets:\n"
     "  corp: [10.0.0.0/8]\n"
     "rules:\n"
     "  - name: r\n"
     "    from: web\n"
     "    to: corp\n",
     "t.yaml:12:9: error: undefined group 'corp'\n"
     "  hint: 'corp' is a net: write { net: corp }\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"nets\": {\n"
     "    \"corp\": [\"10.0.0.0/8\"]\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": \"web\", \"to\": \"corp\"}\n"
     "  ]\n"
     "}\n",
     "t.json:11:40: error: undefined group 'corp'\n"
     "  hint: 'corp' is a net: write { net: corp }\n"},
    {"group-is-cidr",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: web\n"
     "    to: 10.0.0.0/8\n",
     "t.yaml:10:9: error: undefined group '10.0.0.0/8'\n"
     "  hint: for addresses write { cidr: [10.0.0.0/8] }\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": \"web\", \"to\": \"10.0.0.0/8\"}\n"
     "  ]\n"
     "}\n",
     "t.json:8:40: error: undefined group '10.0.0.0/8'\n"
     "  hint: for addresses write { cidr: [10.0.0.0/8] }\n"},
    {"group-map-undefined",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: {group: dbb}\n"
     "    to: db\n",
     "t.yaml:9:19: error: undefined group 'dbb'\n"
     "  hint: did you mean 'db'?\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": {\"group\": \"dbb\"}, \"to\": \"db\"}\n"
     "  ]\n"
     "}\n",
     "t.json:8:37: error: undefined group 'dbb'\n"
     "  hint: did you mean 'db'?\n"},
    {"undefined-net",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "nets:\n"
     "  corp: [10.0.0.0/8]\n"
     "rules:\n"
     "  - name: r\n"
     "    from: web\n"
     "    to: {net: corpp}\n",
     "t.yaml:12:15: error: undefined net 'corpp'\n"
     "  hint: did you mean 'corp'?\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"nets\": {\n"
     "    \"corp\": [\"10.0.0.0/8\"]\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": \"web\", \"to\": {\"net\": \"corpp\"}}\n"
     "  ]\n"
     "}\n",
     "t.json:11:48: error: undefined net 'corpp'\n"
     "  hint: did you mean 'corp'?\n"},
    {"fqdn-deny",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "rules:\n"
     "  - name: r\n"
     "    from: web\n"
     "    to: {fqdn: [example.com]}\n"
     "    action: deny\n",
     "t.yaml:8:10: error: fqdn cannot be used in a deny rule: a deny by name is bypassed by "
     "connecting to an address\n"
     "  hint: deny the addresses with cidr or net, or allow only the names wanted\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\"web\": {\"labels\": {\"app\": \"web\"}}},\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": \"web\", \"to\": {\"fqdn\": [\"example.com\"]}, \"action\": "
     "\"deny\"}\n"
     "  ]\n"
     "}\n",
     "t.json:5:41: error: fqdn cannot be used in a deny rule: a deny by name is bypassed by "
     "connecting to an address\n"
     "  hint: deny the addresses with cidr or net, or allow only the names wanted\n"},
    {"fqdn-from",
     "version: 1\n"
     "rules:\n"
     "  - name: r\n"
     "    from: {fqdn: [example.com]}\n"
     "    to: world\n",
     "t.yaml:4:12: error: fqdn cannot be used in 'from': a DNS name says nothing about who "
     "sends a packet\n"
     "  hint: put the names in 'to' of an allow rule\n",
     "{\"version\": 1, \"rules\": [\n"
     " {\"name\": \"r\", \"from\": {\"fqdn\": [\"example.com\"]}, \"to\": \"world\"}]}\n",
     "t.json:2:25: error: fqdn cannot be used in 'from': a DNS name says nothing about who "
     "sends a packet\n"
     "  hint: put the names in 'to' of an allow rule\n"},
    {"fqdn-names",
     "version: 1\n"
     "rules:\n"
     "  - name: r\n"
     "    from: containers\n"
     "    to: {fqdn: [ok.example.com, \"a..b\", \"x.*.com\", \"-bad.com\", \"*\"]}\n",
     "t.yaml:5:33: error: invalid DNS name 'a..b': empty label (two dots, or a dot at the "
     "start)\n"
     "  hint: write a name like 'api.example.com' or '*.example.com'\n"
     "t.yaml:5:41: error: invalid DNS name 'x.*.com': '*' is only allowed as the whole first "
     "label ('*.example.com')\n"
     "  hint: write a name like 'api.example.com' or '*.example.com'\n"
     "t.yaml:5:52: error: invalid DNS name '-bad.com': a DNS label must not start or end "
     "with '-'\n"
     "  hint: write a name like 'api.example.com' or '*.example.com'\n"
     "t.yaml:5:64: error: invalid DNS name '*': '*' is only allowed as the whole first label "
     "('*.example.com')\n"
     "  hint: write a name like 'api.example.com' or '*.example.com'\n",
     "{\"version\": 1, \"rules\": [\n"
     " {\"name\": \"r\", \"from\": \"containers\", \"to\": {\"fqdn\": [\"a..b\"]}}]}\n",
     "t.json:2:54: error: invalid DNS name 'a..b': empty label (two dots, or a dot at the "
     "start)\n"
     "  hint: write a name like 'api.example.com' or '*.example.com'\n"},
    {"dns-block",
     "version: 1\n"
     "dns:\n"
     "  resolvers: [10.0.0.2, 10.0.0.0/8, nope]\n"
     "  min_ttl: 90000\n"
     "  max_ips_per_name: 0\n",
     "t.yaml:3:25: error: invalid resolver address '10.0.0.0/8'\n"
     "  hint: write one IPv4 or IPv6 address per resolver\n"
     "t.yaml:3:37: error: invalid resolver address 'nope'\n"
     "  hint: write one IPv4 or IPv6 address per resolver\n"
     "t.yaml:4:12: error: 'min_ttl' must be 0 to 86400, got 90000\n"
     "t.yaml:5:21: error: 'max_ips_per_name' must be 1 to 4096, got 0\n",
     "{\"version\": 1,\n"
     " \"dns\": {\"min_ttl\": -1}}\n",
     "t.json:2:21: error: 'min_ttl' must be 0 to 86400, got -1\n"},
    {"selector-empty-map",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: web\n"
     "    to: {}\n",
     "t.yaml:10:9: error: empty selector\n"
     "  hint: name a group, or use containers, world, host or any\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": \"web\", \"to\": {}}\n"
     "  ]\n"
     "}\n",
     "t.json:8:40: error: empty selector\n"
     "  hint: name a group, or use containers, world, host or any\n"},
    {"selector-empty-list",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: []\n"
     "    to: db\n",
     "t.yaml:9:11: error: 'from' must not be empty\n"
     "  hint: name a group, or use containers, world, host or any\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": [], \"to\": \"db\"}\n"
     "  ]\n"
     "}\n",
     "t.json:8:27: error: 'from' must not be empty\n"
     "  hint: name a group, or use containers, world, host or any\n"},
    {"selector-int",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: 42\n"
     "    to: db\n",
     "t.yaml:9:11: error: 'from' must be a name, a mapping or a list of them, got an integer\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": 42, \"to\": \"db\"}\n"
     "  ]\n"
     "}\n",
     "t.json:8:27: error: 'from' must be a name, a mapping or a list of them, got an integer\n"},
    {"selector-nested-list",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: [[web]]\n"
     "    to: db\n",
     "t.yaml:9:12: error: 'from' must be a name or a mapping, got a list\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": [[\"web\"]], \"to\": \"db\"}\n"
     "  ]\n"
     "}\n",
     "t.json:8:28: error: 'from' must be a name or a mapping, got a list\n"},
    {"selector-mixed",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "nets:\n"
     "  corp: [10.0.0.0/8]\n"
     "rules:\n"
     "  - name: r\n"
     "    from: web\n"
     "    to: {group: db, net: corp}\n",
     "t.yaml:12:21: error: 'net' cannot be combined with 'group' in one selector\n"
     "  hint: use a list of selectors for a union\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"nets\": {\n"
     "    \"corp\": [\"10.0.0.0/8\"]\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": \"web\", \"to\": {\"group\": \"db\", \"net\": \"corp\"}}\n"
     "  ]\n"
     "}\n",
     "t.json:11:56: error: 'net' cannot be combined with 'group' in one selector\n"
     "  hint: use a list of selectors for a union\n"},
    {"selector-unknown-key",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: web\n"
     "    to: {lables: {app: db}}\n",
     "t.yaml:10:10: error: unknown key 'lables' in a selector\n"
     "  hint: did you mean 'labels'?\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": \"web\", \"to\": {\"lables\": {\"app\": \"db\"}}}\n"
     "  ]\n"
     "}\n",
     "t.json:8:41: error: unknown key 'lables' in a selector\n"
     "  hint: did you mean 'labels'?\n"},
    {"except-no-cidr",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: web\n"
     "    to: {except: [10.0.0.1/32]}\n",
     "t.yaml:10:10: error: 'except' needs 'cidr'\n"
     "  hint: add the 'cidr' it carves from\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": \"web\", \"to\": {\"except\": [\"10.0.0.1/32\"]}}\n"
     "  ]\n"
     "}\n",
     "t.json:8:41: error: 'except' needs 'cidr'\n"
     "  hint: add the 'cidr' it carves from\n"},
    {"except-outside",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: {cidr: [10.1.0.0/24], except: [10.2.0.7/32]}\n"
     "    to: db\n",
     "t.yaml:9:42: error: except '10.2.0.7/32' is not inside any cidr of its selector\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": {\"cidr\": [\"10.1.0.0/24\"], \"except\": "
     "[\"10.2.0.7/32\"]}, \"to\": \"db\"}\n"
     "  ]\n"
     "}\n",
     "t.json:8:64: error: except '10.2.0.7/32' is not inside any cidr of its selector\n"},
    {"except-family",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: {cidr: [10.1.0.0/24], except: ['fd00::1']}\n"
     "    to: db\n",
     "t.yaml:9:42: error: except 'fd00::1' is not inside any cidr of its selector\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": {\"cidr\": [\"10.1.0.0/24\"], \"except\": [\"fd00::1\"]}, "
     "\"to\": \"db\"}\n"
     "  ]\n"
     "}\n",
     "t.json:8:64: error: except 'fd00::1' is not inside any cidr of its selector\n"},
    {"cidr-empty",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: {cidr: []}\n"
     "    to: db\n",
     "t.yaml:9:18: error: 'cidr' must not be empty\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": {\"cidr\": []}, \"to\": \"db\"}\n"
     "  ]\n"
     "}\n",
     "t.json:8:36: error: 'cidr' must not be empty\n"},
    {"cidr-selector-string",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: {cidr: 10.0.0.0/8}\n"
     "    to: db\n",
     "t.yaml:9:18: error: 'cidr' must be a list, got a string\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": {\"cidr\": \"10.0.0.0/8\"}, \"to\": \"db\"}\n"
     "  ]\n"
     "}\n",
     "t.json:8:36: error: 'cidr' must be a list, got a string\n"},
    {"ports-string",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: web\n"
     "    to: db\n"
     "    ports: tcp/80\n",
     "t.yaml:11:12: error: 'ports' must be a list, got a string\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": \"web\", \"to\": \"db\", \"ports\": \"tcp/80\"}\n"
     "  ]\n"
     "}\n",
     "t.json:8:55: error: 'ports' must be a list, got a string\n"},
    {"ports-empty",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: web\n"
     "    to: db\n"
     "    ports: []\n",
     "t.yaml:11:12: error: 'ports' must not be empty\n"
     "  hint: leave 'ports' out to match every port and protocol\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": \"web\", \"to\": \"db\", \"ports\": []}\n"
     "  ]\n"
     "}\n",
     "t.json:8:55: error: 'ports' must not be empty\n"
     "  hint: leave 'ports' out to match every port and protocol\n"},
    {"port-zero",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: web\n"
     "    to: db\n"
     "    ports: [tcp/0]\n",
     "t.yaml:11:13: error: port 0 is out of range in 'tcp/0'\n"
     "  hint: ports are 1 to 65535\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": \"web\", \"to\": \"db\", \"ports\": [\"tcp/0\"]}\n"
     "  ]\n"
     "}\n",
     "t.json:8:56: error: port 0 is out of range in 'tcp/0'\n"
     "  hint: ports are 1 to 65535\n"},
    {"port-big",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: web\n"
     "    to: db\n"
     "    ports: [udp/65536]\n",
     "t.yaml:11:13: error: port 65536 is out of range in 'udp/65536'\n"
     "  hint: ports are 1 to 65535\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": \"web\", \"to\": \"db\", \"ports\": [\"udp/65536\"]}\n"
     "  ]\n"
     "}\n",
     "t.json:8:56: error: port 65536 is out of range in 'udp/65536'\n"
     "  hint: ports are 1 to 65535\n"},
    {"port-reversed",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: web\n"
     "    to: db\n"
     "    ports: [tcp/8100-8000]\n",
     "t.yaml:11:13: error: reversed port range in 'tcp/8100-8000'\n"
     "  hint: did you mean tcp/8000-8100?\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": \"web\", \"to\": \"db\", \"ports\": [\"tcp/8100-8000\"]}\n"
     "  ]\n"
     "}\n",
     "t.json:8:56: error: reversed port range in 'tcp/8100-8000'\n"
     "  hint: did you mean tcp/8000-8100?\n"},
    {"port-range-zero",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: web\n"
     "    to: db\n"
     "    ports: [tcp/0-80]\n",
     "t.yaml:11:13: error: port 0 is out of range in 'tcp/0-80'\n"
     "  hint: ports are 1 to 65535\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": \"web\", \"to\": \"db\", \"ports\": [\"tcp/0-80\"]}\n"
     "  ]\n"
     "}\n",
     "t.json:8:56: error: port 0 is out of range in 'tcp/0-80'\n"
     "  hint: ports are 1 to 65535\n"},
    {"port-proto",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: web\n"
     "    to: db\n"
     "    ports: [tpc/80]\n",
     "t.yaml:11:13: error: unknown protocol 'tpc'\n"
     "  hint: did you mean 'tcp'?\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": \"web\", \"to\": \"db\", \"ports\": [\"tpc/80\"]}\n"
     "  ]\n"
     "}\n",
     "t.json:8:56: error: unknown protocol 'tpc'\n"
     "  hint: did you mean 'tcp'?\n"},
    {"port-proto-far",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: web\n"
     "    to: db\n"
     "    ports: [gre]\n",
     "t.yaml:11:13: error: unknown protocol 'gre'\n"
     "  hint: protocols are tcp, udp, sctp, icmp and icmpv6\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": \"web\", \"to\": \"db\", \"ports\": [\"gre\"]}\n"
     "  ]\n"
     "}\n",
     "t.json:8:56: error: unknown protocol 'gre'\n"
     "  hint: protocols are tcp, udp, sctp, icmp and icmpv6\n"},
    {"port-icmp-port",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: web\n"
     "    to: db\n"
     "    ports: [icmp/80]\n",
     "t.yaml:11:13: error: icmp has no ports: 'icmp/80'\n"
     "  hint: write 'icmp' alone\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": \"web\", \"to\": \"db\", \"ports\": [\"icmp/80\"]}\n"
     "  ]\n"
     "}\n",
     "t.json:8:56: error: icmp has no ports: 'icmp/80'\n"
     "  hint: write 'icmp' alone\n"},
    {"port-icmp6-port",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: web\n"
     "    to: db\n"
     "    ports: [icmpv6/1]\n",
     "t.yaml:11:13: error: icmpv6 has no ports: 'icmpv6/1'\n"
     "  hint: write 'icmpv6' alone\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": \"web\", \"to\": \"db\", \"ports\": [\"icmpv6/1\"]}\n"
     "  ]\n"
     "}\n",
     "t.json:8:56: error: icmpv6 has no ports: 'icmpv6/1'\n"
     "  hint: write 'icmpv6' alone\n"},
    {"port-no-number",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: web\n"
     "    to: db\n"
     "    ports: [tcp]\n",
     "t.yaml:11:13: error: missing port in 'tcp'\n"
     "  hint: write tcp/PORT, or tcp/1-65535 for every port\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": \"web\", \"to\": \"db\", \"ports\": [\"tcp\"]}\n"
     "  ]\n"
     "}\n",
     "t.json:8:56: error: missing port in 'tcp'\n"
     "  hint: write tcp/PORT, or tcp/1-65535 for every port\n"},
    {"port-name",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: web\n"
     "    to: db\n"
     "    ports: [tcp/http]\n",
     "t.yaml:11:13: error: invalid port 'http' in 'tcp/http'\n"
     "  hint: ports are numbers from 1 to 65535\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": \"web\", \"to\": \"db\", \"ports\": [\"tcp/http\"]}\n"
     "  ]\n"
     "}\n",
     "t.json:8:56: error: invalid port 'http' in 'tcp/http'\n"
     "  hint: ports are numbers from 1 to 65535\n"},
    {"port-int",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: web\n"
     "    to: db\n"
     "    ports: [5432]\n",
     "t.yaml:11:13: error: a port must be a string like 'tcp/80' or a mapping, got an integer\n"
     "  hint: did you mean tcp/5432?\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": \"web\", \"to\": \"db\", \"ports\": [5432]}\n"
     "  ]\n"
     "}\n",
     "t.json:8:56: error: a port must be a string like 'tcp/80' or a mapping, got an integer\n"
     "  hint: did you mean tcp/5432?\n"},
    {"portmap-icmp",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: web\n"
     "    to: db\n"
     "    ports: [{proto: icmp, port: 80}]\n",
     "t.yaml:11:27: error: icmp has no ports\n"
     "  hint: remove it\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": \"web\", \"to\": \"db\", \"ports\": [{\"proto\": \"icmp\", "
     "\"port\": 80}]}\n"
     "  ]\n"
     "}\n",
     "t.json:8:74: error: icmp has no ports\n"
     "  hint: remove it\n"},
    {"portmap-no-proto",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: web\n"
     "    to: db\n"
     "    ports: [{port: 80}]\n",
     "t.yaml:11:13: error: port mapping is missing 'proto'\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": \"web\", \"to\": \"db\", \"ports\": [{\"port\": 80}]}\n"
     "  ]\n"
     "}\n",
     "t.json:8:56: error: port mapping is missing 'proto'\n"},
    {"portmap-no-port",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: web\n"
     "    to: db\n"
     "    ports: [{proto: tcp}]\n",
     "t.yaml:11:13: error: port mapping for tcp is missing 'port'\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": \"web\", \"to\": \"db\", \"ports\": [{\"proto\": \"tcp\"}]}\n"
     "  ]\n"
     "}\n",
     "t.json:8:56: error: port mapping for tcp is missing 'port'\n"},
    {"portmap-reversed",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: web\n"
     "    to: db\n"
     "    ports: [{proto: tcp, port: 90, end_port: 80}]\n",
     "t.yaml:11:46: error: 'end_port' 80 is below 'port' 90\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": \"web\", \"to\": \"db\", \"ports\": [{\"proto\": \"tcp\", "
     "\"port\": 90, \"end_port\": 80}]}\n"
     "  ]\n"
     "}\n",
     "t.json:8:97: error: 'end_port' 80 is below 'port' 90\n"},
    {"portmap-string-port",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: web\n"
     "    to: db\n"
     "    ports: [{proto: udp, port: '53'}]\n",
     "t.yaml:11:32: error: 'port' must be an integer, got a string\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": \"web\", \"to\": \"db\", \"ports\": [{\"proto\": \"udp\", "
     "\"port\": \"53\"}]}\n"
     "  ]\n"
     "}\n",
     "t.json:8:81: error: 'port' must be an integer, got a string\n"},
    {"portmap-range",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: web\n"
     "    to: db\n"
     "    ports: [{proto: sctp, port: 70000}]\n",
     "t.yaml:11:33: error: 'port' 70000 is out of range\n"
     "  hint: ports are 1 to 65535\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": \"web\", \"to\": \"db\", \"ports\": [{\"proto\": \"sctp\", "
     "\"port\": 70000}]}\n"
     "  ]\n"
     "}\n",
     "t.json:8:82: error: 'port' 70000 is out of range\n"
     "  hint: ports are 1 to 65535\n"},
    {"portmap-unknown-key",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: web\n"
     "    to: db\n"
     "    ports: [{proto: tcp, prot: 80}]\n",
     "t.yaml:11:26: error: unknown key 'prot' in a port\n"
     "  hint: did you mean 'port'?\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": \"web\", \"to\": \"db\", \"ports\": [{\"proto\": \"tcp\", "
     "\"prot\": 80}]}\n"
     "  ]\n"
     "}\n",
     "t.json:8:73: error: unknown key 'prot' in a port\n"
     "  hint: did you mean 'port'?\n"},
    {"action-drop",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: web\n"
     "    to: db\n"
     "    action: drop\n",
     "t.yaml:11:13: error: 'action' must be allow or deny, got 'drop'\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": \"web\", \"to\": \"db\", \"action\": \"drop\"}\n"
     "  ]\n"
     "}\n",
     "t.json:8:56: error: 'action' must be allow or deny, got 'drop'\n"},
    {"action-typo",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: web\n"
     "    to: db\n"
     "    action: alow\n",
     "t.yaml:11:13: error: 'action' must be allow or deny, got 'alow'\n"
     "  hint: did you mean 'allow'?\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": \"web\", \"to\": \"db\", \"action\": \"alow\"}\n"
     "  ]\n"
     "}\n",
     "t.json:8:56: error: 'action' must be allow or deny, got 'alow'\n"
     "  hint: did you mean 'allow'?\n"},
    {"action-bool",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: web\n"
     "    to: db\n"
     "    action: true\n",
     "t.yaml:11:13: error: 'action' must be allow or deny, got a boolean\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": \"web\", \"to\": \"db\", \"action\": true}\n"
     "  ]\n"
     "}\n",
     "t.json:8:56: error: 'action' must be allow or deny, got a boolean\n"},
    {"log-string",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: web\n"
     "    to: db\n"
     "    log: 'yes'\n",
     "t.yaml:11:10: error: 'log' must be true or false, got a string\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": \"web\", \"to\": \"db\", \"log\": \"yes\"}\n"
     "  ]\n"
     "}\n",
     "t.json:8:53: error: 'log' must be true or false, got a string\n"},
    {"log-word",
     "version: 1\n"
     "groups:\n"
     "  web:\n"
     "    labels: {app: web}\n"
     "  db:\n"
     "    compose_service: db\n"
     "rules:\n"
     "  - name: r\n"
     "    from: web\n"
     "    to: db\n"
     "    log: deny\n",
     "t.yaml:11:10: error: 'log' must be true or false, got a string\n"
     "  hint: a rule's 'log' is true or false; none, deny and all are for defaults.log\n",
     "{\n"
     "  \"version\": 1,\n"
     "  \"groups\": {\n"
     "    \"web\": {\"labels\": {\"app\": \"web\"}},\n"
     "    \"db\": {\"compose_service\": \"db\"}\n"
     "  },\n"
     "  \"rules\": [\n"
     "    {\"name\": \"r\", \"from\": \"web\", \"to\": \"db\", \"log\": \"deny\"}\n"
     "  ]\n"
     "}\n",
     "t.json:8:53: error: 'log' must be true or false, got a string\n"
     "  hint: a rule's 'log' is true or false; none, deny and all are for defaults.log\n"},
};

static void check_bad(const char *name, const char *file, const char *text, const char *want)
{
	char *out;
	int r;

	out = tu_check_policy(file, text, &r, NULL);
	tu_assert_bad(name, file, r, out, want);
}

START_TEST(test_bad_yaml)
{
	check_bad(bad_cases[_i].name, "t.yaml", bad_cases[_i].yaml, bad_cases[_i].yaml_err);
}
END_TEST

START_TEST(test_bad_json)
{
	check_bad(bad_cases[_i].name, "t.json", bad_cases[_i].json, bad_cases[_i].json_err);
}
END_TEST

/* Errors are collected, not the first one only. */
START_TEST(test_all_errors_reported)
{
	const char *yaml = "version: 2\n"
			   "groups:\n"
			   "  web: {lables: {app: web}}\n"
			   "nets:\n"
			   "  corp: [10.1.0.5/24]\n"
			   "rules:\n"
			   "  - name: r\n"
			   "    from: wbe\n"
			   "    to: world\n"
			   "    ports: [tcp/0]\n";
	char *out;
	int r;

	out = tu_check_policy("t.yaml", yaml, &r, NULL);
	ck_assert_int_eq(r, -EINVAL);
	ck_assert_str_eq(out, "t.yaml:1:10: error: unsupported version 2\n"
			      "  hint: this netseg reads version 1\n"
			      "t.yaml:3:9: error: unknown key 'lables' in a group\n"
			      "  hint: did you mean 'labels'?\n"
			      "t.yaml:5:10: error: host bits set in '10.1.0.5/24'\n"
			      "  hint: did you mean 10.1.0.0/24?\n"
			      "t.yaml:8:11: error: undefined group 'wbe'\n"
			      "  hint: did you mean 'web'?\n"
			      "t.yaml:10:13: error: port 0 is out of range in 'tcp/0'\n"
			      "  hint: ports are 1 to 65535\n");
	free(out);
}
END_TEST

/* ---- the spec's example ----------------------------------------------------------------- */

static void assert_cidr(const struct policy_cidr *c, const char *want)
{
	char buf[POLICY_CIDR_STRLEN];

	ck_assert_str_eq(policy_cidr_format(c, buf, sizeof(buf)), want);
}

static void assert_port(const struct policy_port *p, int proto, int first, int last)
{
	ck_assert_int_eq(p->proto, proto);
	ck_assert_int_eq(p->first, first);
	ck_assert_int_eq(p->last, last);
}

START_TEST(test_spec_example)
{
	struct policy *p = good("t.yaml", tu_spec_policy_yaml);
	const struct policy_rule *r;

	for (int c = 0; c < POLICY_CATEGORY_COUNT; c++)
		ck_assert_int_eq(p->defaults[c], POLICY_ALLOW);
	ck_assert_int_eq(p->log, POLICY_LOG_DENY);

	ck_assert_uint_eq(p->ngroups, 5);
	ck_assert_str_eq(p->groups[0].name, "web");
	ck_assert_uint_eq(p->groups[0].match.nlabels, 1);
	ck_assert_str_eq(p->groups[0].match.labels[0].key, "app");
	ck_assert_str_eq(p->groups[0].match.labels[0].value, "web");
	ck_assert_str_eq(p->groups[0].loc.file, "t.yaml");
	ck_assert_int_eq(p->groups[0].loc.line, 9);
	ck_assert_int_eq(p->groups[0].loc.col, 3);
	ck_assert_str_eq(p->groups[1].name, "db");
	ck_assert_uint_eq(p->groups[1].match.nlabels, 1);
	ck_assert_str_eq(p->groups[1].match.labels[0].key, "com.docker.compose.service");
	ck_assert_str_eq(p->groups[1].match.labels[0].value, "db");
	ck_assert_str_eq(p->groups[2].match.name_glob, "admin-*");
	ck_assert_ptr_null(p->groups[2].match.image_glob);
	ck_assert_str_eq(p->groups[3].match.image_glob, "registry.local/ci/*");
	ck_assert_str_eq(p->groups[4].match.network, "frontnet");
	ck_assert_uint_eq(p->groups[4].match.nlabels, 0);

	ck_assert_uint_eq(p->nnets, 2);
	ck_assert_str_eq(p->nets[0].name, "corp");
	ck_assert_uint_eq(p->nets[0].ncidrs, 2);
	ck_assert_int_eq(p->nets[0].cidrs[0].family, AF_INET);
	assert_cidr(&p->nets[0].cidrs[0], "10.0.0.0/8");
	ck_assert_int_eq(p->nets[0].cidrs[1].family, AF_INET6);
	assert_cidr(&p->nets[0].cidrs[1], "fd00::/8");
	assert_cidr(&p->nets[1].cidrs[0], "169.254.169.254/32");
	assert_cidr(&p->nets[1].cidrs[1], "fd00:ec2::254/128");

	ck_assert_uint_eq(p->nrules, 4);
	r = &p->rules[0];
	ck_assert_str_eq(r->name, "web-to-db");
	ck_assert_int_eq(r->loc.line, 23);
	ck_assert_uint_eq(r->from.n, 1);
	ck_assert_int_eq(r->from.terms[0].kind, POLICY_TERM_GROUP);
	ck_assert_uint_eq(r->from.terms[0].group, 0);
	ck_assert_int_eq(r->to.terms[0].kind, POLICY_TERM_GROUP);
	ck_assert_uint_eq(r->to.terms[0].group, 1);
	ck_assert_uint_eq(r->nports, 1);
	assert_port(&r->ports[0], IPPROTO_TCP, 5432, 5432);
	ck_assert_int_eq(r->action, POLICY_ALLOW);
	ck_assert_int_eq(r->log, -1);
	ck_assert(!policy_rule_logs(p, r));

	r = &p->rules[1];
	ck_assert_int_eq(r->to.terms[0].kind, POLICY_TERM_WORLD);
	ck_assert_uint_eq(r->nports, 3);
	assert_port(&r->ports[0], IPPROTO_TCP, 443, 443);
	assert_port(&r->ports[1], IPPROTO_UDP, 53, 53);
	assert_port(&r->ports[2], IPPROTO_TCP, 8000, 8100);

	r = &p->rules[2];
	ck_assert_int_eq(r->from.terms[0].kind, POLICY_TERM_CONTAINERS);
	ck_assert_int_eq(r->to.terms[0].kind, POLICY_TERM_NET);
	ck_assert_uint_eq(r->to.terms[0].net, 1);
	ck_assert_int_eq(r->action, POLICY_DENY);
	ck_assert_int_eq(r->log, 1);
	ck_assert_uint_eq(r->nports, 0);
	ck_assert(policy_rule_logs(p, r));

	r = &p->rules[3];
	ck_assert_int_eq(r->from.terms[0].kind, POLICY_TERM_CIDR);
	ck_assert_uint_eq(r->from.terms[0].ncidrs, 1);
	assert_cidr(&r->from.terms[0].cidrs[0], "10.1.0.0/24");
	ck_assert_uint_eq(r->from.terms[0].nexcept, 1);
	assert_cidr(&r->from.terms[0].except[0], "10.1.0.7/32");
	ck_assert_int_eq(r->to.terms[0].kind, POLICY_TERM_MATCH);
	ck_assert_uint_eq(r->to.terms[0].match.nlabels, 1);
	ck_assert_str_eq(r->to.terms[0].match.labels[0].key, "metrics");
	ck_assert_str_eq(r->to.terms[0].match.labels[0].value, "on");
	policy_free(p);
}
END_TEST

/* ---- YAML and JSON mean the same -------------------------------------------------------- */

static void assert_match_eq(const struct policy_match *a, const struct policy_match *b)
{
	ck_assert_uint_eq(a->nlabels, b->nlabels);
	for (size_t i = 0; i < a->nlabels; i++) {
		ck_assert_str_eq(a->labels[i].key, b->labels[i].key);
		ck_assert_str_eq(a->labels[i].value, b->labels[i].value);
	}
	ck_assert_pstr_eq(a->name_glob, b->name_glob);
	ck_assert_pstr_eq(a->image_glob, b->image_glob);
	ck_assert_pstr_eq(a->network, b->network);
}

static void assert_cidrs_eq(const struct policy_cidr *a, size_t na, const struct policy_cidr *b,
			    size_t nb)
{
	ck_assert_uint_eq(na, nb);
	for (size_t i = 0; i < na; i++) {
		ck_assert_int_eq(a[i].family, b[i].family);
		ck_assert_int_eq(a[i].prefix, b[i].prefix);
		ck_assert_mem_eq(a[i].addr, b[i].addr, sizeof(a[i].addr));
	}
}

static void assert_selector_eq(const struct policy_selector *a, const struct policy_selector *b)
{
	ck_assert_uint_eq(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		const struct policy_term *x = &a->terms[i], *y = &b->terms[i];

		ck_assert_int_eq(x->kind, y->kind);
		ck_assert_uint_eq(x->group, y->group);
		ck_assert_uint_eq(x->net, y->net);
		assert_match_eq(&x->match, &y->match);
		assert_cidrs_eq(x->cidrs, x->ncidrs, y->cidrs, y->ncidrs);
		assert_cidrs_eq(x->except, x->nexcept, y->except, y->nexcept);
	}
}

/* Everything but locations. */
static void assert_policy_eq(const struct policy *a, const struct policy *b)
{
	ck_assert_mem_eq(a->defaults, b->defaults, sizeof(a->defaults));
	ck_assert_int_eq(a->log, b->log);
	ck_assert_uint_eq(a->ngroups, b->ngroups);
	for (size_t i = 0; i < a->ngroups; i++) {
		ck_assert_str_eq(a->groups[i].name, b->groups[i].name);
		assert_match_eq(&a->groups[i].match, &b->groups[i].match);
	}
	ck_assert_uint_eq(a->nnets, b->nnets);
	for (size_t i = 0; i < a->nnets; i++) {
		ck_assert_str_eq(a->nets[i].name, b->nets[i].name);
		assert_cidrs_eq(a->nets[i].cidrs, a->nets[i].ncidrs, b->nets[i].cidrs,
				b->nets[i].ncidrs);
	}
	ck_assert_uint_eq(a->nrules, b->nrules);
	for (size_t i = 0; i < a->nrules; i++) {
		const struct policy_rule *x = &a->rules[i], *y = &b->rules[i];

		ck_assert_str_eq(x->name, y->name);
		assert_selector_eq(&x->from, &y->from);
		assert_selector_eq(&x->to, &y->to);
		ck_assert_uint_eq(x->nports, y->nports);
		for (size_t k = 0; k < x->nports; k++)
			assert_port(&y->ports[k], x->ports[k].proto, x->ports[k].first,
				    x->ports[k].last);
		ck_assert_int_eq(x->action, y->action);
		ck_assert_int_eq(x->log, y->log);
	}
}

static const struct {
	const char *yaml, *json;
} same_docs[] = {
    {tu_spec_policy_yaml, tu_spec_policy_json},
    {"version: 1\n", "{\"version\": 1}"},
    {"version: 1\n"
     "defaults: {container_to_world: deny, world_to_container: deny, log: all}\n"
     "groups:\n"
     "  api:\n"
     "    labels: {app: api, tier: \"2\"}\n"
     "    network: backend\n"
     "    compose_service: api\n"
     "rules:\n"
     "  - name: api-dns\n"
     "    from: [api, {name: \"job-*\", image: \"registry.local/*\"}]\n"
     "    to: [world, host]\n"
     "    ports: [udp/53, {proto: tcp, port: 53}, {proto: sctp, port: 9, end_port: 10}, icmp, "
     "icmpv6]\n"
     "    log: false\n"
     "  - name: lan-in\n"
     "    from: {cidr: [\"fd00::/8\", 192.168.0.0/16], except: [\"fd00::1\", 192.168.1.0/24]}\n"
     "    to: {group: api}\n"
     "    action: deny\n",
     "{\"version\": 1,\n"
     " \"defaults\": {\"container_to_world\": \"deny\", \"world_to_container\": \"deny\", \"log\": "
     "\"all\"},\n"
     " \"groups\": {\"api\": {\"labels\": {\"app\": \"api\", \"tier\": \"2\"}, \"network\": "
     "\"backend\",\n"
     "                     \"compose_service\": \"api\"}},\n"
     " \"rules\": [\n"
     "  {\"name\": \"api-dns\", \"from\": [\"api\", {\"name\": \"job-*\", \"image\": "
     "\"registry.local/*\"}],\n"
     "   \"to\": [\"world\", \"host\"], \"log\": false,\n"
     "   \"ports\": [\"udp/53\", {\"proto\": \"tcp\", \"port\": 53},\n"
     "             {\"proto\": \"sctp\", \"port\": 9, \"end_port\": 10}, \"icmp\", \"icmpv6\"]},\n"
     "  {\"name\": \"lan-in\", \"to\": {\"group\": \"api\"}, \"action\": \"deny\",\n"
     "   \"from\": {\"cidr\": [\"fd00::/8\", \"192.168.0.0/16\"], \"except\": [\"fd00::1\", "
     "\"192.168.1.0/24\"]}}]}\n"},
};

START_TEST(test_yaml_json_same)
{
	struct policy *a = good("t.yaml", same_docs[_i].yaml);
	struct policy *b = good("t.json", same_docs[_i].json);

	assert_policy_eq(a, b);
	policy_free(a);
	policy_free(b);
}
END_TEST

START_TEST(test_details)
{
	struct policy *p = good("t.yaml", same_docs[2].yaml);
	const struct policy_rule *r = &p->rules[0];

	ck_assert_int_eq(p->defaults[POLICY_C2C], POLICY_ALLOW);
	ck_assert_int_eq(p->defaults[POLICY_C2W], POLICY_DENY);
	ck_assert_int_eq(p->defaults[POLICY_C2H], POLICY_ALLOW);
	ck_assert_int_eq(p->defaults[POLICY_W2C], POLICY_DENY);
	ck_assert_int_eq(p->log, POLICY_LOG_ALL);
	ck_assert(policy_default_logs(p, POLICY_C2C));
	/* compose_service folds into the labels, after the explicit ones */
	ck_assert_uint_eq(p->groups[0].match.nlabels, 3);
	ck_assert_str_eq(p->groups[0].match.labels[2].key, "com.docker.compose.service");
	ck_assert_str_eq(p->groups[0].match.labels[2].value, "api");
	ck_assert_uint_eq(r->from.n, 2);
	ck_assert_int_eq(r->from.terms[1].kind, POLICY_TERM_MATCH);
	ck_assert_str_eq(r->from.terms[1].match.name_glob, "job-*");
	ck_assert_int_eq(r->to.terms[0].kind, POLICY_TERM_WORLD);
	ck_assert_int_eq(r->to.terms[1].kind, POLICY_TERM_HOST);
	ck_assert_uint_eq(r->nports, 5);
	assert_port(&r->ports[0], IPPROTO_UDP, 53, 53);
	assert_port(&r->ports[1], IPPROTO_TCP, 53, 53);
	assert_port(&r->ports[2], IPPROTO_SCTP, 9, 10);
	assert_port(&r->ports[3], IPPROTO_ICMP, 0, 0);
	assert_port(&r->ports[4], IPPROTO_ICMPV6, 0, 0);
	ck_assert_int_eq(r->log, 0);
	ck_assert(!policy_rule_logs(p, r)); /* log: false beats defaults.log: all */
	r = &p->rules[1];
	assert_cidr(&r->from.terms[0].cidrs[0], "fd00::/8");
	assert_cidr(&r->from.terms[0].except[0], "fd00::1/128"); /* bare address */
	assert_cidr(&r->from.terms[0].except[1], "192.168.1.0/24");
	ck_assert_int_eq(r->to.terms[0].kind, POLICY_TERM_GROUP);
	policy_free(p);
}
END_TEST

START_TEST(test_empty_policy_defaults)
{
	struct policy *p = good("t.yaml", "version: 1\ngroups: {}\nnets: {}\nrules: []\n");

	for (int c = 0; c < POLICY_CATEGORY_COUNT; c++) {
		ck_assert_int_eq(p->defaults[c], POLICY_ALLOW);
		ck_assert(!policy_default_logs(p, (enum policy_category)c));
	}
	ck_assert_int_eq(p->log, POLICY_LOG_DENY);
	ck_assert_uint_eq(p->ngroups + p->nnets + p->nrules, 0);
	ck_assert_str_eq(policy_category_name(POLICY_W2C), "world_to_container");
	ck_assert_str_eq(policy_category_short(POLICY_C2H), "c2h");
	policy_free(p);
}
END_TEST

START_TEST(test_log_defaults)
{
	struct policy *p = good("t.yaml", "version: 1\n"
					  "defaults: {container_to_host: deny}\n"
					  "groups: {web: {labels: {app: web}}}\n"
					  "rules:\n"
					  "  - {name: a, from: web, to: host, action: deny}\n"
					  "  - {name: b, from: web, to: world}\n");

	ck_assert(policy_rule_logs(p, &p->rules[0]));  /* log: deny, deny rule */
	ck_assert(!policy_rule_logs(p, &p->rules[1])); /* allow rule */
	ck_assert(policy_default_logs(p, POLICY_C2H));
	ck_assert(!policy_default_logs(p, POLICY_C2W));
	policy_free(p);
}
END_TEST

/* ---- warnings ---------------------------------------------------------------------------- */

static const struct {
	const char *yaml, *want;
} warn_cases[] = {
    {"  - {name: h, from: host, to: web}\n",
     "t.yaml:5:5: warning: rule 'h' can never match: traffic from the host to containers is "
     "always allowed\n"},
    {"  - {name: ww, from: world, to: world}\n",
     "t.yaml:5:5: warning: rule 'ww' can never match: traffic that touches no managed container "
     "is never filtered\n"},
    {"  - {name: wh, from: [world, host], to: host, action: deny}\n",
     "t.yaml:5:5: warning: rule 'wh' can never match: traffic that touches no managed container "
     "is never filtered\n"},
    /* these can match: no warning */
    {"  - {name: ok1, from: world, to: web}\n", ""},
    {"  - {name: ok2, from: {cidr: [10.0.0.0/8]}, to: {cidr: [10.0.0.0/8]}}\n", ""},
    {"  - {name: ok3, from: [host, web], to: host}\n", ""},
    {"  - {name: ok4, from: any, to: any}\n", ""},
};

START_TEST(test_warnings)
{
	char doc[512], *out;
	struct policy *p;
	int r;

	snprintf(doc, sizeof(doc), "version: 1\ngroups:\n  web: {labels: {app: web}}\nrules:\n%s",
		 warn_cases[_i].yaml);
	out = tu_check_policy("t.yaml", doc, &r, &p);
	ck_assert_int_eq(r, 0); /* a warning never fails validation */
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(out, warn_cases[_i].want);
	free(out);
	policy_free(p);
}
END_TEST

/* ---- several files ---------------------------------------------------------------------- */

START_TEST(test_merge)
{
	/* a rule may use a group defined in a later file; names are merged */
	const struct tu_doc docs[] = {
	    {"10-rules.yaml", "version: 1\nrules:\n  - {name: r, from: web, to: {net: lan}}\n"},
	    {"20-groups.json", "{\"version\": 1, \"groups\": {\"web\": {\"name\": \"web-*\"}},\n"
			       " \"defaults\": {\"log\": \"none\"}}"},
	    {"30-nets.yml", "version: 1\nnets:\n  lan: [192.168.0.0/16]\n"},
	};
	struct policy *p;
	char *out;
	int r;

	out = tu_check_policy_docs(docs, ARRAY_SIZE(docs), &r, &p);
	ck_assert_int_eq(r, 0);
	ck_assert_str_eq(out, "");
	ck_assert_uint_eq(p->ngroups, 1);
	ck_assert_uint_eq(p->nnets, 1);
	ck_assert_uint_eq(p->nrules, 1);
	ck_assert_int_eq(p->log, POLICY_LOG_NONE);
	ck_assert_str_eq(p->rules[0].loc.file, "10-rules.yaml");
	ck_assert_str_eq(p->groups[0].loc.file, "20-groups.json");
	free(out);
	policy_free(p);
}
END_TEST

static const struct {
	const char *a, *b, *want;
} merge_errors[] = {
    {"version: 1\ngroups:\n  web: {name: a}\n", "version: 1\ngroups:\n  web: {name: b}\n",
     "b.yaml:3:3: error: duplicate group name 'web' (first defined at a.yaml:3:3)\n"},
    {"version: 1\nnets:\n  lan: [10.0.0.0/8]\n", "version: 1\nnets:\n  lan: [10.0.0.0/8]\n",
     "b.yaml:3:3: error: duplicate net name 'lan' (first defined at a.yaml:3:3)\n"},
    {"version: 1\nrules:\n  - {name: r, from: any, to: any}\n",
     "version: 1\nrules:\n  - {name: r, from: any, to: any}\n",
     "b.yaml:3:12: error: duplicate rule name 'r' (first defined at a.yaml:3:5)\n"},
    {"version: 1\ndefaults: {log: all}\n", "version: 1\ndefaults: {log: none}\n",
     "b.yaml:2:1: error: 'defaults' set again (first set at a.yaml:2:1)\n"
     "  hint: 'defaults' may be set in one file only\n"},
    /* errors in both files are all reported, in file order */
    {"version: 3\n", "version: 1\nrules:\n  - {name: r, from: nobody, to: any}\n",
     "a.yaml:1:10: error: unsupported version 3\n"
     "  hint: this netseg reads version 1\n"
     "b.yaml:3:21: error: undefined group 'nobody'\n"},
};

START_TEST(test_merge_errors)
{
	const struct tu_doc docs[] = {{"a.yaml", merge_errors[_i].a},
				      {"b.yaml", merge_errors[_i].b}};
	char *out;
	int r;

	out = tu_check_policy_docs(docs, 2, &r, NULL);
	ck_assert_int_eq(r, -EINVAL);
	ck_assert_str_eq(out, merge_errors[_i].want);
	free(out);
}
END_TEST

static void remove_files(const char *dir, const char *const *names, size_t n)
{
	char path[4096];

	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

START_TEST(test_load_directory)
{
	static const char *const names[] = {"b.json", "a.yaml", "notes.txt"};
	char dir[] = "/tmp/netseg-validate-XXXXXX";
	struct diag_list *d = diag_list_new();
	struct policy *p = NULL;
	int r;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	tu_write_file(dir, "a.yaml", "version: 1\ngroups: {web: {labels: {app: web}}}\n");
	tu_write_file(dir, "b.json",
		      "{\"version\": 1, \"rules\": [{\"name\": \"r\", \"from\": "
		      "\"web\", \"to\": \"world\"}]}\n");
	tu_write_file(dir, "notes.txt", "not a policy\n");
	r = policy_load(dir, d, &p);
	ck_assert_int_eq(r, 0);
	ck_assert_uint_eq(d->nerrors, 0);
	ck_assert_uint_eq(p->ngroups, 1);
	ck_assert_uint_eq(p->nrules, 1);
	policy_free(p);
	diag_list_free(d);
	remove_files(dir, names, ARRAY_SIZE(names));
}
END_TEST

/* The model owns its file names: it outlives the diag list it was validated with. */
START_TEST(test_model_outlives_diags)
{
	struct policy *p = good("owned.yaml", tu_spec_policy_yaml);

	ck_assert_str_eq(p->rules[3].loc.file, "owned.yaml");
	ck_assert_str_eq(p->rules[3].from.terms[0].loc.file, "owned.yaml");
	policy_free(p);
}
END_TEST

START_TEST(test_cidr_helpers)
{
	char buf[POLICY_CIDR_STRLEN];
	struct policy_cidr a, b;

	ck_assert_int_eq(policy_cidr_parse("10.1.2.3", &a), 0);
	ck_assert_int_eq(a.prefix, 32);
	ck_assert_int_eq(policy_cidr_parse("10.1.2.3/24", &a), 0);
	ck_assert(policy_cidr_mask(&a));
	assert_cidr(&a, "10.1.2.0/24");
	ck_assert(!policy_cidr_mask(&a));
	ck_assert_int_eq(policy_cidr_parse("10.1.2.128/25", &b), 0);
	ck_assert(policy_cidr_contains(&a, &b));
	ck_assert(!policy_cidr_contains(&b, &a));
	ck_assert_int_eq(policy_cidr_parse("::/0", &b), 0);
	ck_assert(!policy_cidr_contains(&b, &a)); /* families differ */
	ck_assert_int_eq(policy_cidr_parse("10.0.0.0/08", &a), -ERANGE);
	ck_assert_int_eq(policy_cidr_parse("10.0.0.0/", &a), -ERANGE);
	ck_assert_int_eq(policy_cidr_parse("/8", &a), -EINVAL);
	ck_assert_int_eq(policy_cidr_parse("fe80::1%eth0", &a), -EINVAL);
	/* Only what lies inside ::ffff:0:0/96 is IPv4-mapped; ::/0 merely contains it. */
	ck_assert_int_eq(policy_cidr_parse("::ffff:1.2.3.4", &a), 0);
	ck_assert(policy_cidr_v4_mapped(&a, &b));
	ck_assert_str_eq(policy_cidr_format(&b, buf, sizeof(buf)), "1.2.3.4/32");
	ck_assert_int_eq(policy_cidr_parse("::ffff:0:0/96", &a), 0);
	ck_assert(policy_cidr_v4_mapped(&a, NULL));
	ck_assert_int_eq(policy_cidr_parse("::/0", &a), 0);
	ck_assert(!policy_cidr_v4_mapped(&a, NULL));
	ck_assert_int_eq(policy_cidr_parse("::fffe:1.2.3.4/128", &a), 0);
	ck_assert(!policy_cidr_v4_mapped(&a, NULL));
	ck_assert_int_eq(policy_cidr_parse("1.2.3.4", &a), 0);
	ck_assert(!policy_cidr_v4_mapped(&a, NULL));
	ck_assert(policy_name_valid("web-1_a"));
	ck_assert(!policy_name_valid(""));
	ck_assert(!policy_name_valid("a.b"));
}
END_TEST

/* fqdn names are normalized (case, trailing dot) and a wildcard never matches its base. */
START_TEST(test_fqdn_model)
{
	struct policy *p =
	    good("t.yaml", "version: 1\n"
			   "dns: {resolvers: [10.0.0.2, \"fd00::2\"], min_ttl: 0}\n"
			   "rules:\n"
			   "  - name: r\n"
			   "    from: containers\n"
			   "    to: {fqdn: [API.Example.COM., \"*.Example.org\"]}\n");
	const struct policy_term *t = &p->rules[0].to.terms[0];

	ck_assert_int_eq(t->kind, POLICY_TERM_FQDN);
	ck_assert_uint_eq(t->nfqdns, 2);
	ck_assert_str_eq(t->fqdns[0].name, "api.example.com");
	ck_assert(!t->fqdns[0].wildcard);
	ck_assert_str_eq(t->fqdns[1].name, "example.org");
	ck_assert(t->fqdns[1].wildcard);
	ck_assert(p->dns.resolvers_set);
	ck_assert_uint_eq(p->dns.nresolvers, 2);
	ck_assert_uint_eq(p->dns.min_ttl, 0);
	ck_assert_uint_eq(p->dns.max_ips_per_name, 64);
	ck_assert(policy_has_fqdn(p));
	ck_assert(policy_fqdn_match(&t->fqdns[0], "api.example.com"));
	ck_assert(policy_fqdn_match(&t->fqdns[0], "API.EXAMPLE.COM."));
	ck_assert(!policy_fqdn_match(&t->fqdns[0], "x.api.example.com"));
	ck_assert(!policy_fqdn_match(&t->fqdns[0], "pi.example.com"));
	ck_assert(policy_fqdn_match(&t->fqdns[1], "a.example.org"));
	ck_assert(policy_fqdn_match(&t->fqdns[1], "b.A.Example.Org."));
	ck_assert(!policy_fqdn_match(&t->fqdns[1], "example.org"));
	ck_assert(!policy_fqdn_match(&t->fqdns[1], "example.org."));
	ck_assert(!policy_fqdn_match(&t->fqdns[1], "xexample.org"));
	ck_assert(!policy_fqdn_match(&t->fqdns[1], ".example.org"));
	policy_free(p);
	p = good("t.yaml", "version: 1\nrules: []\n");
	ck_assert_uint_eq(p->dns.min_ttl, 30);
	ck_assert(!p->dns.resolvers_set);
	ck_assert(!policy_has_fqdn(p));
	policy_free(p);
}
END_TEST

static Suite *validate_suite(void)
{
	Suite *s = suite_create("validate");
	TCase *tc = tcase_create("bad");

	tcase_add_loop_test(tc, test_bad_yaml, 0, ARRAY_SIZE(bad_cases));
	tcase_add_loop_test(tc, test_bad_json, 0, ARRAY_SIZE(bad_cases));
	tcase_add_test(tc, test_all_errors_reported);
	tcase_add_test(tc, test_fqdn_model);
	suite_add_tcase(s, tc);
	tc = tcase_create("good");
	tcase_add_test(tc, test_spec_example);
	tcase_add_loop_test(tc, test_yaml_json_same, 0, ARRAY_SIZE(same_docs));
	tcase_add_test(tc, test_details);
	tcase_add_test(tc, test_empty_policy_defaults);
	tcase_add_test(tc, test_log_defaults);
	tcase_add_loop_test(tc, test_warnings, 0, ARRAY_SIZE(warn_cases));
	tcase_add_test(tc, test_model_outlives_diags);
	tcase_add_test(tc, test_cidr_helpers);
	suite_add_tcase(s, tc);
	tc = tcase_create("files");
	tcase_add_test(tc, test_merge);
	tcase_add_loop_test(tc, test_merge_errors, 0, ARRAY_SIZE(merge_errors));
	tcase_add_test(tc, test_load_directory);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(validate_suite());
}
