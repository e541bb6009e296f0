/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The agent's observability: the decision log (NFLOG), the status and why answers of the
 * control socket, the metrics endpoint. None of it is needed to enforce. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_internal.h"
#include "compile.h"
#include "control.h"
#include "decisions.h"
#include "fqdn.h"
#include "log.h"
#include "metrics.h"
#include "nflog.h"
#include "status.h"
#include "why_report.h"

/* The inventory changed: what the decision index borrows may be gone. */
void agent_endpoints_changed(struct agent *a)
{
	if (a->dview_ok)
		inventory_view_free(&a->dview);
	a->dview_ok = false;
	if (a->decisions)
		decisions_invalidate(a->decisions);
}

/* The endpoint view decisions and fqdn borrow, rebuilt only when something reads it after
 * the inventory really changed, not on every endpoint event. */
const struct endpoint_set *agent_current_view(struct agent *a)
{
	if (a->dview_ok && a->dview_generation != inventory_generation(a->ctx.inv))
		agent_endpoints_changed(a);
	if (!a->dview_ok) {
		if (inventory_view(a->ctx.inv, &a->dview) < 0)
			return NULL;
		a->dview_ok = true;
		a->dview_generation = inventory_generation(a->ctx.inv);
	}
	return &a->dview;
}

void agent_on_decision(const struct nflog_record *rec, void *ud)
{
	struct agent *a = ud;

	if (!agent_current_view(a))
		return;
	if (decisions_write(a->decisions, rec, &a->dview, stdout) == -EINVAL)
		log_debug("nflog: record with a foreign prefix '%s', ignoring", rec->prefix);
}

static const char *fqdn_name(int family, const uint8_t *addr, void *ud)
{
	const struct agent *a = ud;

	return a->fqdn ? fqdn_name_of(a->fqdn, family, addr) : NULL;
}

static json_t *fqdn_status_json(const struct agent *a)
{
	const struct fqdn_stats *s = a->fqdn ? fqdn_stats(a->fqdn) : NULL;
	struct fqdn_stats zero = {0};

	if (!s)
		s = &zero;
	return json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "queue", a->fqdn != NULL,
			 "replies_held", (json_int_t)s->held, "learned_addresses",
			 (json_int_t)s->learned, "parse_failures", (json_int_t)s->parse_failures,
			 "over_limits", (json_int_t)s->over_limits, "queue_overflows",
			 (json_int_t)s->overflows, "commit_failures",
			 (json_int_t)s->commit_failures, "learned",
			 a->fqdn ? fqdn_status(a->fqdn) : json_array());
}

static json_t *build_status(void *ud)
{
	struct agent *a = ud;
	struct status_input in = {
	    .inv = a->ctx.inv,
	    .policy = reconcile_policy(a->ctx.rc),
	    .rs = reconcile_stats(a->ctx.rc),
	    .st = &a->stats,
	    .dec = a->decisions,
	    .nflog_on = a->nflog != NULL,
	    .nflog_lost = a->nflog ? nflog_lost(a->nflog) : 0,
	    .policy_path = a->cluster ? "etcd" : cli_policy_path(&a->o.cli),
	};
	json_t *st = status_build(&in);

	if (st)
		json_object_set_new(st, "fqdn", fqdn_status_json(a));
	return st;
}

static char *respond_control(const char *request, size_t *ret_len, void *ud)
{
	json_t *st = NULL;
	char *text;

	if (!strcmp(request, "status"))
		st = build_status(ud);
	else if (!strncmp(request, "why ", 4))
		st = why_agent_answer(((struct agent *)ud)->ctx.inv,
				      reconcile_policy(((struct agent *)ud)->ctx.rc), request + 4);
	else
		st = json_pack("{s:s}", "error", "unknown request (try \"status\" or \"why\")");
	text = st ? json_dumps(st, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(st);
	if (!text)
		return NULL;
	/* The reply ends with a newline, like every line-oriented answer. */
	*ret_len = strlen(text) + 1;
	char *out = realloc(text, *ret_len + 1);
	if (!out) {
		free(text);
		return NULL;
	}
	out[*ret_len - 1] = '\n';
	out[*ret_len] = '\0';
	return out;
}

static char *respond_metrics(const char *request, size_t *ret_len, void *ud)
{
	return metrics_http_respond(request, build_status, ud, ret_len);
}

/* The control socket and the metrics endpoint; neither is needed to enforce, so a failure
 * here is reported and the agent goes on. */
void agent_open_observers(struct agent *a)
{
	int r;

	if ((r = decisions_new(&a->decisions)) < 0)
		return;
	decisions_set_names(a->decisions, fqdn_name, a);
	if ((r = nflog_open(COMPILE_NFLOG_GROUP, &a->nflog)) < 0 ||
	    (r = agent_epoll_add(a, nflog_fd(a->nflog), T_NFLOG)) < 0) {
		agent_error(a,
			    "cannot read decision logs (NFLOG group %d): %s; decisions are not "
			    "logged",
			    COMPILE_NFLOG_GROUP, strerror(-r));
		nflog_free(a->nflog);
		a->nflog = NULL;
	}
	/* Always bound: a reload may bring fqdn rules. Without it replies pass (bypass) and
	 * fqdn rules learn nothing: their names stay denied. */
	if ((r = fqdn_open(&a->fqdn)) < 0 ||
	    (r = agent_epoll_add(a, fqdn_fd(a->fqdn), T_FQDN)) < 0) {
		agent_error(a, "cannot hold DNS replies (NFQUEUE %d): %s; fqdn rules learn nothing",
			    COMPILE_DNS_QUEUE, strerror(-r));
		fqdn_free(a->fqdn);
		a->fqdn = NULL;
	}
	if (a->o.control_socket) {
		struct control_ops ops = {.terminator = "\n",
					  .max_request = WHY_QUERY_MAX + 8, /* "why " + query */
					  .check_peer = true,
					  .respond = respond_control,
					  .ud = a};

		r = control_open_unix(a->o.control_socket, &ops, &a->control);
		if (r == 0)
			r = agent_epoll_add(a, control_fd(a->control), T_CONTROL);
		if (r < 0) {
			agent_error(a,
				    "control socket %s: %s; 'netseg status' cannot reach this "
				    "agent",
				    a->o.control_socket,
				    r == -EADDRINUSE ? "another agent answers there"
						     : strerror(-r));
			control_free(a->control);
			a->control = NULL;
		}
	}
}

/* --metrics is asked for explicitly: not getting it stops the start. */
int agent_open_metrics(struct agent *a)
{
	struct control_ops ops = {
	    .terminator = "\r\n\r\n", .max_request = 8192, .respond = respond_metrics, .ud = a};
	char err[256];
	int fd, r;

	if (!a->o.metrics_addr)
		return 0;
	r = metrics_listen(a->o.metrics_addr, a->o.metrics_allow_remote, &fd, err, sizeof(err));
	if (r < 0) {
		cli_error("agent", "--metrics: %s", err);
		return r;
	}
	if ((r = control_open_fd(fd, &ops, &a->metrics)) < 0 ||
	    (r = agent_epoll_add(a, control_fd(a->metrics), T_METRICS)) < 0) {
		cli_error("agent", "--metrics: %s", strerror(-r));
		return r;
	}
	log_info("metrics: serving http://%s/metrics", a->o.metrics_addr);
	return 0;
}
