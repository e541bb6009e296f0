/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "metrics.h"

#include "control.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

const double metrics_buckets[METRICS_NBUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
						  0.05,	  0.1,	 0.25,	 0.5,	1,    2.5};

static const char *const source_names[METRICS_SRC_COUNT] = {
    [METRICS_SRC_SIGNAL] = "signal",	    [METRICS_SRC_POLICY] = "policy",
    [METRICS_SRC_FILES] = "endpoint_files", [METRICS_SRC_DOCKER] = "docker",
    [METRICS_SRC_RTNL] = "rtnetlink",	    [METRICS_SRC_NFT_MONITOR] = "nft_monitor",
    [METRICS_SRC_NFLOG] = "nflog",	    [METRICS_SRC_CONTROL] = "control",
    [METRICS_SRC_METRICS] = "metrics",	    [METRICS_SRC_FQDN] = "fqdn",
};

const char *metrics_source_name(enum metrics_source s)
{
	return s < METRICS_SRC_COUNT ? source_names[s] : "unknown";
}

uint64_t metrics_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

char *metrics_format_time(uint64_t ns, char *buf, size_t len)
{
	time_t sec = (time_t)(ns / 1000000000u);
	struct tm tm;
	char stamp[32];

	gmtime_r(&sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03uZ", stamp, (unsigned)(ns % 1000000000u / 1000000u));
	return buf;
}

void metrics_observe_reconcile(struct agent_stats *st, bool full, double ms)
{
	struct metrics_hist *h = full ? &st->full : &st->incremental;
	double s = ms / 1000.0;
	size_t i = 0;

	while (i < METRICS_NBUCKETS && s > metrics_buckets[i])
		i++;
	if (i < METRICS_NBUCKETS)
		h->le[i]++;
	h->count++;
	h->sum += s;
	st->last_full = full;
	st->last_at_ns = metrics_now_ns();
	st->last_ms = ms;
}

void metrics_note_error(struct agent_stats *st, const char *message)
{
	struct metrics_error *e = &st->errors[st->nerrors % METRICS_NERRORS];

	e->at_ns = metrics_now_ns();
	snprintf(e->message, sizeof(e->message), "%s", message);
	st->nerrors++;
}

json_t *metrics_hist_json(const struct metrics_hist *h)
{
	json_t *buckets = json_array();
	uint64_t cum = 0;

	for (size_t i = 0; i < METRICS_NBUCKETS; i++) {
		cum += h->le[i];
		json_array_append_new(buckets,
				      json_pack("[f, I]", metrics_buckets[i], (json_int_t)cum));
	}
	return json_pack("{s:o, s:I, s:f}", "buckets", buckets, "count", (json_int_t)h->count,
			 "sum", h->sum);
}

/* --- rendering ---------------------------------------------------------------------------- */

/* Label values may hold any byte a rule or group name allows, and container names more. */
static void put_label_value(FILE *out, const char *v)
{
	for (; v && *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(out, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", out);
		else
			fputc(*v, out);
	}
}

static void family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static json_int_t int_of(const json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

static void sample(FILE *out, const char *name, const char *label, const char *value, json_int_t v)
{
	fputs(name, out);
	if (label) {
		fprintf(out, "{%s=\"", label);
		put_label_value(out, value);
		fputs("\"}", out);
	}
	fprintf(out, " %lld\n", (long long)v);
}

/* One family over ARRAY's objects: label from LABEL_KEY, value from VALUE_KEY. */
static void array_family(FILE *out, const json_t *array, const char *name, const char *type,
			 const char *help, const char *label, const char *label_key,
			 const char *value_key, bool only_logged)
{
	size_t i;
	json_t *o;

	family(out, name, type, help);
	json_array_foreach (array, i, o) {
		if (only_logged && !json_is_true(json_object_get(o, "log")))
			continue;
		sample(out, name, label, json_string_value(json_object_get(o, label_key)),
		       int_of(o, value_key));
	}
}

static void hist_family_member(FILE *out, const char *name, const char *kind, const json_t *h)
{
	size_t i;
	json_t *b;

	json_array_foreach (json_object_get(h, "buckets"), i, b) {
		fprintf(out, "%s_bucket{kind=\"%s\",le=\"%g\"} %lld\n", name, kind,
			json_real_value(json_array_get(b, 0)),
			(long long)json_integer_value(json_array_get(b, 1)));
	}
	fprintf(out, "%s_bucket{kind=\"%s\",le=\"+Inf\"} %lld\n", name, kind,
		(long long)int_of(h, "count"));
	fprintf(out, "%s_sum{kind=\"%s\"} %.6f\n", name, kind,
		json_real_value(json_object_get(h, "sum")));
	fprintf(out, "%s_count{kind=\"%s\"} %lld\n", name, kind, (long long)int_of(h, "count"));
}

int metrics_render(const json_t *st, FILE *out)
{
	const json_t *rules = json_object_get(st, "rules");
	const json_t *defs = json_object_get(st, "defaults");
	const json_t *rec = json_object_get(st, "reconcile");
	const json_t *hist = json_object_get(rec, "duration_seconds");
	const json_t *dec = json_object_get(st, "decisions");
	const json_t *o;
	const char *k;
	size_t i;

	array_family(out, rules, "netseg_rule_packets_total", "counter",
		     "Packets of new connections matched by a rule.", "rule", "name", "packets",
		     false);
	array_family(out, rules, "netseg_rule_bytes_total", "counter",
		     "Bytes of new connections matched by a rule.", "rule", "name", "bytes", false);
	array_family(out, defs, "netseg_default_packets_total", "counter",
		     "Packets of new connections decided by a category default.", "category",
		     "category", "packets", false);
	array_family(out, defs, "netseg_default_bytes_total", "counter",
		     "Bytes of new connections decided by a category default.", "category",
		     "category", "bytes", false);

	for (int pass = 0; pass < 2; pass++) {
		const char *name =
		    pass ? "netseg_decisions_suppressed_total" : "netseg_decisions_logged_total";
		const char *key = pass ? "suppressed" : "logged";

		/* Each family's header right before its own samples: parsers attach samples to
		 * the last TYPE line seen. */
		family(out, name, "counter",
		       pass ? "Decisions the kernel's log rate limit suppressed, by counter."
			    : "Decision log lines written, by the counter that decided.");
		for (int a = 0; a < 2; a++)
			json_array_foreach (a ? defs : rules, i, o) {
				if (json_is_true(json_object_get(o, "log")))
					sample(out, name, "counter",
					       json_string_value(json_object_get(o, "counter")),
					       int_of(o, key));
			}
	}
	family(out, "netseg_decisions_lost_total", "counter",
	       "Decision messages lost between the kernel and the agent (socket overrun).");
	sample(out, "netseg_decisions_lost_total", NULL, NULL, int_of(dec, "lost"));

	family(out, "netseg_endpoints", "gauge", "Endpoints (containers) managed.");
	sample(out, "netseg_endpoints", NULL, NULL,
	       (json_int_t)json_array_size(json_object_get(st, "endpoints")));
	family(out, "netseg_group_members", "gauge", "Endpoints in each policy group.");
	json_array_foreach (json_object_get(st, "groups"), i, o) {
		sample(out, "netseg_group_members", "group",
		       json_string_value(json_object_get(o, "name")),
		       (json_int_t)json_array_size(json_object_get(o, "members")));
	}

	family(out, "netseg_events_total", "counter", "Events handled, by source.");
	json_object_foreach ((json_t *)json_object_get(st, "events"), k, o)
		sample(out, "netseg_events_total", "source", k, json_integer_value(o));

	family(out, "netseg_reconcile_duration_seconds", "histogram",
	       "Duration of reconciles: full (tables replaced) and incremental (elements).");
	hist_family_member(out, "netseg_reconcile_duration_seconds", "full",
			   json_object_get(hist, "full"));
	hist_family_member(out, "netseg_reconcile_duration_seconds", "incremental",
			   json_object_get(hist, "incremental"));

	static const struct {
		const char *name, *key, *help;
	} plain[] = {
	    {"netseg_resyncs_total", "resyncs", "Full resynchronisations after lost events."},
	    {"netseg_tamper_repairs_total", "tamper_repairs",
	     "Repairs after another process changed netseg's tables."},
	    {"netseg_policy_reload_failures_total", "policy_reload_failures",
	     "Policy reloads rejected; the last good policy stayed."},
	    {"netseg_reconcile_failures_total", "failures", "Kernel transactions that failed."},
	};
	for (size_t j = 0; j < ARRAY_SIZE(plain); j++) {
		family(out, plain[j].name, "counter", plain[j].help);
		sample(out, plain[j].name, NULL, NULL, int_of(rec, plain[j].key));
	}
	family(out, "netseg_errors_total", "counter", "Errors the agent logged.");
	sample(out, "netseg_errors_total", NULL, NULL,
	       int_of(json_object_get(st, "errors"), "count"));
	return ferror(out) ? -EIO : 0;
}

/* --- the listener ------------------------------------------------------------------------- */

static bool is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;

	if (IN6_IS_ADDR_V4MAPPED(a))
		return a->s6_addr[12] == 127;
	return IN6_IS_ADDR_LOOPBACK(a);
}

/* 1-65535, digits only: strtol alone would take " 9474" or "+9474". */
static int parse_port(const char *s, uint16_t *ret)
{
	unsigned long v = 0;

	if (!*s || strlen(s) > 5)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v < 1 || v > 65535)
		return -EINVAL;
	*ret = (uint16_t)v;
	return 0;
}

int metrics_parse_addr(const char *addrport, struct sockaddr_storage *ret, char *err, size_t errlen)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	const char *colon, *hstart = addrport;
	char host[64];
	size_t hl;
	uint16_t port;

	if (addrport[0] == '[') {
		const char *rb = strchr(addrport, ']');

		colon = rb && rb[1] == ':' ? rb + 1 : NULL;
		hstart = addrport + 1;
		hl = colon ? (size_t)(rb - hstart) : 0;
	} else {
		colon = strchr(addrport, ':');
		hl = colon ? (size_t)(colon - addrport) : 0;
		if (colon && strchr(colon + 1, ':')) {
			snprintf(err, errlen, "'%s': an IPv6 address goes in brackets ([::1]:9464)",
				 addrport);
			return -EINVAL;
		}
	}
	if (!colon || hl == 0 || hl >= sizeof(host)) {
		snprintf(err, errlen, "'%s' is not ADDR:PORT or [IPV6]:PORT (e.g. 127.0.0.1:9464)",
			 addrport);
		return -EINVAL;
	}
	if (parse_port(colon + 1, &port) < 0) {
		snprintf(err, errlen, "'%s': port must be a number 1-65535", addrport);
		return -EINVAL;
	}
	memcpy(host, hstart, hl);
	host[hl] = '\0';
	if (hstart == addrport && !strcmp(host, "localhost"))
		snprintf(host, sizeof(host), "127.0.0.1");
	if (hstart == addrport && inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
	} else if (hstart != addrport && inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
	} else {
		snprintf(err, errlen, "'%s': '%s' is not a numeric address or localhost", addrport,
			 host);
		return -EINVAL;
	}
	*ret = ss;
	return 0;
}

int metrics_listen(const char *addrport, bool allow_remote, int *ret_fd, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	char host[INET6_ADDRSTRLEN];
	int fd, one = 1, r;

	if ((r = metrics_parse_addr(addrport, &ss, err, errlen)) < 0)
		return r;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	inet_ntop(ss.ss_family, ss.ss_family == AF_INET ? (void *)&s4->sin_addr : &s6->sin6_addr,
		  host, sizeof(host));
	if (!allow_remote && !is_loopback(&ss)) {
		snprintf(err, errlen,
			 "%s is not a loopback address; metrics carry the policy's names and "
			 "counters: add --metrics-allow-remote to serve them there",
			 host);
		return -EPERM;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, ss.ss_family == AF_INET ? sizeof(*s4) : sizeof(*s6)) <
		0 ||
	    listen(fd, CONTROL_BACKLOG) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		goto fail;
	}
	*ret_fd = fd;
	return 0;
fail:
	snprintf(err, errlen, "cannot listen on %s: %s", addrport, strerror(errno));
	return -errno;
}

static char *http_reply(const char *status, const char *type, const char *body, size_t blen,
			size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fprintf(f,
		"HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: "
		"close\r\n\r\n",
		status, type, blen);
	fwrite(body, 1, blen, f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	*ret_len = len;
	return buf;
}

char *metrics_http_respond(const char *request, json_t *(*build)(void *ud), void *ud,
			   size_t *ret_len)
{
	static const char text[] = "text/plain; charset=utf-8";
	char *body = NULL, *reply;
	size_t blen = 0;
	FILE *f;
	json_t *st;

	if (strncmp(request, "GET ", 4) != 0)
		return http_reply("405 Method Not Allowed", text, "GET only\n", 9, ret_len);
	if (strncmp(request + 4, "/metrics", 8) != 0 ||
	    (request[12] != ' ' && request[12] != '?' && request[12] != '\r' &&
	     request[12] != '\n'))
		return http_reply("404 Not Found", text, "try /metrics\n", 13, ret_len);
	if (!(st = build(ud)) || !(f = open_memstream(&body, &blen))) {
		json_decref(st);
		return http_reply("500 Internal Server Error", text, "out of memory\n", 14,
				  ret_len);
	}
	metrics_render(st, f);
	json_decref(st);
	if (fclose(f) != 0) {
		free(body);
		return NULL;
	}
	reply =
	    http_reply("200 OK", "text/plain; version=0.0.4; charset=utf-8", body, blen, ret_len);
	free(body);
	return reply;
}
