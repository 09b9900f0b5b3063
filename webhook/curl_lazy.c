/* curl_lazy.c - libcurl for --controller mode, loaded on first use.
 *
 * The admission server never calls libcurl, but a binary linked with it
 * loads it and the two dozen libraries it depends on (OpenSSL, Kerberos,
 * LDAP, SSH, HTTP/2...) at start: 3.3 MB of resident memory in every
 * webhook replica, a third of its budget (webhook/README.md, "Speed"). So
 * bin/workspace-webhook is linked without -lcurl, and this file defines the
 * libcurl functions libworkspace calls (shared/http.c, k8s.c, flyte.c):
 * each looks up the real one in libcurl.so.4, opened on the first call,
 * which only the controller mode makes.
 *
 * A libcurl function libworkspace starts calling must be added here, or
 * the link of bin/workspace-webhook fails with an undefined reference.
 * If libcurl cannot be loaded, curl_global_init (ws_http_global_init's
 * first call) fails with the reason on stderr; any other function aborts.
 */
#define CURL_DISABLE_TYPECHECK /* curl_easy_setopt is defined here, not a macro */
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static void *lib;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void open_lib(void)
{
	lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		fprintf(stderr, "workspace-webhook: cannot load libcurl: %s\n", dlerror());
}

/* The real function, or NULL when libcurl is missing. */
static void *find(const char *name)
{
	pthread_once(&once, open_lib);
	return lib ? dlsym(lib, name) : NULL;
}

static void *need(const char *name)
{
	void *f = find(name);

	if (!f) {
		fprintf(stderr, "workspace-webhook: libcurl has no %s\n", name);
		abort();
	}
	return f;
}

#define FORWARD(ret, name, params, args)                      \
	ret name params                                       \
	{                                                     \
		return ((ret(*) params)need(#name))args;      \
	}

FORWARD(void, curl_easy_cleanup, (CURL *h), (h))
FORWARD(char *, curl_easy_escape, (CURL *h, const char *s, int n), (h, s, n))
FORWARD(CURL *, curl_easy_init, (void), ())
FORWARD(CURLcode, curl_easy_perform, (CURL *h), (h))
FORWARD(void, curl_easy_reset, (CURL *h), (h))
FORWARD(const char *, curl_easy_strerror, (CURLcode c), (c))
FORWARD(void, curl_free, (void *p), (p))
FORWARD(CURLMcode, curl_multi_add_handle, (CURLM *m, CURL *h), (m, h))
FORWARD(CURLMcode, curl_multi_cleanup, (CURLM *m), (m))
FORWARD(CURLMsg *, curl_multi_info_read, (CURLM *m, int *left), (m, left))
FORWARD(CURLM *, curl_multi_init, (void), ())
FORWARD(CURLMcode, curl_multi_perform, (CURLM *m, int *running), (m, running))
FORWARD(CURLMcode, curl_multi_poll,
	(CURLM *m, struct curl_waitfd fds[], unsigned int n, int ms, int *numfds),
	(m, fds, n, ms, numfds))
FORWARD(CURLMcode, curl_multi_remove_handle, (CURLM *m, CURL *h), (m, h))
FORWARD(struct curl_slist *, curl_slist_append, (struct curl_slist *l, const char *s), (l, s))
FORWARD(void, curl_slist_free_all, (struct curl_slist *l), (l))
FORWARD(CURLU *, curl_url, (void), ())
FORWARD(void, curl_url_cleanup, (CURLU *u), (u))
FORWARD(CURLUcode, curl_url_get, (CURLU *u, CURLUPart what, char **part, unsigned int flags),
	(u, what, part, flags))
FORWARD(CURLUcode, curl_url_set,
	(CURLU *u, CURLUPart what, const char *part, unsigned int flags), (u, what, part, flags))

CURLcode curl_global_init(long flags)
{
	CURLcode (*fn)(long) = (CURLcode(*)(long))find("curl_global_init");

	return fn ? fn(flags) : CURLE_FAILED_INIT;
}

/* The variadic ones pass on their one argument, typed as libcurl reads it:
 * the option number says which type (CURLOPTTYPE_*). */
CURLcode curl_easy_setopt(CURL *h, CURLoption option, ...)
{
	CURLcode (*fn)(CURL *, CURLoption, ...) =
		(CURLcode(*)(CURL *, CURLoption, ...))need("curl_easy_setopt");
	CURLcode rc;
	va_list ap;

	va_start(ap, option);
	if (option < CURLOPTTYPE_OBJECTPOINT)
		rc = fn(h, option, va_arg(ap, long));
	else if (option < CURLOPTTYPE_FUNCTIONPOINT)
		rc = fn(h, option, va_arg(ap, void *));
	else if (option < CURLOPTTYPE_OFF_T)
		rc = fn(h, option, va_arg(ap, void (*)(void)));
	else if (option < CURLOPTTYPE_BLOB)
		rc = fn(h, option, va_arg(ap, curl_off_t));
	else
		rc = fn(h, option, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

CURLcode curl_easy_getinfo(CURL *h, CURLINFO info, ...)
{
	CURLcode (*fn)(CURL *, CURLINFO, ...) =
		(CURLcode(*)(CURL *, CURLINFO, ...))need("curl_easy_getinfo");
	CURLcode rc;
	va_list ap;

	va_start(ap, info);
	rc = fn(h, info, va_arg(ap, void *));
	va_end(ap);
	return rc;
}
