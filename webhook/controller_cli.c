/* controller_cli.c - flags, connections and signals of controller mode (see
 * controller_cli.h); the loop itself is shared/controller.h's ws_controller_run. */
#include "controller_cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "controller.h"
#include "log.h"
#include "platform.h"
#include "provision.h"

static volatile sig_atomic_t stop_flag;
static volatile time_t heartbeat;
static long lease_period;

/* GET /healthz: 200 while the loop turns, 503 once it has been stuck for
 * three lease periods (a liveness probe then restarts the pod). */
static enum MHD_Result health(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **state)
{
	static const char ok[] = "ok\n", stuck[] = "the controller loop is stuck\n";
	int alive = time(NULL) - heartbeat <= 3 * lease_period;
	struct MHD_Response *r;
	enum MHD_Result ret;
	unsigned int code = alive ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE;

	(void)cls, (void)version, (void)upload, (void)upload_size, (void)state;
	if (strcmp(method, "GET") != 0)
		code = MHD_HTTP_METHOD_NOT_ALLOWED;
	else if (strcmp(url, "/healthz") != 0)
		code = MHD_HTTP_NOT_FOUND;
	r = MHD_create_response_from_buffer(code == MHD_HTTP_SERVICE_UNAVAILABLE ? sizeof(stuck) - 1
										  : sizeof(ok) - 1,
					    (void *)(code == MHD_HTTP_SERVICE_UNAVAILABLE ? stuck : ok),
					    MHD_RESPMEM_PERSISTENT);
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

/* Serve /healthz on HOST:PORT (":8081" for every address). */
static struct MHD_Daemon *start_health(const char *listen_on, ws_err *err)
{
	const char *colon = strrchr(listen_on, ':');
	struct sockaddr_in addr;
	struct MHD_Daemon *d;
	long port;
	char *end;

	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	port = colon ? strtol(colon + 1, &end, 10) : -1;
	if (!colon || end == colon + 1 || *end || port < 1 || port > 65535) {
		ws_fail(err, WS_E_INVALID, "--health-listen '%s': expected HOST:PORT", listen_on);
		return NULL;
	}
	addr.sin_port = htons((uint16_t)port);
	if (colon == listen_on) {
		addr.sin_addr.s_addr = htonl(INADDR_ANY);
	} else {
		char host[64];

		snprintf(host, sizeof(host), "%.*s", (int)(colon - listen_on), listen_on);
		if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
			ws_fail(err, WS_E_INVALID, "--health-listen '%s': host must be an IPv4 address",
				listen_on);
			return NULL;
		}
	}
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, (uint16_t)port, NULL,
			     NULL, health, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10, MHD_OPTION_END);
	if (!d)
		ws_fail(err, WS_E_IO, "--health-listen '%s': cannot listen", listen_on);
	return d;
}

static const char usage[] =
	"usage: workspace-webhook --controller [options]\n"
	"\n"
	"Watches the workspace records and carries out what they say: a changed record is\n"
	"converged, a deleted one takes its namespaces with it and archives its Flyte project,\n"
	"and every workspace is converged again each resync period. Replicas share the work\n"
	"through a Lease: only its holder acts.\n"
	"\n"
	"  --controller-identity ID  lease holder name (default: $POD_NAME, else the host name)\n"
	"  --lease-seconds N         lease duration (default 15)\n"
	"  --resync-seconds N        full resync period (default 300)\n"
	"  --kubeconfig FILE         (default: KUBECONFIG, ~/.kube/config, else in-cluster)\n"
	"  --context NAME\n"
	"  --system-namespace NS     where records and workspace-platform live (default\n"
	"                            workspace-system)\n"
	"  --flyte-endpoint URL      Flyte Admin (else FLYTE_PLATFORM_URL, else the platform\n"
	"                            settings)\n"
	"  --config FILE             platform settings applied over the cluster's\n"
	"  --health-listen HOST:PORT serve GET /healthz over plain HTTP: 200 while the loop\n"
	"                            turns, 503 when it has been stuck for 3 lease periods\n"
	"  --help\n";

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void on_reconcile(void *ctx, const char *id, const char *action, int rc, const char *msg)
{
	(void)ctx;
	wh_log(rc ? "error" : "info", "%s %s%s%s", action, id, msg && *msg ? ": " : "",
	       msg ? msg : "");
}

int wh_controller_wanted(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--controller") == 0)
			return 1;
	return 0;
}

static int parse_long(const char *flag, const char *s, long min, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	if (errno || end == s || *end || *out < min) {
		fprintf(stderr, "workspace-webhook: error: %s '%s': expected a number >= %ld\n", flag,
			s, min);
		return -1;
	}
	return 0;
}

struct flags {
	const char *identity, *kubeconfig, *context, *system_ns, *endpoint, *config, *health;
	long lease, resync;
};

/* 0 run, 1 help printed, -1 bad usage (reported). */
static int parse(int argc, char **argv, struct flags *f)
{
	static const struct option options[] = {
		{"controller", no_argument, NULL, 'C'},
		{"controller-identity", required_argument, NULL, 'i'},
		{"lease-seconds", required_argument, NULL, 'l'},
		{"resync-seconds", required_argument, NULL, 'r'},
		{"kubeconfig", required_argument, NULL, 'k'},
		{"context", required_argument, NULL, 'c'},
		{"system-namespace", required_argument, NULL, 'n'},
		{"flyte-endpoint", required_argument, NULL, 'f'},
		{"config", required_argument, NULL, 'p'},
		{"health-listen", required_argument, NULL, 'H'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	memset(f, 0, sizeof(*f));
	f->lease = 15;
	f->resync = 300;
	f->system_ns = WS_DEFAULT_SYSTEM_NS;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		switch (c) {
		case 'C':
			break;
		case 'i':
			f->identity = optarg;
			break;
		case 'l':
			if (parse_long("--lease-seconds", optarg, 2, &f->lease))
				return -1;
			break;
		case 'r':
			if (parse_long("--resync-seconds", optarg, 1, &f->resync))
				return -1;
			break;
		case 'k':
			f->kubeconfig = optarg;
			break;
		case 'c':
			f->context = optarg;
			break;
		case 'n':
			f->system_ns = optarg;
			break;
		case 'f':
			f->endpoint = optarg;
			break;
		case 'p':
			f->config = optarg;
			break;
		case 'H':
			f->health = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		default:
			fprintf(stderr, "workspace-webhook: error: %s: %s (see --controller --help)\n",
				argv[optind - 1], c == ':' ? "needs a value" : "unknown option");
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "workspace-webhook: error: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

int wh_controller_main(int argc, char **argv)
{
	ws_kubeconfig_options ko = {0};
	ws_flyte_options fo = {0};
	ws_controller_options co = {0};
	ws_platform platform;
	ws_prov prov = {0};
	ws_flyte flyte;
	ws_k8s k8s;
	char host[256];
	struct flags f;
	struct sigaction sa;
	ws_err err;
	struct MHD_Daemon *health_daemon = NULL;
	int rc = parse(argc, argv, &f), have_flyte = 0, status = 1;

	if (rc)
		return rc > 0 ? 0 : 2;
	if (!f.identity)
		f.identity = getenv("POD_NAME");
	if (!f.identity || !*f.identity) {
		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "workspace-controller-%ld", (long)getpid());
		host[sizeof(host) - 1] = '\0';
		f.identity = host;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	wh_log_start();

	ko.kubeconfig = f.kubeconfig;
	ko.context = f.context;
	if (ws_http_global_init(&err) || ws_k8s_open(&k8s, &ko, &err)) {
		wh_log("error", "cannot start the controller: %s", err.msg);
		goto out_log;
	}
	if (ws_platform_from_cluster(&k8s, f.system_ns, &platform, &err) ||
	    (f.config && ws_platform_load_file(&platform, f.config, &err))) {
		wh_log("error", "cannot start the controller: %s", err.msg);
		goto out_k8s;
	}
	ws_flyte_options_from_env(&fo);
	if (f.endpoint)
		fo.endpoint = f.endpoint;
	else if (!fo.endpoint || !*fo.endpoint)
		fo.endpoint = platform.flyte_endpoint;
	if (fo.endpoint && *fo.endpoint) {
		if (ws_flyte_open(&flyte, &fo, &err)) {
			wh_log("error", "cannot start the controller: %s", err.msg);
			goto out_platform;
		}
		have_flyte = 1;
	}
	prov.k8s = &k8s;
	prov.flyte = have_flyte ? &flyte : NULL;
	prov.platform = &platform;
	co.identity = f.identity;
	co.lease_seconds = f.lease;
	co.resync_seconds = f.resync;
	co.stop = &stop_flag;
	co.on_reconcile = on_reconcile;
	co.heartbeat = &heartbeat;
	heartbeat = time(NULL);
	lease_period = f.lease;
	if (f.health && !(health_daemon = start_health(f.health, &err))) {
		wh_log("error", "cannot start the controller: %s", err.msg);
		goto out_flyte;
	}
	wh_log("info", "controller '%s' starting (records in '%s', flyte endpoint '%s')",
	       f.identity, f.system_ns, have_flyte ? fo.endpoint : "");
	if (ws_controller_run(&prov, &co, &err)) {
		wh_log("error", "controller stopped: %s", err.msg);
	} else {
		wh_log("info", "controller stopped");
		status = 0;
	}
	if (health_daemon)
		MHD_stop_daemon(health_daemon);
out_flyte:
	if (have_flyte)
		ws_flyte_close(&flyte);
out_platform:
	ws_platform_release(&platform);
out_k8s:
	ws_k8s_close(&k8s);
out_log:
	wh_log_stop();
	return status;
}
