/* config.c - flags and platform settings of workspace-webhook (see config.h). */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"

#define VERSION "0.1.0"

static const char usage[] =
	"usage: workspace-webhook --tls-cert-file FILE --tls-private-key-file FILE [options]\n"
	"\n"
	"Mutating and validating admission webhook for Flyte workspaces: POST /mutate,\n"
	"POST /validate (AdmissionReview admission.k8s.io/v1), GET /healthz, /readyz, /metrics.\n"
	"\n"
	"server:\n"
	"  --listen HOST:PORT          address to serve HTTPS on (default :8443; [::1]:8443 for IPv6)\n"
	"  --tls-cert-file FILE        PEM certificate chain, reloaded when the file changes\n"
	"  --tls-private-key-file FILE PEM private key, reloaded with the certificate\n"
	"  --tls-priorities STRING     GnuTLS priority string (default: TLS 1.3 and 1.2,\n"
	"                              ECDHE with AES-GCM or ChaCha20-Poly1305)\n"
	"  --threads N                 worker threads (default: number of CPUs)\n"
	"  --max-connections N         concurrent connections (default 1024)\n"
	"  --max-connections-per-client N\n"
	"                              concurrent connections from one IP address (default 256)\n"
	"  --max-review-memory MIB     memory for the reviews in flight: bodies, their parsed\n"
	"                              trees, replies (default 32); past it, 429 and Retry-After\n"
	"  --idle-timeout SECONDS      close connections idle this long (default 95: longer than\n"
	"                              kube-apiserver's 90 s, so the client closes first)\n"
	"  --read-timeout SECONDS      longest time for a whole request to arrive, from its first\n"
	"                              byte, and for a new connection's TLS handshake and first\n"
	"                              request, from its accept (default 10; 0: no limit)\n"
	"  --shutdown-delay SECONDS    after SIGTERM, keep accepting and serving connections this\n"
	"                              long with /readyz 503 and Connection: close, then drain\n"
	"                              (default 0; a second signal skips it)\n"
	"  --shutdown-timeout SECONDS  on SIGTERM, longest wait for in-flight requests (default 25)\n"
	"\n"
	"platform (override the --config file):\n"
	"  --config FILE               platform settings (platform.yaml, as in the\n"
	"                              workspace-platform ConfigMap)\n"
	"  --namespace-template T      workspace namespace template (default flyte-{{ project }});\n"
	"                              must equal flyteadmin's namespace_mapping.template\n"
	"  --domain NAME               a Flyte domain (repeatable; replaces the configured list)\n"
	"  --default-domain NAME       FLYTE_DEFAULT_DOMAIN for pods without a domain label\n"
	"  --default-tier NAME         tier for namespaces without a tier annotation\n"
	"  --flyte-endpoint URL        FLYTE_PLATFORM_URL injected into pods (default: none)\n"
	"  --quota-manager ID          user, or group:NAME, allowed to change workspace quotas\n"
	"                              (repeatable; replaces the configured list)\n"
	"\n"
	"  --help                      this text\n"
	"  --version                   print the version\n";

enum {
	O_LISTEN = 256, O_CERT, O_KEY, O_PRIO, O_THREADS, O_MAXCONN, O_IDLE, O_SHUTDOWN,
	O_READ, O_DELAY, O_PERCLIENT, O_MEMORY,
	O_CONFIG, O_TEMPLATE, O_DOMAIN, O_DEFDOMAIN, O_DEFTIER, O_ENDPOINT, O_QUOTA, O_HELP,
	O_VERSION
};

static const struct option options[] = {
	{"listen", required_argument, NULL, O_LISTEN},
	{"tls-cert-file", required_argument, NULL, O_CERT},
	{"tls-private-key-file", required_argument, NULL, O_KEY},
	{"tls-priorities", required_argument, NULL, O_PRIO},
	{"threads", required_argument, NULL, O_THREADS},
	{"max-connections", required_argument, NULL, O_MAXCONN},
	{"max-connections-per-client", required_argument, NULL, O_PERCLIENT},
	{"max-review-memory", required_argument, NULL, O_MEMORY},
	{"idle-timeout", required_argument, NULL, O_IDLE},
	{"shutdown-timeout", required_argument, NULL, O_SHUTDOWN},
	{"read-timeout", required_argument, NULL, O_READ},
	{"shutdown-delay", required_argument, NULL, O_DELAY},
	{"config", required_argument, NULL, O_CONFIG},
	{"namespace-template", required_argument, NULL, O_TEMPLATE},
	{"domain", required_argument, NULL, O_DOMAIN},
	{"default-domain", required_argument, NULL, O_DEFDOMAIN},
	{"default-tier", required_argument, NULL, O_DEFTIER},
	{"flyte-endpoint", required_argument, NULL, O_ENDPOINT},
	{"quota-manager", required_argument, NULL, O_QUOTA},
	{"help", no_argument, NULL, O_HELP},
	{"version", no_argument, NULL, O_VERSION},
	{NULL, 0, NULL, 0},
};

static int parse_uint(const char *flag, const char *s, unsigned min, unsigned max, unsigned *out,
		      ws_err *err)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < min || v > max)
		return ws_fail(err, WS_E_INVALID, "--%s '%s': expected a whole number from %u to %u",
			       flag, s, min, max);
	*out = (unsigned)v;
	return 0;
}

static int parse_listen(wh_config *cfg, const char *s, ws_err *err)
{
	const char *colon = strrchr(s, ':');
	const char *host = s;
	size_t hlen;
	unsigned port;

	if (!colon)
		return ws_fail(err, WS_E_INVALID, "--listen '%s': expected HOST:PORT (or :PORT)", s);
	hlen = (size_t)(colon - s);
	if (hlen >= 2 && s[0] == '[' && s[hlen - 1] == ']') {
		host++;
		hlen -= 2;
	}
	if (hlen >= sizeof(cfg->host))
		return ws_fail(err, WS_E_INVALID, "--listen '%s': host too long", s);
	if (parse_uint("listen", colon + 1, 0, 65535, &port, err))
		return ws_err_prefix(err, "port");
	memcpy(cfg->host, host, hlen);
	cfg->host[hlen] = '\0';
	cfg->port = (unsigned short)port;
	return 0;
}

/* Flags that override platform settings, as a platform.yaml overlay, so
 * they get exactly the validation of the config file. */
static cJSON *overlay_list(cJSON *overlay, const char *key, const char *value)
{
	cJSON *list = cJSON_GetObjectItemCaseSensitive(overlay, key);

	if (!list)
		list = cJSON_AddArrayToObject(overlay, key);
	cJSON_AddItemToArray(list, cJSON_CreateString(value));
	return list;
}

/* The CPUs this process may use: its affinity mask (a cpuset), capped by a
 * cgroup v2 CPU limit (cpu.max "QUOTA PERIOD", rounded up), as a pod with
 * resources.limits.cpu has. More workers than that only take turns. */
static long cpu_count(void)
{
	cpu_set_t set;
	long n = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set)
							       : sysconf(_SC_NPROCESSORS_ONLN);
	FILE *f = fopen("/sys/fs/cgroup/cpu.max", "r");
	long quota, period;

	if (f) {
		if (fscanf(f, "%ld %ld", &quota, &period) == 2 && quota > 0 && period > 0 &&
		    (quota + period - 1) / period < n)
			n = (quota + period - 1) / period;
		fclose(f);
	}
	return n > 0 ? n : 1;
}

int wh_config_parse(wh_config *cfg, int argc, char **argv, FILE *out, ws_err *err)
{
	cJSON *overlay = cJSON_CreateObject();
	const char *config_file = NULL;
	int c, rc = -1;

	memset(cfg, 0, sizeof(*cfg));
	cfg->port = 8443;
	cfg->priorities = WH_DEFAULT_PRIORITIES;
	cfg->threads = (unsigned)cpu_count();
	if (cfg->threads > 256)
		cfg->threads = 256;
	cfg->max_connections = 1024;
	cfg->max_per_client = 256;
	cfg->review_memory_mib = 32;
	cfg->idle_timeout = 95;
	cfg->read_timeout = 10;
	cfg->shutdown_timeout = 25;
	if (ws_platform_defaults(&cfg->platform, err))
		goto out;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		switch (c) {
		case O_LISTEN:
			if (parse_listen(cfg, optarg, err))
				goto out;
			break;
		case O_CERT:
			cfg->cert_file = optarg;
			break;
		case O_KEY:
			cfg->key_file = optarg;
			break;
		case O_PRIO:
			cfg->priorities = optarg;
			break;
		case O_THREADS:
			if (parse_uint("threads", optarg, 1, 256, &cfg->threads, err))
				goto out;
			break;
		case O_MAXCONN:
			if (parse_uint("max-connections", optarg, 1, 65536, &cfg->max_connections, err))
				goto out;
			break;
		case O_PERCLIENT:
			if (parse_uint("max-connections-per-client", optarg, 1, 65536,
				       &cfg->max_per_client, err))
				goto out;
			break;
		case O_MEMORY:
			if (parse_uint("max-review-memory", optarg, 4, 65536, &cfg->review_memory_mib,
				       err))
				goto out;
			break;
		case O_IDLE:
			if (parse_uint("idle-timeout", optarg, 1, 86400, &cfg->idle_timeout, err))
				goto out;
			break;
		case O_SHUTDOWN:
			if (parse_uint("shutdown-timeout", optarg, 0, 3600, &cfg->shutdown_timeout, err))
				goto out;
			break;
		case O_READ:
			if (parse_uint("read-timeout", optarg, 0, 3600, &cfg->read_timeout, err))
				goto out;
			break;
		case O_DELAY:
			if (parse_uint("shutdown-delay", optarg, 0, 3600, &cfg->shutdown_delay, err))
				goto out;
			break;
		case O_CONFIG:
			config_file = optarg;
			break;
		case O_TEMPLATE:
			ws_json_set_str(overlay, "namespaceTemplate", optarg);
			break;
		case O_DOMAIN:
			overlay_list(overlay, "domains", optarg);
			break;
		case O_DEFDOMAIN:
			ws_json_set_str(overlay, "defaultDomain", optarg);
			break;
		case O_DEFTIER:
			ws_json_set_str(overlay, "defaultTier", optarg);
			break;
		case O_ENDPOINT:
			if (strncmp(optarg, "https://", 8) != 0 && strncmp(optarg, "http://", 7) != 0 &&
			    strncmp(optarg, "dns:///", 7) != 0) {
				ws_fail(err, WS_E_INVALID,
					"--flyte-endpoint '%s': expected https://HOST[:PORT], "
					"http://HOST[:PORT] or dns:///HOST:PORT",
					optarg);
				goto out;
			}
			ws_json_set_str(ws_json_obj(overlay, "flyte"), "endpoint", optarg);
			break;
		case O_QUOTA:
			if (!*optarg || strcmp(optarg, "group:") == 0) {
				ws_fail(err, WS_E_INVALID, "--quota-manager: expected a user name or group:NAME");
				goto out;
			}
			overlay_list(overlay, "quotaManagers", optarg);
			break;
		case O_HELP:
			fputs(usage, out);
			rc = 1;
			goto out;
		case O_VERSION:
			fprintf(out, "workspace-webhook %s\n", VERSION);
			rc = 1;
			goto out;
		case ':':
			ws_fail(err, WS_E_INVALID, "%s needs a value (see --help)", argv[optind - 1]);
			goto out;
		default:
			ws_fail(err, WS_E_INVALID, "unknown option '%s' (see --help)", argv[optind - 1]);
			goto out;
		}
	}
	if (optind < argc) {
		ws_fail(err, WS_E_INVALID, "unexpected argument '%s' (see --help)", argv[optind]);
		goto out;
	}
	if (!cfg->cert_file || !cfg->key_file) {
		ws_fail(err, WS_E_INVALID,
			"--tls-cert-file and --tls-private-key-file are required (see --help)");
		goto out;
	}
	if (config_file && ws_platform_load_file(&cfg->platform, config_file, err))
		goto out;
	if (cJSON_GetArraySize(overlay) > 0 && ws_platform_apply(&cfg->platform, overlay, err)) {
		ws_err_prefix(err, "flags");
		goto out;
	}
	rc = 0;
out:
	cJSON_Delete(overlay);
	if (rc < 0 || rc == 1)
		wh_config_release(cfg);
	return rc;
}

void wh_config_release(wh_config *cfg)
{
	ws_platform_release(&cfg->platform);
}
