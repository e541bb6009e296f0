/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_METRICS_H
#define NETSEG_METRICS_H

/*
 * What the agent counts about itself (events, reconciles, repairs, errors) and the
 * Prometheus text rendering of a status document (status.h). The rendering reads the same
 * JSON `netseg status --json` prints, so the two can never disagree.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

/* Event sources, as the loop dispatches them; names in metrics_source_name(). */
enum metrics_source {
	METRICS_SRC_SIGNAL,
	METRICS_SRC_POLICY,
	METRICS_SRC_FILES,
	METRICS_SRC_DOCKER,
	METRICS_SRC_RTNL,
	METRICS_SRC_NFT_MONITOR,
	METRICS_SRC_NFLOG,
	METRICS_SRC_CONTROL,
	METRICS_SRC_METRICS,
	METRICS_SRC_FQDN,
	METRICS_SRC_COUNT
};

/* Reconcile durations in seconds: element commits take ~1 ms, full applies 10-100 ms. */
#define METRICS_NBUCKETS 12
extern const double metrics_buckets[METRICS_NBUCKETS];

struct metrics_hist {
	uint64_t le[METRICS_NBUCKETS]; /* not cumulative: one bucket per observation */
	uint64_t count;
	double sum; /* seconds */
};

#define METRICS_NERRORS 8

struct metrics_error {
	uint64_t at_ns; /* CLOCK_REALTIME */
	char message[256];
};

struct agent_stats {
	uint64_t events[METRICS_SRC_COUNT];
	struct metrics_hist full, incremental;
	uint64_t resyncs, tamper_repairs, reload_failures;
	/* the last successful reconcile */
	bool last_full;
	uint64_t last_at_ns;
	double last_ms;
	/* the most recent errors, a ring; nerrors counts all of them */
	struct metrics_error errors[METRICS_NERRORS];
	uint64_t nerrors;
	uint64_t started_ns;
};

const char *metrics_source_name(enum metrics_source s);
uint64_t metrics_now_ns(void); /* CLOCK_REALTIME */
void metrics_observe_reconcile(struct agent_stats *st, bool full, double ms);
void metrics_note_error(struct agent_stats *st, const char *message);
/* "2026-11-22T06:47:40.123Z"; returns BUF. */
char *metrics_format_time(uint64_t ns, char *buf, size_t len);
/* The histogram as {"buckets": [[le, cumulative count]...], "count", "sum"}. */
json_t *metrics_hist_json(const struct metrics_hist *h);

/* Prometheus text format 0.0.4 of a status document (status_build()). */
int metrics_render(const json_t *status, FILE *out);

/*
 * ADDR:PORT or [IPV6]:PORT, strictly: a numeric address or "localhost", a port of digits
 * 1-65535, nothing else (no spaces). -EINVAL with ERR (one line) otherwise.
 */
int metrics_parse_addr(const char *addrport, struct sockaddr_storage *ret, char *err,
		       size_t errlen);
/*
 * --metrics ADDR:PORT (metrics_parse_addr()): a listening TCP socket, non-blocking; anything
 * but a loopback address needs ALLOW_REMOTE. Errors are described in ERR (one line).
 */
int metrics_listen(const char *addrport, bool allow_remote, int *ret_fd, char *err, size_t errlen);
/* The HTTP/1.0 answer to REQUEST (the header block); STATUS is built only for /metrics. */
char *metrics_http_respond(const char *request, json_t *(*build)(void *ud), void *ud,
			   size_t *ret_len);

#endif
