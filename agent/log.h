/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_LOG_H
#define NETSEG_LOG_H

/*
 * The agent's own messages: one line each on stderr, "LEVEL: message", which journald
 * stamps and stores. Only agent/ logs; library code returns errors.
 */

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARNING, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

struct diag_list;

void log_set_level(enum log_level max);
/* Each rendered diagnostic line ("FILE:LINE:COL: error: ...", hints) as one log line. */
void log_diag(const struct diag_list *d, enum log_level level);
__attribute__((format(printf, 2, 3))) void log_msg(enum log_level level, const char *fmt, ...);

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
