/* lib/daemon and keyfile_identity: what both daemons do at start. The signal
 * mask, the loop's signalfd and 1 s tick under their tags, the identity loaded
 * or created with its public key and base64. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/daemon.h"
#include "lib/time.h"
#include "wg/crypto.h"
#include "wg/keyfile.h"

/* wider than 32 bits: the tags are data.u64 */
#define TAG_SIG 0x100000001ull
#define TAG_TICK 0x200000002ull

static void test_loop(void **state)
{
	int ep = -1, sig_fd = -1, tick_fd = -1;
	bool got_sig = false, got_tick = false;
	uint64_t deadline;
	sigset_t cur;

	(void)state;
	daemon_block_signals();
	assert_int_equal(pthread_sigmask(SIG_BLOCK, NULL, &cur), 0);
	assert_true(sigismember(&cur, SIGTERM) && sigismember(&cur, SIGINT) &&
		    sigismember(&cur, SIGPIPE));
	assert_int_equal(daemon_loop_open(&ep, &sig_fd, &tick_fd, TAG_SIG, TAG_TICK), 0);
	assert_true(ep >= 0 && sig_fd >= 0 && tick_fd >= 0);
	assert_true(fcntl(sig_fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(tick_fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(ep, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(kill(getpid(), SIGTERM), 0); /* blocked: it waits on the signalfd */

	deadline = time_mono_ns() + 3 * NSEC_PER_SEC; /* the tick is 1 s */
	while ((!got_sig || !got_tick) && time_mono_ns() < deadline) {
		struct epoll_event ev[4];
		int n = epoll_wait(ep, ev, 4, 100);

		for (int i = 0; i < n; i++) {
			if (ev[i].data.u64 == TAG_SIG) {
				struct signalfd_siginfo si;

				assert_int_equal(read(sig_fd, &si, sizeof(si)), (ssize_t)sizeof(si));
				assert_int_equal(si.ssi_signo, SIGTERM);
				got_sig = true;
			} else {
				uint64_t v;

				assert_true(ev[i].data.u64 == TAG_TICK);
				assert_int_equal(read(tick_fd, &v, sizeof(v)), (ssize_t)sizeof(v));
				got_tick = true;
			}
		}
	}
	assert_true(got_sig);
	assert_true(got_tick);
	close(tick_fd);
	close(sig_fd);
	close(ep);
}

static void test_identity(void **state)
{
	char dir[] = "/tmp/sluice-identity-XXXXXX", sub[64], path[96];
	uint8_t priv[32], pub[32], priv2[32], pub2[32], want[32];
	char b64[45], b64_2[45], want_b64[45];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/state", dir);
	snprintf(path, sizeof(path), "%s/private.key", sub);
	assert_int_equal(keyfile_identity(sub, priv, pub, b64), 0); /* created */
	assert_int_equal(wg_key_public(want, priv), 0);
	assert_memory_equal(pub, want, 32);
	wg_key_to_base64(want_b64, pub);
	assert_string_equal(b64, want_b64);
	assert_int_equal(keyfile_identity(sub, priv2, pub2, b64_2), 0); /* loaded */
	assert_memory_equal(priv, priv2, 32);
	assert_memory_equal(pub, pub2, 32);
	assert_string_equal(b64, b64_2);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(keyfile_identity(sub, priv2, pub2, b64_2), -EPERM);
	unlink(path);
	rmdir(sub);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loop),
		cmocka_unit_test(test_identity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
