/* atomicfile.h - replace a file all at once: readers see the old contents
 * or the new, never a part, even after a crash.
 */
#ifndef WS_ATOMICFILE_H
#define WS_ATOMICFILE_H

#include <stdio.h>
#include <sys/types.h>

#include "error.h"

/* Writes the new contents to f: 0, or -1 with err set. */
typedef int (*ws_file_writer)(FILE *f, void *ctx, ws_err *err);

/* Write a temporary file in path's directory with write(), give it mode
 * less the umask (as open(2) would),
 * fsync it, rename it over path and fsync the directory. 0, or -1 with err
 * ("cannot write '<path>': <reason>"); then path is unchanged, the temporary
 * file removed and no descriptor left open. */
int ws_file_replace(const char *path, mode_t mode, ws_file_writer write, void *ctx, ws_err *err);

#endif
