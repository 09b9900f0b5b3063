/* listener.h - the webhook's listening socket and the thread that accepts
 * its connections and hands them on (to libmicrohttpd: server.c).
 *
 * Why not libmicrohttpd's own listening socket: draining must stop new
 * connections while requests in flight finish, and the library's way,
 * MHD_quiesce_daemon, races its worker threads in epoll mode with a
 * thread pool (0.9.75, daemon.c:5531): the worker may take the socket out
 * of its epoll set first, and the quiesce then panics on ENOENT and
 * aborts the process mid-drain. Here the socket is ours: stopping the
 * thread and closing it makes the kernel refuse new connections at once.
 */
#ifndef WH_LISTENER_H
#define WH_LISTENER_H

#include <sys/socket.h>

#include "error.h"

typedef struct wh_listener wh_listener;

/* Called on the accept thread with each accepted socket (non-blocking,
 * close-on-exec), which it now owns. */
typedef void (*wh_listener_hand_fn)(void *cls, int fd, const struct sockaddr *addr,
				    socklen_t addrlen);

/* Called on the accept thread before each accept: non-zero when one more
 * connection may be taken now. While it says no, connections wait in the
 * kernel's backlog (their clients wait rather than fail) until
 * wh_listener_wake. */
typedef int (*wh_listener_room_fn)(void *cls);

/* Bind and listen on host:port (host "": every address, IPv6 and IPv4 where
 * the host has IPv6, else IPv4; port 0: any free port). Accepting starts
 * with wh_listener_run. */
wh_listener *wh_listener_open(const char *host, unsigned short port, ws_err *err);

/* The bound port. */
unsigned short wh_listener_port(const wh_listener *l);

/* Start the accept thread: every connection goes to hand(cls, ...) while
 * room(cls) allows. */
int wh_listener_run(wh_listener *l, wh_listener_hand_fn hand, wh_listener_room_fn room,
		    void *cls, ws_err *err);

/* There may be room again: the accept thread asks room() again. From any
 * thread; cheap (one write(2)). */
void wh_listener_wake(wh_listener *l);

/* Stop accepting and close the socket: from then on the kernel refuses
 * connections. Waits for the accept thread; may be called more than once.
 * wh_listener_wake stays safe to call until wh_listener_free. */
void wh_listener_close(wh_listener *l);

/* wh_listener_close, then free. NULL is ignored. */
void wh_listener_free(wh_listener *l);

#endif
