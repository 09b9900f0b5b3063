/* controller_cli.h - `workspace-webhook --controller`: the front end of the
 * reconcile loop of shared/controller.h (the record is the source of truth).
 * Connects to the cluster (kubeconfig, or in-cluster) and to Flyte Admin,
 * reads the platform settings from the cluster, runs the loop until SIGTERM
 * or SIGINT, and logs every reconcile as a JSON line.
 */
#ifndef WH_CONTROLLER_CLI_H
#define WH_CONTROLLER_CLI_H

/* 1 when argv asks for controller mode. */
int wh_controller_wanted(int argc, char **argv);

/* Run it; returns the exit status (0 clean stop, 1 failure, 2 bad usage). */
int wh_controller_main(int argc, char **argv);

#endif
