/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_VALIDATE_PORTS_H
#define NETSEG_VALIDATE_PORTS_H

/* The validator's part for a rule's `ports` (validate.c calls it). */

#include "diag.h"
#include "node.h"
#include "policy.h"

/* The value N of a rule's `ports:` key into R's ports. Errors go to D; 0 or -ENOMEM. */
int validate_ports(struct diag_list *d, const struct node *n, struct policy_rule *r);

#endif
