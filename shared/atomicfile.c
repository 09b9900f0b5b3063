/* atomicfile.c - temporary file, fsync, rename, fsync of the directory (see
 * atomicfile.h). */
#include "atomicfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* fsync the directory holding path, so that the rename is durable. */
static int sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	int fd, rc;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Fill the open temporary file and close it. -1 with err set by write(),
 * or with errno (err untouched) when flushing or closing failed. */
static int fill(FILE *f, ws_file_writer write, void *ctx, ws_err *err)
{
	int rc = write(f, ctx, err), e = 0;

	errno = 0;
	if (rc == 0 && (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0)) {
		rc = -1;
		e = errno ? errno : EIO;
	}
	if (fclose(f) != 0 && rc == 0) {
		rc = -1;
		e = errno;
	}
	errno = e;
	return rc;
}

/* The process's umask (read by setting and restoring it: the programs
 * that write files are single-threaded). */
static mode_t current_umask(void)
{
	mode_t m = umask(022);

	umask(m);
	return m;
}

int ws_file_replace(const char *path, mode_t mode, ws_file_writer write, void *ctx, ws_err *err)
{
	char tmp[PATH_MAX];
	FILE *f;
	int fd, e;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path) >= (int)sizeof(tmp))
		return ws_fail(err, WS_E_INVALID, "path too long: '%s'", path);
	ws_err_clear(err);
	fd = mkstemp(tmp);
	if (fd < 0)
		return ws_fail(err, WS_E_IO, "cannot write '%s': %s", path, strerror(errno));
	if (fchmod(fd, mode & ~current_umask()) != 0 || !(f = fdopen(fd, "w"))) {
		e = errno;
		close(fd);
		unlink(tmp);
		return ws_fail(err, WS_E_IO, "cannot write '%s': %s", path, strerror(e));
	}
	if (fill(f, write, ctx, err) != 0 || rename(tmp, path) != 0) {
		e = errno;
		unlink(tmp);
		if (err && err->kind != WS_E_NONE)
			return -1;
		return ws_fail(err, WS_E_IO, "cannot write '%s': %s", path, strerror(e));
	}
	if (sync_dir(path) != 0)
		return ws_fail(err, WS_E_IO, "cannot write '%s': %s", path, strerror(errno));
	return 0;
}
