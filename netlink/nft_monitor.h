/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_NFT_MONITOR_H
#define NETSEG_NFT_MONITOR_H

/*
 * Tamper detection: the nf_tables notifications of this network namespace (NFNLGRP_NFTABLES),
 * grouped by transaction. The kernel multicasts, for each committed transaction, one message
 * per object it changed and then NFT_MSG_NEWGEN, which names the process that committed it.
 * A transaction that touched a table named "netseg" in the inet, bridge or arp family and was
 * committed by another process is tampering; so is a lost notification (ENOBUFS), since we
 * cannot know what we missed. Either way the agent's answer is the same: re-apply.
 *
 * Our own transactions are recognised by NFTA_GEN_PROC_PID: getpid(), or the id of one of our
 * live threads (the kernel records the committing thread). The kernel gives that id as seen
 * from the initial pid namespace: do not run the agent in a pid namespace of its own, or every
 * own change looks foreign (the agent would re-apply once per event).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nft_monitor;

/* A non-blocking socket, subscribed, with a large receive buffer. 0 or -errno. */
int nft_monitor_open(struct nft_monitor **ret);
void nft_monitor_free(struct nft_monitor *m);
/* A monitor without a socket, for nft_monitor_parse() alone (tests, fuzzers). */
int nft_monitor_new_detached(struct nft_monitor **ret);

/* For epoll (EPOLLIN). */
int nft_monitor_fd(const struct nft_monitor *m);

/*
 * Reads every pending notification. *RET_TAMPERED: a foreign transaction that touched our
 * tables completed since the last call, or notifications were lost. A transaction whose
 * NEWGEN has not arrived yet is judged by a later call. 0 or -errno (the socket failed: reopen).
 */
int nft_monitor_read(struct nft_monitor *m, bool *ret_tampered);
/*
 * What nft_monitor_read() does with one datagram it believed (the kernel sent it): BUF, 4-byte
 * aligned, of LEN bytes (at most 64 KiB are looked at). nft_monitor_take() then reports and
 * clears the verdict as nft_monitor_read() does.
 */
void nft_monitor_parse(struct nft_monitor *m, const void *buf, size_t len);
int nft_monitor_take(struct nft_monitor *m, bool *ret_tampered);

/*
 * Who tampered last, for the agent's log: "nft (pid 1234)", "lost notifications (ENOBUFS)",
 * or "" if nothing was detected yet.
 */
const char *nft_monitor_culprit(const struct nft_monitor *m);

#endif
