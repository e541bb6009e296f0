/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Endpoint files: parsing, every error (YAML and JSON), all-or-nothing loading, and matching. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "endpoints.h"
#include "parse.h"
#include "testutil.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char spec_yaml[] = "endpoints:\n"
				"  - name: web-1\n"
				"    interface: vethweb1           # host-side interface\n"
				"    addresses: [10.88.0.2, \"fd88::2\"]\n"
				"    labels: { app: web }\n"
				"    networks: [podnet]\n"
				"  - name: ci-7\n"
				"    id: 4f1c0a\n"
				"    interface: vethci7\n"
				"    bridge: cni0\n"
				"    image: registry.local/ci/runner:3\n"
				"    addresses: [10.88.0.7]\n";

static const char spec_json[] =
    "{\"endpoints\": [\n"
    "  {\"name\": \"web-1\", \"interface\": \"vethweb1\", \"addresses\": [\"10.88.0.2\", "
    "\"fd88::2\"],\n"
    "   \"labels\": {\"app\": \"web\"}, \"networks\": [\"podnet\"]},\n"
    "  {\"name\": \"ci-7\", \"id\": \"4f1c0a\", \"interface\": \"vethci7\", \"bridge\": "
    "\"cni0\",\n"
    "   \"image\": \"registry.local/ci/runner:3\", \"addresses\": [\"10.88.0.7\"]}\n"
    "]}\n";

static void check_spec(const struct endpoint_set *s)
{
	const struct endpoint *e = &s->items[0];

	ck_assert_uint_eq(s->n, 2);
	ck_assert_str_eq(e->name, "web-1");
	ck_assert_ptr_null(e->id);
	ck_assert_str_eq(e->interface, "vethweb1");
	ck_assert_ptr_null(e->bridge);
	ck_assert_ptr_null(e->image);
	ck_assert_uint_eq(e->naddrs, 2);
	ck_assert_int_eq(e->addrs[0].family, AF_INET);
	ck_assert_mem_eq(e->addrs[0].addr, "\x0a\x58\x00\x02", 4);
	ck_assert_int_eq(e->addrs[1].family, AF_INET6);
	ck_assert_mem_eq(e->addrs[1].addr, "\xfd\x88\0\0\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
	ck_assert_uint_eq(e->nlabels, 1);
	ck_assert_str_eq(e->labels[0].key, "app");
	ck_assert_str_eq(e->labels[0].value, "web");
	ck_assert_uint_eq(e->nnetworks, 1);
	ck_assert_str_eq(e->networks[0], "podnet");
	ck_assert_int_eq(e->loc.line, 2);
	e = &s->items[1];
	ck_assert_str_eq(e->id, "4f1c0a");
	ck_assert_str_eq(e->bridge, "cni0");
	ck_assert_str_eq(e->image, "registry.local/ci/runner:3");
	ck_assert_uint_eq(e->nlabels + e->nnetworks, 0);
}

START_TEST(test_spec_yaml)
{
	struct endpoint_set *s = endpoint_set_new();
	char *out;
	int r;

	out = tu_load_endpoints(s, "ep.yaml", spec_yaml, &r);
	ck_assert_int_eq(r, 0);
	ck_assert_str_eq(out, "");
	check_spec(s);
	ck_assert_str_eq(s->items[0].loc.file, "ep.yaml"); /* owned by the set */
	free(out);
	endpoint_set_free(s);
}
END_TEST

START_TEST(test_spec_json)
{
	struct endpoint_set *s = endpoint_set_new();
	char *out;
	int r;

	out = tu_load_endpoints(s, "ep.json", spec_json, &r);
	ck_assert_int_eq(r, 0);
	ck_assert_str_eq(out, "");
	check_spec(s);
	free(out);
	endpoint_set_free(s);
}
END_TEST

START_TEST(test_empty_list)
{
	struct endpoint_set *s = endpoint_set_new();
	char *out;
	int r;

	out = tu_load_endpoints(s, "ep.yaml", "endpoints: []\n", &r);
	ck_assert_int_eq(r, 0);
	ck_assert_str_eq(out, "");
	ck_assert_uint_eq(s->n, 0);
	free(out);
	endpoint_set_free(s);
	endpoint_set_free(NULL);
	endpoint_clear(NULL);
}
END_TEST

struct bad_case {
	const char *name;
	const char *yaml, *yaml_err;
	const char *json, *json_err;
};

static const struct bad_case bad_cases[] = {
    {"unknown-root-key", "items: []\n",
     "t.yaml:1:1: error: unknown key 'items' in an endpoint file\n"
     "t.yaml:1:1: error: missing 'endpoints'\n",
     "{\"items\": []}\n",
     "t.json:1:1: error: missing 'endpoints'\n"
     "t.json:1:2: error: unknown key 'items' in an endpoint file\n"},
    {"root-list", "- name: a\n",
     "t.yaml:1:1: error: an endpoint file must be a mapping, got a list\n", "[{\"name\": \"a\"}]\n",
     "t.json:1:1: error: an endpoint file must be a mapping, got a list\n"},
    {"endpoints-map", "endpoints: {}\n",
     "t.yaml:1:12: error: 'endpoints' must be a list, got a mapping\n", "{\"endpoints\": {}}\n",
     "t.json:1:15: error: 'endpoints' must be a list, got a mapping\n"},
    {"endpoint-string",
     "endpoints:\n"
     "  - web-1\n",
     "t.yaml:2:5: error: an endpoint must be a mapping, got a string\n",
     "{\"endpoints\": [\n"
     "  \"web-1\"\n"
     "]}\n",
     "t.json:2:3: error: an endpoint must be a mapping, got a string\n"},
    {"missing-name",
     "endpoints:\n"
     "  - interface: veth1\n"
     "    addresses: [10.0.0.1]\n",
     "t.yaml:2:5: error: endpoint is missing 'name'\n",
     "{\"endpoints\": [\n"
     "  {\"interface\": \"veth1\", \"addresses\": [\"10.0.0.1\"]}\n"
     "]}\n",
     "t.json:2:3: error: endpoint is missing 'name'\n"},
    {"missing-interface",
     "endpoints:\n"
     "  - name: a\n"
     "    addresses: [10.0.0.1]\n",
     "t.yaml:2:5: error: endpoint 'a' is missing 'interface'\n",
     "{\"endpoints\": [\n"
     "  {\"name\": \"a\", \"addresses\": [\"10.0.0.1\"]}\n"
     "]}\n",
     "t.json:2:3: error: endpoint 'a' is missing 'interface'\n"},
    {"missing-addresses",
     "endpoints:\n"
     "  - name: a\n"
     "    interface: veth1\n",
     "t.yaml:2:5: error: endpoint 'a' is missing 'addresses'\n",
     "{\"endpoints\": [\n"
     "  {\"name\": \"a\", \"interface\": \"veth1\"}\n"
     "]}\n",
     "t.json:2:3: error: endpoint 'a' is missing 'addresses'\n"},
    {"misspelt-key",
     "endpoints:\n"
     "  - name: a\n"
     "    interface: veth1\n"
     "    adresses: [10.0.0.1]\n",
     "t.yaml:4:5: error: unknown key 'adresses' in an endpoint\n"
     "  hint: did you mean 'addresses'?\n",
     "{\"endpoints\": [\n"
     "  {\"name\": \"a\", \"interface\": \"veth1\", \"adresses\": [\"10.0.0.1\"]}\n"
     "]}\n",
     "t.json:2:39: error: unknown key 'adresses' in an endpoint\n"
     "  hint: did you mean 'addresses'?\n"},
    {"ifname-long",
     "endpoints:\n"
     "  - name: a\n"
     "    interface: vethverylongname0\n"
     "    addresses: [10.0.0.1]\n",
     "t.yaml:3:16: error: interface name 'vethverylongname0' is longer than 15 characters\n",
     "{\"endpoints\": [\n"
     "  {\"name\": \"a\", \"interface\": \"vethverylongname0\", \"addresses\": [\"10.0.0.1\"]}\n"
     "]}\n",
     "t.json:2:30: error: interface name 'vethverylongname0' is longer than 15 characters\n"},
    {"ifname-slash",
     "endpoints:\n"
     "  - name: a\n"
     "    interface: veth/1\n"
     "    addresses: [10.0.0.1]\n",
     "t.yaml:3:16: error: interface name 'veth/1' contains '/'\n",
     "{\"endpoints\": [\n"
     "  {\"name\": \"a\", \"interface\": \"veth/1\", \"addresses\": [\"10.0.0.1\"]}\n"
     "]}\n",
     "t.json:2:30: error: interface name 'veth/1' contains '/'\n"},
    {"ifname-int",
     "endpoints:\n"
     "  - name: a\n"
     "    interface: 7\n"
     "    addresses: [10.0.0.1]\n",
     "t.yaml:3:16: error: 'interface' must be a string, got an integer\n",
     "{\"endpoints\": [\n"
     "  {\"name\": \"a\", \"interface\": 7, \"addresses\": [\"10.0.0.1\"]}\n"
     "]}\n",
     "t.json:2:30: error: 'interface' must be a string, got an integer\n"},
    {"bridge-long",
     "endpoints:\n"
     "  - name: a\n"
     "    interface: veth1\n"
     "    addresses: [10.0.0.1]\n"
     "    bridge: br-0123456789abcdef\n",
     "t.yaml:5:13: error: bridge name 'br-0123456789abcdef' is longer than 15 characters\n",
     "{\"endpoints\": [\n"
     "  {\"name\": \"a\", \"interface\": \"veth1\", \"addresses\": [\"10.0.0.1\"], \"bridge\": "
     "\"br-0123456789abcdef\"}\n"
     "]}\n",
     "t.json:2:76: error: bridge name 'br-0123456789abcdef' is longer than 15 characters\n"},
    {"addr-prefix",
     "endpoints:\n"
     "  - name: a\n"
     "    interface: veth1\n"
     "    addresses: [10.0.0.1/24]\n",
     "t.yaml:4:17: error: address '10.0.0.1/24' must not have a prefix length\n"
     "  hint: did you mean 10.0.0.1?\n",
     "{\"endpoints\": [\n"
     "  {\"name\": \"a\", \"interface\": \"veth1\", \"addresses\": [\"10.0.0.1/24\"]}\n"
     "]}\n",
     "t.json:2:53: error: address '10.0.0.1/24' must not have a prefix length\n"
     "  hint: did you mean 10.0.0.1?\n"},
    {"addr-invalid",
     "endpoints:\n"
     "  - name: a\n"
     "    interface: veth1\n"
     "    addresses: [10.0.0.256]\n",
     "t.yaml:4:17: error: invalid address '10.0.0.256'\n",
     "{\"endpoints\": [\n"
     "  {\"name\": \"a\", \"interface\": \"veth1\", \"addresses\": [\"10.0.0.256\"]}\n"
     "]}\n",
     "t.json:2:53: error: invalid address '10.0.0.256'\n"},
    {"addr-unspec4",
     "endpoints:\n"
     "  - name: a\n"
     "    interface: veth1\n"
     "    addresses: [\"0.0.0.0\"]\n",
     "t.yaml:4:17: error: address '0.0.0.0' is the unspecified address\n"
     "  hint: an endpoint address must be the container's own unicast address\n",
     "{\"endpoints\": [\n"
     "  {\"name\": \"a\", \"interface\": \"veth1\", \"addresses\": [\"0.0.0.0\"]}\n"
     "]}\n",
     "t.json:2:53: error: address '0.0.0.0' is the unspecified address\n"
     "  hint: an endpoint address must be the container's own unicast address\n"},
    {"addr-bcast",
     "endpoints:\n"
     "  - name: a\n"
     "    interface: veth1\n"
     "    addresses: [\"255.255.255.255\"]\n",
     "t.yaml:4:17: error: address '255.255.255.255' is the limited broadcast address\n"
     "  hint: an endpoint address must be the container's own unicast address\n",
     "{\"endpoints\": [\n"
     "  {\"name\": \"a\", \"interface\": \"veth1\", \"addresses\": [\"255.255.255.255\"]}\n"
     "]}\n",
     "t.json:2:53: error: address '255.255.255.255' is the limited broadcast address\n"
     "  hint: an endpoint address must be the container's own unicast address\n"},
    {"addr-mcast4",
     "endpoints:\n"
     "  - name: a\n"
     "    interface: veth1\n"
     "    addresses: [\"224.0.0.1\"]\n",
     "t.yaml:4:17: error: address '224.0.0.1' is a multicast address\n"
     "  hint: an endpoint address must be the container's own unicast address\n",
     "{\"endpoints\": [\n"
     "  {\"name\": \"a\", \"interface\": \"veth1\", \"addresses\": [\"224.0.0.1\"]}\n"
     "]}\n",
     "t.json:2:53: error: address '224.0.0.1' is a multicast address\n"
     "  hint: an endpoint address must be the container's own unicast address\n"},
    {"addr-loop4",
     "endpoints:\n"
     "  - name: a\n"
     "    interface: veth1\n"
     "    addresses: [\"127.0.0.1\"]\n",
     "t.yaml:4:17: error: address '127.0.0.1' is a loopback address\n"
     "  hint: an endpoint address must be the container's own unicast address\n",
     "{\"endpoints\": [\n"
     "  {\"name\": \"a\", \"interface\": \"veth1\", \"addresses\": [\"127.0.0.1\"]}\n"
     "]}\n",
     "t.json:2:53: error: address '127.0.0.1' is a loopback address\n"
     "  hint: an endpoint address must be the container's own unicast address\n"},
    {"addr-loop4-net",
     "endpoints:\n"
     "  - name: a\n"
     "    interface: veth1\n"
     "    addresses: [\"127.1.2.3\"]\n",
     "t.yaml:4:17: error: address '127.1.2.3' is a loopback address\n"
     "  hint: an endpoint address must be the container's own unicast address\n",
     "{\"endpoints\": [\n"
     "  {\"name\": \"a\", \"interface\": \"veth1\", \"addresses\": [\"127.1.2.3\"]}\n"
     "]}\n",
     "t.json:2:53: error: address '127.1.2.3' is a loopback address\n"
     "  hint: an endpoint address must be the container's own unicast address\n"},
    {"addr-unspec6",
     "endpoints:\n"
     "  - name: a\n"
     "    interface: veth1\n"
     "    addresses: [\"::\"]\n",
     "t.yaml:4:17: error: address '::' is the unspecified address\n"
     "  hint: an endpoint address must be the container's own unicast address\n",
     "{\"endpoints\": [\n"
     "  {\"name\": \"a\", \"interface\": \"veth1\", \"addresses\": [\"::\"]}\n"
     "]}\n",
     "t.json:2:53: error: address '::' is the unspecified address\n"
     "  hint: an endpoint address must be the container's own unicast address\n"},
    {"addr-loop6",
     "endpoints:\n"
     "  - name: a\n"
     "    interface: veth1\n"
     "    addresses: [\"::1\"]\n",
     "t.yaml:4:17: error: address '::1' is the loopback address\n"
     "  hint: an endpoint address must be the container's own unicast address\n",
     "{\"endpoints\": [\n"
     "  {\"name\": \"a\", \"interface\": \"veth1\", \"addresses\": [\"::1\"]}\n"
     "]}\n",
     "t.json:2:53: error: address '::1' is the loopback address\n"
     "  hint: an endpoint address must be the container's own unicast address\n"},
    {"addr-mcast6",
     "endpoints:\n"
     "  - name: a\n"
     "    interface: veth1\n"
     "    addresses: [\"ff02::1\"]\n",
     "t.yaml:4:17: error: address 'ff02::1' is a multicast address\n"
     "  hint: an endpoint address must be the container's own unicast address\n",
     "{\"endpoints\": [\n"
     "  {\"name\": \"a\", \"interface\": \"veth1\", \"addresses\": [\"ff02::1\"]}\n"
     "]}\n",
     "t.json:2:53: error: address 'ff02::1' is a multicast address\n"
     "  hint: an endpoint address must be the container's own unicast address\n"},
    {"addr-mapped",
     "endpoints:\n"
     "  - name: a\n"
     "    interface: veth1\n"
     "    addresses: [\"::ffff:10.0.0.1\"]\n",
     "t.yaml:4:17: error: address '::ffff:10.0.0.1' is an IPv4-mapped address\n"
     "  hint: an endpoint address must be the container's own unicast address\n",
     "{\"endpoints\": [\n"
     "  {\"name\": \"a\", \"interface\": \"veth1\", \"addresses\": [\"::ffff:10.0.0.1\"]}\n"
     "]}\n",
     "t.json:2:53: error: address '::ffff:10.0.0.1' is an IPv4-mapped address\n"
     "  hint: an endpoint address must be the container's own unicast address\n"},
    {"addr-empty",
     "endpoints:\n"
     "  - name: a\n"
     "    interface: veth1\n"
     "    addresses: []\n",
     "t.yaml:4:16: error: 'addresses' must not be empty\n"
     "  hint: an endpoint without addresses cannot send anything\n",
     "{\"endpoints\": [\n"
     "  {\"name\": \"a\", \"interface\": \"veth1\", \"addresses\": []}\n"
     "]}\n",
     "t.json:2:52: error: 'addresses' must not be empty\n"
     "  hint: an endpoint without addresses cannot send anything\n"},
    {"addr-twice",
     "endpoints:\n"
     "  - name: a\n"
     "    interface: veth1\n"
     "    addresses: [10.0.0.1, 'fd00::1', 'fd00:0::1']\n",
     "t.yaml:4:38: error: address 'fd00:0::1' is listed twice\n",
     "{\"endpoints\": [\n"
     "  {\"name\": \"a\", \"interface\": \"veth1\", \"addresses\": [\"10.0.0.1\", \"fd00::1\", "
     "\"fd00:0::1\"]}\n"
     "]}\n",
     "t.json:2:76: error: address 'fd00:0::1' is listed twice\n"},
    {"dup-name",
     "endpoints:\n"
     "  - name: a\n"
     "    interface: veth1\n"
     "    addresses: [10.0.0.1]\n"
     "  - name: a\n"
     "    interface: veth2\n"
     "    addresses: [10.0.0.2]\n",
     "t.yaml:5:11: error: duplicate endpoint name 'a' (first defined at t.yaml:2:5)\n",
     "{\"endpoints\": [\n"
     "  {\"name\": \"a\", \"interface\": \"veth1\", \"addresses\": [\"10.0.0.1\"]},\n"
     "  {\"name\": \"a\", \"interface\": \"veth2\", \"addresses\": [\"10.0.0.2\"]}\n"
     "]}\n",
     "t.json:3:12: error: duplicate endpoint name 'a' (first defined at t.json:2:3)\n"},
    {"dup-interface",
     "endpoints:\n"
     "  - name: a\n"
     "    interface: veth1\n"
     "    addresses: [10.0.0.1]\n"
     "  - name: b\n"
     "    interface: veth1\n"
     "    addresses: [10.0.0.2]\n",
     "t.yaml:6:16: error: interface 'veth1' is already used by endpoint 'a'\n",
     "{\"endpoints\": [\n"
     "  {\"name\": \"a\", \"interface\": \"veth1\", \"addresses\": [\"10.0.0.1\"]},\n"
     "  {\"name\": \"b\", \"interface\": \"veth1\", \"addresses\": [\"10.0.0.2\"]}\n"
     "]}\n",
     "t.json:3:30: error: interface 'veth1' is already used by endpoint 'a'\n"},
    {"dup-address",
     "endpoints:\n"
     "  - name: a\n"
     "    interface: veth1\n"
     "    addresses: [10.0.0.1]\n"
     "  - name: b\n"
     "    interface: veth2\n"
     "    addresses: [10.0.0.1]\n",
     "t.yaml:7:17: error: address '10.0.0.1' is already used by endpoint 'a'\n",
     "{\"endpoints\": [\n"
     "  {\"name\": \"a\", \"interface\": \"veth1\", \"addresses\": [\"10.0.0.1\"]},\n"
     "  {\"name\": \"b\", \"interface\": \"veth2\", \"addresses\": [\"10.0.0.1\"]}\n"
     "]}\n",
     "t.json:3:53: error: address '10.0.0.1' is already used by endpoint 'a'\n"},
    {"label-bool",
     "endpoints:\n"
     "  - name: a\n"
     "    interface: veth1\n"
     "    addresses: [10.0.0.1]\n"
     "    labels: {metrics: true}\n",
     "t.yaml:5:23: error: label value must be a string, got a boolean\n"
     "  hint: quote it: \"true\"\n",
     "{\"endpoints\": [\n"
     "  {\"name\": \"a\", \"interface\": \"veth1\", \"addresses\": [\"10.0.0.1\"], \"labels\": "
     "{\"metrics\": true}}\n"
     "]}\n",
     "t.json:2:88: error: label value must be a string, got a boolean\n"
     "  hint: quote it: \"true\"\n"},
    {"labels-list",
     "endpoints:\n"
     "  - name: a\n"
     "    interface: veth1\n"
     "    addresses: [10.0.0.1]\n"
     "    labels: [app]\n",
     "t.yaml:5:13: error: 'labels' must be a mapping, got a list\n",
     "{\"endpoints\": [\n"
     "  {\"name\": \"a\", \"interface\": \"veth1\", \"addresses\": [\"10.0.0.1\"], \"labels\": "
     "[\"app\"]}\n"
     "]}\n",
     "t.json:2:76: error: 'labels' must be a mapping, got a list\n"},
    {"networks-string",
     "endpoints:\n"
     "  - name: a\n"
     "    interface: veth1\n"
     "    addresses: [10.0.0.1]\n"
     "    networks: podnet\n",
     "t.yaml:5:15: error: 'networks' must be a list, got a string\n",
     "{\"endpoints\": [\n"
     "  {\"name\": \"a\", \"interface\": \"veth1\", \"addresses\": [\"10.0.0.1\"], \"networks\": "
     "\"podnet\"}\n"
     "]}\n",
     "t.json:2:78: error: 'networks' must be a list, got a string\n"},
    {"name-space",
     "endpoints:\n"
     "  - name: web 1\n"
     "    interface: veth1\n"
     "    addresses: [10.0.0.1]\n",
     "t.yaml:2:11: error: invalid endpoint name 'web 1'\n"
     "  hint: use 1 to 255 characters without spaces\n",
     "{\"endpoints\": [\n"
     "  {\"name\": \"web 1\", \"interface\": \"veth1\", \"addresses\": [\"10.0.0.1\"]}\n"
     "]}\n",
     "t.json:2:12: error: invalid endpoint name 'web 1'\n"
     "  hint: use 1 to 255 characters without spaces\n"},
};

static void check_bad(const char *name, const char *file, const char *text, const char *want)
{
	struct endpoint_set *s = endpoint_set_new();
	char *out;
	int r;

	out = tu_load_endpoints(s, file, text, &r);
	tu_assert_bad(name, file, r, out, want);
	ck_assert_uint_eq(s->n, 0); /* all or nothing */
	endpoint_set_free(s);
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

/* A second document is checked against the first; a bad one leaves the set as it was. */
START_TEST(test_two_documents)
{
	struct endpoint_set *s = endpoint_set_new();
	char *out;
	int r;

	out = tu_load_endpoints(s, "a.yaml", spec_yaml, &r);
	ck_assert_int_eq(r, 0);
	free(out);
	out = tu_load_endpoints(s, "b.yaml",
				"endpoints:\n"
				"  - {name: web-2, interface: vethweb2, addresses: [10.88.0.3]}\n"
				"  - {name: web-1, interface: vethweb9, addresses: [10.88.0.9]}\n"
				"  - {name: x, interface: vethci7, addresses: ['fd88::2']}\n",
				&r);
	ck_assert_int_eq(r, -EINVAL);
	ck_assert_str_eq(out, "b.yaml:3:12: error: duplicate endpoint name 'web-1' (first defined "
			      "at a.yaml:2:5)\n"
			      "b.yaml:4:26: error: interface 'vethci7' is already used by endpoint "
			      "'ci-7'\n"
			      "b.yaml:4:47: error: address 'fd88::2' is already used by endpoint "
			      "'web-1'\n");
	ck_assert_uint_eq(s->n, 2);
	free(out);
	out =
	    tu_load_endpoints(s, "c.json",
			      "{\"endpoints\": [{\"name\": \"web-2\", \"interface\": \"vethweb2\", "
			      "\"addresses\": [\"10.88.0.3\"]}]}",
			      &r);
	ck_assert_int_eq(r, 0);
	ck_assert_uint_eq(s->n, 3);
	ck_assert_str_eq(s->items[2].name, "web-2");
	ck_assert_str_eq(s->items[2].loc.file, "c.json");
	ck_assert_str_eq(s->items[0].loc.file, "a.yaml");
	free(out);
	endpoint_set_free(s);
}
END_TEST

START_TEST(test_load_file)
{
	char path[] = "/tmp/netseg-ep-XXXXXX.yaml";
	struct endpoint_set *s = endpoint_set_new();
	struct diag_list *d = diag_list_new();
	int fd = mkstemps(path, 5);
	FILE *f;

	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	fputs(spec_yaml, f);
	fclose(f);
	ck_assert_int_eq(endpoint_set_load(s, path, d), 0);
	ck_assert_uint_eq(d->nerrors, 0);
	check_spec(s);
	ck_assert_str_eq(s->items[0].loc.file, path);
	unlink(path);
	ck_assert_int_lt(endpoint_set_load(s, path, d), 0); /* gone now */
	ck_assert_uint_eq(s->n, 2);
	diag_list_free(d);
	endpoint_set_free(s);
}
END_TEST

/* ---- endpoint_matches -------------------------------------------------------------------- */

static struct policy_label web_labels[] = {{"app", "web"}, {"tier", "front"}};
static char *web_nets[] = {"frontnet", "podnet"};
static const struct endpoint web = {
    .name = "web-1",
    .interface = "vethweb1",
    .image = "registry.local/web/nginx:1.25",
    .labels = web_labels,
    .nlabels = 2,
    .networks = web_nets,
    .nnetworks = 2,
};
static const struct endpoint bare = {.name = "bare", .interface = "veth0"};

static struct policy_label l_app_web[] = {{"app", "web"}};
static struct policy_label l_app_db[] = {{"app", "db"}};
static struct policy_label l_both[] = {{"tier", "front"}, {"app", "web"}};
static struct policy_label l_missing[] = {{"app", "web"}, {"zone", "a"}};
static struct policy_label l_case[] = {{"app", "Web"}};

static const struct {
	const char *what;
	const struct endpoint *e;
	struct policy_match m;
	bool want;
} match_cases[] = {
    {"empty match is vacuous", &web, {0}, true},
    {"label", &web, {.labels = l_app_web, .nlabels = 1}, true},
    {"label other value", &web, {.labels = l_app_db, .nlabels = 1}, false},
    {"labels, any order", &web, {.labels = l_both, .nlabels = 2}, true},
    {"one label missing", &web, {.labels = l_missing, .nlabels = 2}, false},
    {"label values are exact", &web, {.labels = l_case, .nlabels = 1}, false},
    {"no labels at all", &bare, {.labels = l_app_web, .nlabels = 1}, false},
    {"name glob", &web, {.name_glob = "web-*"}, true},
    {"name glob anchored", &web, {.name_glob = "eb-*"}, false},
    {"name exact", &web, {.name_glob = "web-1"}, true},
    {"name class", &web, {.name_glob = "web-[0-9]"}, true},
    {"name ?", &web, {.name_glob = "web-?"}, true},
    {"name glob case", &web, {.name_glob = "WEB-*"}, false},
    {"image glob crosses /", &web, {.image_glob = "registry.local/*"}, true},
    {"image glob", &web, {.image_glob = "registry.local/web/*"}, true},
    {"image glob other", &web, {.image_glob = "registry.local/ci/*"}, false},
    {"no image", &bare, {.image_glob = "*"}, false},
    {"network", &web, {.network = "podnet"}, true},
    {"other network", &web, {.network = "backnet"}, false},
    {"no networks", &bare, {.network = "podnet"}, false},
    {"all keys (AND)",
     &web,
     {.labels = l_app_web,
      .nlabels = 1,
      .name_glob = "web-*",
      .image_glob = "*nginx*",
      .network = "frontnet"},
     true},
    {"all keys, one fails",
     &web,
     {.labels = l_app_web,
      .nlabels = 1,
      .name_glob = "web-*",
      .image_glob = "*nginx*",
      .network = "backnet"},
     false},
};

START_TEST(test_matches)
{
	ck_assert_msg(endpoint_matches(match_cases[_i].e, &match_cases[_i].m) ==
			  match_cases[_i].want,
		      "%s", match_cases[_i].what);
}
END_TEST

static Suite *endpoints_suite(void)
{
	Suite *s = suite_create("endpoints");
	TCase *tc = tcase_create("files");

	tcase_add_test(tc, test_spec_yaml);
	tcase_add_test(tc, test_spec_json);
	tcase_add_test(tc, test_empty_list);
	tcase_add_loop_test(tc, test_bad_yaml, 0, ARRAY_SIZE(bad_cases));
	tcase_add_loop_test(tc, test_bad_json, 0, ARRAY_SIZE(bad_cases));
	tcase_add_test(tc, test_two_documents);
	tcase_add_test(tc, test_load_file);
	suite_add_tcase(s, tc);
	tc = tcase_create("matches");
	tcase_add_loop_test(tc, test_matches, 0, ARRAY_SIZE(match_cases));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(endpoints_suite());
}
