/* What the daemons (sluice-gateway, sluice-client) share at start: the signal
 * mask, and the base of their one epoll loop (a signalfd for SIGTERM and
 * SIGINT, a 1 s tick). */
#ifndef SLUICE_LIB_DAEMON_H
#define SLUICE_LIB_DAEMON_H

#include <stdint.h>

/* Blocks SIGTERM, SIGINT and SIGPIPE. Called in main before any thread
 * starts, so every thread inherits the mask and the signals reach the loop's
 * signalfd only (SIGPIPE: a closed peer is an EPIPE, not a death). */
void daemon_block_signals(void);
/* An epoll set (*ep) holding a signalfd for SIGTERM and SIGINT (*sig_fd,
 * data.u64 = sig_tag) and a timerfd ticking every second (*tick_fd, data.u64 =
 * tick_tag), all close-on-exec, the two nonblocking and readable on EPOLLIN.
 * 0 or -errno; on failure what was opened is in the three (-1 for the rest)
 * for the caller's free function to close. */
int daemon_loop_open(int *ep, int *sig_fd, int *tick_fd, uint64_t sig_tag, uint64_t tick_tag);

#endif
