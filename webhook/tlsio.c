/* tlsio.c - read-ahead and write-coalescing transport for GnuTLS (see tlsio.h). */
#include "tlsio.h"

#include <errno.h>
#include <linux/sockios.h>
#include <microhttpd.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

/* GnuTLS flushes at most 32 buffers per push (MAX_QUEUE); one more for the held record. */
#define PUSH_IOV_MAX 33

/* The clock libmicrohttpd's timeouts use: a read of the kernel's tick
 * count from the vDSO, without a system call. */
static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_timer(wh_tlsio *t, unsigned seconds)
{
	int saved = errno;

	t->timer = seconds;
	MHD_set_connection_option(t->con, MHD_CONNECTION_OPTION_TIMEOUT,
				  seconds ? seconds : t->idle_timeout);
	errno = saved;
}

static __thread wh_tlsio *current;

wh_tlsio *wh_tlsio_current(void)
{
	return current;
}

void wh_tlsio_detach(wh_tlsio *t)
{
	if (current == t)
		current = NULL;
}

int wh_tlsio_take_timeout_note(void)
{
	int was = current && current->timeout_note;

	if (was)
		current->timeout_note = 0;
	return was;
}

/* recv(2) under the read deadline. */
static ssize_t sock_recv(wh_tlsio *t, void *buf, size_t len)
{
	ssize_t got = recv(t->fd, buf, len, 0);
	int64_t now, left;

	if (!t->read_timeout || got == 0)
		return got;
	if (!t->deadline) {
		/* the first bytes of a later request on a kept connection (a new
		 * connection's deadline runs from its accept: wh_tlsio_attach) */
		if (got > 0)
			t->deadline = now_ms() + (int64_t)t->read_timeout * 1000;
		return got;
	}
	if (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
		return got;
	now = now_ms();
	left = t->deadline - now;
	if (left <= 0) {
		t->timed_out = 1;
		t->timeout_note = 1;
		errno = ETIMEDOUT;
		return -1;
	}
	/* The request is incomplete and the client may send nothing more:
	 * have libmicrohttpd close it at the deadline (it counts from the
	 * last read, which was just now; during the handshake from the accept,
	 * as the timer set then does). */
	if (got < 0 && !t->handshaking) {
		unsigned want = (unsigned)((left + 999) / 1000);

		if (want >= t->idle_timeout)
			want = 0; /* the idle timeout comes first anyway */
		if (want != t->timer)
			set_timer(t, want);
	}
	return got;
}

static ssize_t pull(gnutls_transport_ptr_t p, void *data, size_t len)
{
	wh_tlsio *t = p;
	size_t n;

	current = t;
	if (t->ahead_off == t->ahead_len) {
		ssize_t got;

		if (len >= sizeof(t->ahead))
			return sock_recv(t, data, len);
		got = sock_recv(t, t->ahead, sizeof(t->ahead));
		if (got <= 0)
			return got;
		t->ahead_off = 0;
		t->ahead_len = (size_t)got;
	}
	n = t->ahead_len - t->ahead_off;
	if (n > len)
		n = len;
	memcpy(data, t->ahead + t->ahead_off, n);
	t->ahead_off += n;
	return (ssize_t)n;
}

/* GnuTLS's own would poll the transport pointer as if it were the socket.
 * It only waits in blocking handshakes, which libmicrohttpd's non-blocking
 * sessions never do, but must be right if it ever does. */
static int pull_timeout(gnutls_transport_ptr_t p, unsigned int ms)
{
	wh_tlsio *t = p;
	struct pollfd pfd = {t->fd, POLLIN, 0};

	if (t->ahead_off < t->ahead_len)
		return 1;
	return poll(&pfd, 1, ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : (int)ms);
}

static ssize_t push(gnutls_transport_ptr_t p, const giovec_t *iov, int iovcnt)
{
	wh_tlsio *t = (current = p);
	struct iovec v[PUSH_IOV_MAX];
	struct msghdr msg = {0};
	size_t pending = t->held_len - t->held_off, total = 0;
	ssize_t sent;
	int i, n = 0;

	for (i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	if (t->hold) {
		t->hold = 0;
		if (!pending && total <= sizeof(t->held)) {
			t->held_off = t->held_len = 0;
			for (i = 0; i < iovcnt; i++) {
				memcpy(t->held + t->held_len, iov[i].iov_base, iov[i].iov_len);
				t->held_len += iov[i].iov_len;
			}
			return (ssize_t)total;
		}
	}
	if (pending) {
		v[n].iov_base = t->held + t->held_off;
		v[n++].iov_len = pending;
	}
	for (i = 0; i < iovcnt && n < PUSH_IOV_MAX; i++)
		v[n++] = iov[i];
	msg.msg_iov = v;
	msg.msg_iovlen = (size_t)n;
	sent = sendmsg(t->fd, &msg, MSG_NOSIGNAL);
	if (sent < 0 || !pending)
		return sent;
	if ((size_t)sent < pending)
		t->held_off += (size_t)sent;
	else
		t->held_off = t->held_len = 0;
	if ((size_t)sent <= pending) {
		/* None of this record went: the socket is full. GnuTLS keeps
		 * the record and libmicrohttpd retries it on EPOLLOUT. */
		errno = EAGAIN;
		return -1;
	}
	return sent - (ssize_t)pending;
}

/* GnuTLS calls this after each Finished message; the client's ends the
 * handshake. */
static int handshake_done(gnutls_session_t session, unsigned type, unsigned when,
			  unsigned incoming, const gnutls_datum_t *msg)
{
	wh_tlsio *t = gnutls_transport_get_ptr(session);

	(void)type;
	(void)when;
	(void)msg;
	if (incoming && t)
		t->handshaking = 0;
	return 0;
}

void wh_tlsio_attach(wh_tlsio *t, gnutls_session_t session, int fd, struct MHD_Connection *con,
		     unsigned read_timeout, unsigned idle_timeout)
{
	t->session = session;
	t->fd = fd;
	t->con = con;
	t->read_timeout = read_timeout;
	t->idle_timeout = idle_timeout;
	gnutls_transport_set_ptr(session, t);
	gnutls_transport_set_pull_function(session, pull);
	gnutls_transport_set_pull_timeout_function(session, pull_timeout);
	gnutls_transport_set_vec_push_function(session, push);
	t->handshaking = 1;
	gnutls_handshake_set_hook_function(session, GNUTLS_HANDSHAKE_FINISHED, GNUTLS_HOOK_POST,
					   handshake_done);
	/* A new connection's handshake and first request must arrive within
	 * the read timeout from its accept: a client that connects and stays
	 * silent gives up its slot then, not at the idle timeout. */
	if (read_timeout) {
		t->deadline = now_ms() + (int64_t)read_timeout * 1000;
		if (read_timeout < idle_timeout)
			set_timer(t, read_timeout);
	}
}

void wh_tlsio_request_done(wh_tlsio *t)
{
	t->deadline = 0;
	if (t->timer)
		set_timer(t, 0);
}

int wh_tlsio_timed_out(const wh_tlsio *t)
{
	/* libmicrohttpd's timer fires at the deadline or just after it */
	return t->timed_out || (t->deadline && now_ms() + 250 >= t->deadline);
}

void wh_tlsio_reply(wh_tlsio *t, size_t body, int last)
{
	int queued = -1;

	if (!t->session)
		return;
	if (!last && body <= WH_TLSIO_ONE_RECORD_BODY &&
	    ioctl(t->fd, SIOCOUTQ, &queued) == 0 && queued == 0) {
		gnutls_record_cork(t->session);
		t->corked = 1;
	} else {
		t->hold = 1;
	}
}

int wh_tlsio_reply_sent(wh_tlsio *t, int ok, ws_err *err)
{
	int rc;

	if (!t->corked)
		return 0;
	t->corked = 0;
	if (!ok)
		return 0;
	rc = gnutls_record_uncork(t->session, 0);
	if (rc >= 0)
		return 0;
	shutdown(t->fd, SHUT_RDWR);
	return ws_fail(err, WS_E_TRANSPORT, "cannot send a reply (%s): closing the connection",
		       gnutls_strerror(rc));
}
