/* main.c - workspace-controller: flags, connections and signals; the loop
 * is reconciler.h's. Exit status: 0 after a clean stop (SIGTERM/SIGINT),
 * 1 when it cannot start, 2 on bad usage. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "health.h"
#include "log.h"
#include "platform.h"
#include "provision.h"
#include "reconciler.h"
#include "version.h"
#include "xalloc.h"

#define PROGRAM "workspace-controller"

static volatile sig_atomic_t stop_flag;

static const char usage[] =
	"usage: workspace-controller [options]\n"
	"\n"
	"Watches the workspace records and carries out what they say: a changed record is\n"
	"converged, a deleted one takes its namespaces with it and archives its Flyte project\n"
	"(a finalizer holds the record until then), and every workspace is converged again\n"
	"each resync period. Every action leaves an Event on the record. Replicas share the\n"
	"work through a Lease: only its holder acts.\n"
	"\n"
	"  --kubeconfig FILE         (default: KUBECONFIG, ~/.kube/config, else in-cluster)\n"
	"  --context NAME\n"
	"  --flyte-endpoint URL      Flyte Admin (else FLYTE_PLATFORM_URL, else the platform\n"
	"                            settings)\n"
	"  --health-listen HOST:PORT serve GET /healthz over plain HTTP: 200 while the loop\n"
	"                            turns, 503 when it has been stuck for 3 lease durations\n"
	"  --lease-seconds N         lease duration, at least 3 (default 15)\n"
	"  --resync-seconds N        full resync period (default 300)\n"
	"  --workers N               workspaces reconciled in parallel, 1-64 (default 4)\n"
	"  --identity ID             lease holder name (default: $POD_NAME, else the host name)\n"
	"  --system-namespace NS     where records and workspace-platform live (default\n"
	"                            workspace-system)\n"
	"  --config FILE             platform settings applied over the cluster's\n"
	"  --version, --help\n";

struct flags {
	const char *identity, *kubeconfig, *context, *system_ns, *endpoint, *config, *health;
	long lease, resync, workers;
};

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int bad_usage(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, PROGRAM ": error: ");
	fprintf(stderr, fmt, a, b);
	fprintf(stderr, " (see " PROGRAM " --help)\n");
	return -1;
}

static int parse_long(const char *flag, const char *s, long min, long max, long *out)
{
	char *end;
	char range[64];

	errno = 0;
	*out = strtol(s, &end, 10);
	if (errno || end == s || *end || *out < min || *out > max) {
		snprintf(range, sizeof(range), "expected a number from %ld to %ld", min, max);
		fprintf(stderr, PROGRAM ": error: %s '%s': %s\n", flag, s, range);
		return -1;
	}
	return 0;
}

/* 0 run, 1 help or version printed, -1 bad usage (reported). */
static int parse(int argc, char **argv, struct flags *f)
{
	static const struct option options[] = {
		{"kubeconfig", required_argument, NULL, 'k'},
		{"context", required_argument, NULL, 'c'},
		{"flyte-endpoint", required_argument, NULL, 'f'},
		{"health-listen", required_argument, NULL, 'H'},
		{"lease-seconds", required_argument, NULL, 'l'},
		{"resync-seconds", required_argument, NULL, 'r'},
		{"workers", required_argument, NULL, 'w'},
		{"identity", required_argument, NULL, 'i'},
		{"system-namespace", required_argument, NULL, 'n'},
		{"config", required_argument, NULL, 'p'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	memset(f, 0, sizeof(*f));
	f->lease = 15;
	f->resync = 300;
	f->workers = 4;
	f->system_ns = WS_DEFAULT_SYSTEM_NS;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (c) {
		case 'k': f->kubeconfig = optarg; break;
		case 'c': f->context = optarg; break;
		case 'f': f->endpoint = optarg; break;
		case 'H': f->health = optarg; break;
		case 'i': f->identity = optarg; break;
		case 'n': f->system_ns = optarg; break;
		case 'p': f->config = optarg; break;
		case 'l':
			if (parse_long("--lease-seconds", optarg, 3, 3600, &f->lease))
				return -1;
			break;
		case 'r':
			if (parse_long("--resync-seconds", optarg, 1, 86400 * 7, &f->resync))
				return -1;
			break;
		case 'w':
			if (parse_long("--workers", optarg, 1, 64, &f->workers))
				return -1;
			break;
		case 'V':
			printf(PROGRAM " %s\n", WS_VERSION);
			return 1;
		case 'h':
			fputs(usage, stdout);
			return 1;
		case ':':
			return bad_usage("flag needs an argument: %s%s", argv[optind - 1], "");
		default:
			return bad_usage("unknown flag: %s%s", argv[optind - 1], "");
		}
	}
	if (optind < argc)
		return bad_usage("unexpected argument '%s'%s", argv[optind], "");
	if (f->health && !strchr(f->health, ':'))
		return bad_usage("--health-listen '%s': expected HOST:PORT%s", f->health, "");
	return 0;
}

int main(int argc, char **argv)
{
	ws_kubeconfig_options ko = {0};
	ws_flyte_options fo = {0};
	ctl_options co = {0};
	ws_platform platform;
	ws_prov prov = {0};
	ws_flyte flyte;
	ws_k8s k8s, lease_k8s;
	char host[256], agent[320];
	struct flags f;
	struct sigaction sa;
	ws_err err;
	int rc = parse(argc, argv, &f), have_flyte = 0, health = 0, status = 1;

	if (rc)
		return rc > 0 ? 0 : 2;
	/* cJSON out of memory ends the process with a message (its Deployment
	 * restarts it): a plan (plan.c) built with a member silently missing
	 * would have apply prune the object that member stands for. */
	xalloc_cjson();
	if (!f.identity)
		f.identity = getenv("POD_NAME");
	if (!f.identity || !*f.identity) {
		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), PROGRAM "-%ld", (long)getpid());
		host[sizeof(host) - 1] = '\0';
		f.identity = host;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	ko.kubeconfig = f.kubeconfig;
	ko.context = f.context;
	if (ws_http_global_init(&err) || ws_k8s_open(&k8s, &ko, &err)) {
		ctl_log("error", NULL, "cannot start: %s", err.msg);
		return 1;
	}
	if (ws_k8s_open(&lease_k8s, &ko, &err)) {
		ctl_log("error", NULL, "cannot start: %s", err.msg);
		goto out_k8s;
	}
	/* Who sent what shows in the API server's audit log. */
	snprintf(agent, sizeof(agent), PROGRAM "/%s (%s)", WS_VERSION, f.identity);
	k8s.conn.target.user_agent = agent;
	lease_k8s.conn.target.user_agent = agent;
	snprintf(k8s.field_manager, sizeof(k8s.field_manager), "%s", PROGRAM);
	snprintf(lease_k8s.field_manager, sizeof(lease_k8s.field_manager), "%s", PROGRAM);
	if (ws_platform_from_cluster(&k8s, f.system_ns, &platform, &err) ||
	    (f.config && ws_platform_load_file(&platform, f.config, &err))) {
		ctl_log("error", NULL, "cannot start: %s", err.msg);
		goto out_lease;
	}
	ws_flyte_options_from_env(&fo);
	if (f.endpoint)
		fo.endpoint = f.endpoint;
	else if (!fo.endpoint || !*fo.endpoint)
		fo.endpoint = platform.flyte_endpoint;
	if (fo.endpoint && *fo.endpoint) {
		if (ws_flyte_open(&flyte, &fo, &err)) {
			ctl_log("error", NULL, "cannot start: %s", err.msg);
			goto out_platform;
		}
		flyte.target.user_agent = agent;
		have_flyte = 1;
	}
	if (f.health) {
		if (ctl_health_start(f.health, 3 * f.lease * 1000, &err)) {
			ctl_log("error", NULL, "cannot start: %s", err.msg);
			goto out_flyte;
		}
		health = 1;
	}
	prov.k8s = &k8s;
	prov.flyte = have_flyte ? &flyte : NULL;
	prov.platform = &platform;
	co.identity = f.identity;
	co.lease_seconds = f.lease;
	co.resync_seconds = f.resync;
	co.workers = (int)f.workers;
	co.stop = &stop_flag;
	ctl_log("info", NULL, "'%s' starting: records in '%s', flyte endpoint '%s', %d workers",
		f.identity, f.system_ns, have_flyte ? fo.endpoint : "", co.workers);
	if (ctl_run(&prov, &lease_k8s, &co, &err)) {
		ctl_log("error", NULL, "stopped: %s", err.msg);
	} else {
		ctl_log("info", NULL, "stopped");
		status = 0;
	}
	if (health)
		ctl_health_stop();
out_flyte:
	if (have_flyte)
		ws_flyte_close(&flyte);
out_platform:
	ws_platform_release(&platform);
out_lease:
	ws_k8s_close(&lease_k8s);
out_k8s:
	ws_k8s_close(&k8s);
	return status;
}
