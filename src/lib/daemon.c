/* The daemons' common start. See daemon.h. */
#include "lib/daemon.h"

#include <errno.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>

void daemon_block_signals(void)
{
	sigset_t sigs;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
}

static int ep_add(int ep, int fd, uint64_t tag)
{
	struct epoll_event e = { .events = EPOLLIN, .data.u64 = tag };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0 ? -errno : 0;
}

int daemon_loop_open(int *ep, int *sig_fd, int *tick_fd, uint64_t sig_tag, uint64_t tick_tag)
{
	struct itimerspec tick = { { 1, 0 }, { 1, 0 } };
	sigset_t sigs;
	int err;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	*ep = epoll_create1(EPOLL_CLOEXEC);
	*sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	*tick_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (*ep < 0 || *sig_fd < 0 || *tick_fd < 0 || timerfd_settime(*tick_fd, 0, &tick, NULL) < 0)
		return -errno;
	if ((err = ep_add(*ep, *sig_fd, sig_tag)) < 0 || (err = ep_add(*ep, *tick_fd, tick_tag)) < 0)
		return err;
	return 0;
}
