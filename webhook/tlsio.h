/* tlsio.h - the socket transport under each connection's GnuTLS session,
 * and how a reply is written through it.
 *
 * libmicrohttpd gives GnuTLS the bare socket: GnuTLS then reads every TLS
 * record with two recv(2) (its 5-byte header, then the rest), and a reply
 * goes out as two records (header, body), each with its own sendmsg(2), a
 * TCP_CORK around them and a TCP_NODELAY setsockopt(2) to push them. On
 * this kind of VM a system call costs over a microsecond, and a second
 * record costs the client two more reads. This transport replaces GnuTLS's
 * pull and push functions on the session (gnutls_transport_set_*):
 *
 *  - read-ahead: one recv(2) of up to WH_TLSIO_AHEAD bytes serves a record's
 *    header and body (and what follows); larger reads go straight through.
 *  - one record per reply (wh_tlsio_reply, then wh_tlsio_reply_sent): the
 *    session is corked while libmicrohttpd hands header and body to GnuTLS,
 *    and uncorked once the request is complete, so they leave as a single
 *    record in a single sendmsg(2).
 *  - when that is not safe, coalescing: the header's record is kept back and
 *    leaves with the body's record, in one sendmsg(2).
 *
 * Why this cannot stall or lose a reply:
 *  - libmicrohttpd keeps reading a connection until GnuTLS answers
 *    GNUTLS_E_AGAIN, which it only does after a pull found the read-ahead
 *    buffer empty; so buffered bytes never wait for an epoll event that
 *    will not come.
 *  - The corked record is written after libmicrohttpd considers the reply
 *    sent, so nobody would retry it: it is only used when it cannot fail to
 *    go out at once, that is when nothing is queued in the socket (SIOCOUTQ
 *    is 0: every earlier reply was acknowledged, as it always is for a
 *    client that waits for each reply, which kube-apiserver does) and the
 *    record is small (Linux always accepts tcp_wmem[0], 4 KiB, into an
 *    empty send queue). If it still fails, the connection is shut down, so
 *    the client sees an error at once rather than waiting for the reply. It
 *    is not used on a connection that closes after the reply, as
 *    libmicrohttpd would send its TLS close_notify before the record.
 *  - A held header record is always followed by the body's: libmicrohttpd
 *    writes the body as soon as the header is accepted. If the socket is
 *    full, the body's push reports EAGAIN and libmicrohttpd retries it on
 *    EPOLLOUT, which flushes the held bytes first.
 *
 * The read deadline (--read-timeout): libmicrohttpd's own timeout only
 * counts inactivity, so a client that trickles a request (a byte every
 * second) would hold its connection for good. Every read goes through
 * pull(), so the transport times each request: from the first byte read
 * after the previous request was answered (wh_tlsio_request_done), or from
 * the accept of a new connection (its TLS handshake and first request:
 * a client that connects and sends nothing, or trickles its ClientHello,
 * is closed then), until the request is answered. libmicrohttpd counts
 * its timeout from the accept until the handshake is done (it notes no
 * activity before), so the timeout set at attach stands until then. A
 * read after the deadline fails (ETIMEDOUT), which
 * makes libmicrohttpd close the connection. A client that stops sending
 * part-way is not read at all, so while a request is incomplete (a read
 * found nothing more), libmicrohttpd's timeout for the connection is set
 * to the time left (whole seconds, rounded up), and restored to the idle
 * timeout once the request is answered. A connection idle between
 * requests has no deadline: only the idle timeout applies. Costs: one
 * coarse clock read per request on a kept connection (when its first
 * bytes arrive), one per read until a new connection's first request is
 * answered; the timeout is changed twice per new connection (at attach
 * and after its first reply) and otherwise only for requests that do not
 * arrive in one read.
 *
 * One per connection, used by the connection's thread only. Sockets are
 * non-blocking (libmicrohttpd's), so nothing here blocks.
 */
#ifndef WH_TLSIO_H
#define WH_TLSIO_H

#include <gnutls/gnutls.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* A TLS record from kube-apiserver (Go sends ~1.4 KB records at first) or
 * a small review fits in one read. */
#define WH_TLSIO_AHEAD 4096
/* The largest record kept back: a reply header record (~250 bytes). */
#define WH_TLSIO_HOLD_MAX 1024
/* The largest body sent in one record with its header: header and body
 * stay well under the 4 KiB Linux always accepts. */
#define WH_TLSIO_ONE_RECORD_BODY 2048

typedef struct wh_tlsio {
	gnutls_session_t session; /* NULL until attached */
	int fd;
	int hold;                 /* keep the next record written */
	int corked;               /* a reply waits for wh_tlsio_reply_sent */
	struct MHD_Connection *con;
	unsigned read_timeout;    /* seconds; 0: no read deadline */
	unsigned idle_timeout;    /* seconds: libmicrohttpd's timeout between requests */
	unsigned timer;           /* libmicrohttpd's timeout now set for a request; 0: the idle one */
	int handshaking;          /* the TLS handshake is not finished */
	int timed_out;            /* a read came after the deadline */
	int timeout_note;         /* that read's failure is not yet explained away */
	unsigned refused;         /* status libmicrohttpd refused a request with, or 0 */
	int64_t deadline;         /* ms (CLOCK_MONOTONIC_COARSE); 0: no request being read */
	size_t ahead_off, ahead_len;
	size_t held_off, held_len;
	unsigned char held[WH_TLSIO_HOLD_MAX];
	unsigned char ahead[WH_TLSIO_AHEAD];
} wh_tlsio;

struct MHD_Connection;

/* Put t under session, which reads and writes socket fd for connection
 * con, whose requests must arrive within read_timeout seconds (0: no
 * limit); idle_timeout is con's libmicrohttpd timeout. */
void wh_tlsio_attach(wh_tlsio *t, gnutls_session_t session, int fd, struct MHD_Connection *con,
		     unsigned read_timeout, unsigned idle_timeout);

/* The request being read is complete and a reply is queued for it: its
 * deadline no longer applies. Call for every reply. */
void wh_tlsio_request_done(wh_tlsio *t);

/* 1 when the connection is being closed because its request did not
 * arrive in time (a read after the deadline failed, or libmicrohttpd's
 * timeout, set to the deadline, expired). For the close notification. */
int wh_tlsio_timed_out(const wh_tlsio *t);

/* The connection this thread last read or wrote, or NULL: the one
 * libmicrohttpd is processing when it logs something about "the"
 * connection (its log callback does not say which). */
wh_tlsio *wh_tlsio_current(void);

/* t is going away (its connection closed): forget it as the current one. */
void wh_tlsio_detach(wh_tlsio *t);

/* 1 (once) when a read of the current connection failed by the deadline:
 * libmicrohttpd then logs a read or handshake error of its own, which the
 * server leaves out (it logs the close itself). */
int wh_tlsio_take_timeout_note(void);

/* A reply with a body of `body` bytes (not 0) has just been queued; `last`
 * when the connection closes after it. Call wh_tlsio_reply_sent once the
 * request is complete (libmicrohttpd's completion callback). */
void wh_tlsio_reply(wh_tlsio *t, size_t body, int last);

/* The request is over: send the reply's record if it was corked and the
 * request completed (ok), else drop it (the connection is being closed).
 * Fails when it could not be sent (the client went away); the connection
 * is then shut down. */
int wh_tlsio_reply_sent(wh_tlsio *t, int ok, ws_err *err);

#endif
