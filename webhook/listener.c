/* listener.c - the listening socket and its accept thread (see listener.h). */
#include "listener.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* After accept(2) fails for want of descriptors or memory, wait this long
 * before the next try (the socket stays readable: no busy loop). */
#define PAUSE_MS 100

struct wh_listener {
	int fd;      /* the listening socket; -1 once closed */
	int wake[2]; /* a byte written to wake[1] wakes the accept thread */
	atomic_int stopping;
	pthread_t thread;
	int running;
	unsigned short port;
	wh_listener_hand_fn hand;
	wh_listener_room_fn room;
	void *cls;
};

/* A socket bound to addr and listening; -1 with errno on failure. AF_INET6
 * sockets take IPv4 too when dual, else IPv6 only. */
static int bound_socket(const struct sockaddr *addr, socklen_t len, int dual)
{
	int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int on = 1, v6only = !dual, saved;

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == 0 &&
	    (addr->sa_family != AF_INET6 ||
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) == 0) &&
	    bind(fd, addr, len) == 0 && listen(fd, SOMAXCONN) == 0)
		return fd;
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

static int open_any(unsigned short port)
{
	struct sockaddr_in6 six = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
	struct sockaddr_in four = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd;

	six.sin6_addr = in6addr_any;
	four.sin_addr.s_addr = htonl(INADDR_ANY);
	fd = bound_socket((struct sockaddr *)&six, sizeof(six), 1);
	if (fd < 0 && (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL))
		fd = bound_socket((struct sockaddr *)&four, sizeof(four), 0);
	return fd;
}

static int open_host(const char *host, unsigned short port, ws_err *err)
{
	struct addrinfo hints = {0}, *ai = NULL;
	char service[8];
	int rc, fd;

	snprintf(service, sizeof(service), "%u", port);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host, service, &hints, &ai);
	if (rc != 0)
		return ws_fail(err, WS_E_INVALID, "cannot listen on '%s': %s", host, gai_strerror(rc));
	fd = bound_socket(ai->ai_addr, ai->ai_addrlen, 0);
	freeaddrinfo(ai);
	return fd;
}

wh_listener *wh_listener_open(const char *host, unsigned short port, ws_err *err)
{
	wh_listener *l = calloc(1, sizeof(*l));
	struct sockaddr_storage bound;
	socklen_t len = sizeof(bound);

	if (!l) {
		ws_fail(err, WS_E_INTERNAL, "out of memory");
		return NULL;
	}
	l->wake[0] = l->wake[1] = -1;
	ws_err_clear(err);
	errno = 0;
	l->fd = host[0] ? open_host(host, port, err) : open_any(port);
	if (l->fd < 0) {
		if (err->kind == WS_E_NONE)
			ws_fail(err, WS_E_IO, "cannot listen on %s:%u: %s", host[0] ? host : "*", port,
				strerror(errno));
		free(l);
		return NULL;
	}
	if (getsockname(l->fd, (struct sockaddr *)&bound, &len) == 0)
		l->port = ntohs(bound.ss_family == AF_INET6
					? ((struct sockaddr_in6 *)&bound)->sin6_port
					: ((struct sockaddr_in *)&bound)->sin_port);
	return l;
}

unsigned short wh_listener_port(const wh_listener *l)
{
	return l->port;
}

/* accept(2) failed for want of descriptors or memory: say so at most every
 * 10 s (a flood would otherwise write a line per try). */
static void cannot_accept(int eno)
{
	static atomic_long last_log = -10;

	if (!wh_log_due(&last_log, 10))
		return;
	wh_log("error", "cannot accept connections: %s (new connections wait in the backlog)",
	       strerror(eno));
}

/* Accept what is pending while there is room; returns the poll timeout
 * before the next round (-1: until the socket or the wake pipe stirs). */
static int accept_pending(wh_listener *l)
{
	while (l->room(l->cls)) {
		struct sockaddr_storage addr;
		socklen_t len = sizeof(addr);
		int fd = accept4(l->fd, (struct sockaddr *)&addr, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			l->hand(l->cls, fd, (struct sockaddr *)&addr, len);
			continue;
		}
		switch (errno) {
		case EAGAIN:
			return -1;
		/* the client gave up, a signal, or a network error of that
		 * connection passed on by Linux (accept(2)): try the next */
		case ECONNABORTED:
		case EINTR:
		case EPROTO:
		case EPERM:
		case ENETDOWN:
		case ENOPROTOOPT:
		case EHOSTDOWN:
		case ENONET:
		case EHOSTUNREACH:
		case EOPNOTSUPP:
		case ENETUNREACH:
		case ETIMEDOUT:
			continue;
		default: /* out of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM) */
			cannot_accept(errno);
			return PAUSE_MS;
		}
	}
	return -1;
}

static void drain_pipe(int fd)
{
	char buf[64];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* Watches the wake pipe always, and the listening socket while there is
 * room and accept(2) is not paused. */
static void *accept_loop(void *arg)
{
	wh_listener *l = arg;
	int pause = -1;

	for (;;) {
		struct pollfd p[2] = {{.fd = l->wake[0], .events = POLLIN},
				      {.fd = l->fd, .events = POLLIN}};
		int listening = pause < 0 && l->room(l->cls);

		if (poll(p, listening ? 2 : 1, pause) < 0)
			continue; /* EINTR */
		pause = -1;
		if (p[0].revents) {
			drain_pipe(l->wake[0]);
			if (atomic_load(&l->stopping))
				return NULL;
		}
		if (!listening || p[1].revents)
			pause = accept_pending(l);
	}
}

int wh_listener_run(wh_listener *l, wh_listener_hand_fn hand, wh_listener_room_fn room,
		    void *cls, ws_err *err)
{
	int rc;

	if (pipe2(l->wake, O_CLOEXEC | O_NONBLOCK) != 0)
		return ws_fail(err, WS_E_IO, "cannot start accepting: pipe: %s", strerror(errno));
	l->hand = hand;
	l->room = room;
	l->cls = cls;
	rc = pthread_create(&l->thread, NULL, accept_loop, l);
	if (rc != 0)
		return ws_fail(err, WS_E_IO, "cannot start accepting: %s", strerror(rc));
	l->running = 1;
	return 0;
}

void wh_listener_wake(wh_listener *l)
{
	ssize_t n;

	/* a full pipe already wakes the thread: EAGAIN is fine */
	do
		n = write(l->wake[1], "x", 1);
	while (n < 0 && errno == EINTR);
}

void wh_listener_close(wh_listener *l)
{
	if (l->running) {
		atomic_store(&l->stopping, 1);
		wh_listener_wake(l);
		pthread_join(l->thread, NULL);
		l->running = 0;
	}
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

void wh_listener_free(wh_listener *l)
{
	if (!l)
		return;
	wh_listener_close(l);
	/* the wake pipe lives until now: wh_listener_wake may still be called
	 * after wh_listener_close */
	for (int i = 0; i < 2; i++)
		if (l->wake[i] >= 0)
			close(l->wake[i]);
	free(l);
}
