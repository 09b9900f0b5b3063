/* config.h - command line of workspace-webhook: server settings, and the
 * platform settings the rules need (namespace template, domains, Flyte
 * endpoint, quota managers, tiers). The platform comes from the built-in
 * defaults, then --config FILE (the platform.yaml of platform.h, the same
 * file the plugin reads from the workspace-platform ConfigMap), then the
 * flags, which override it. Parsed once at start; read-only afterwards.
 */
#ifndef WH_CONFIG_H
#define WH_CONFIG_H

#include <stdio.h>

#include "error.h"
#include "platform.h"

#define WH_DEFAULT_PRIORITIES                                                                \
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:" \
	"+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-RSA:+ECDHE-ECDSA"

typedef struct wh_config {
	char host[256];            /* "" listens on every address */
	unsigned short port;       /* 0 picks a free port (logged at start) */
	const char *cert_file;     /* borrowed from argv */
	const char *key_file;
	const char *priorities;
	unsigned int threads;      /* default: online CPUs */
	unsigned int max_connections;
	unsigned int max_per_client;   /* connections from one IP address */
	unsigned int review_memory_mib; /* budget.h's cap */
	unsigned int idle_timeout; /* seconds */
	unsigned int read_timeout;     /* seconds for a whole request to arrive; 0: no limit */
	unsigned int shutdown_timeout;
	unsigned int shutdown_delay;   /* seconds still served, unready, after SIGTERM */
	ws_platform platform;      /* owned */
} wh_config;

/* Parse argv. Returns 0 to run, 1 when --help or --version printed to out,
 * -1 with a message naming the flag. cfg is released on failure. */
int wh_config_parse(wh_config *cfg, int argc, char **argv, FILE *out, ws_err *err);
void wh_config_release(wh_config *cfg);

#endif
