/* cmd.h - the subcommands of workspace-certs, one file each. To add one:
 * write `int cmd_NAME(int argc, char **argv)` (argv[0] is the subcommand;
 * return the exit status: 0 ok, 1 failed, 2 bad usage) and add it to the
 * table in main.c. */
#ifndef CERTS_CMD_H
#define CERTS_CMD_H

#include "error.h"

int cmd_generate(int argc, char **argv);
int cmd_rotate(int argc, char **argv);
int cmd_inject_ca(int argc, char **argv);
int cmd_check(int argc, char **argv);

/* Print "workspace-certs: error: <msg>" to stderr and return status. */
int certs_error(int status, const ws_err *err);

/* getopt(3)'s answer c was '?' or ':': say which option and why; returns 2. */
int certs_bad_option(int c, char **argv);

/* After the options: 0 when the required flag has a value and nothing
 * follows; else says what is wrong ("<required> is required", "unexpected
 * argument") and returns 2. */
int certs_rest(int argc, const char *value, const char *required);

#endif
