/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_VALIDATE_DNS_H
#define NETSEG_VALIDATE_DNS_H

/* The validator's part for DNS: the dns block and fqdn selectors (validate.c calls them). */

#include "diag.h"
#include "node.h"
#include "policy.h"

/* The value M of a top-level `dns:` key into P->dns. Errors go to D; 0 or -ENOMEM. */
int validate_dns_block(struct diag_list *d, struct policy *p, const struct node *m);
/* The list N of `fqdn: [...]` into T (kind already POLICY_TERM_FQDN). 0 or -ENOMEM. */
int validate_fqdn_list(struct diag_list *d, const struct node *n, struct policy_term *t);

#endif
