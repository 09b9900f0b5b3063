/* log.h - workspace-controller's log: one JSON object per line on stderr,
 * {"time","level","msg"} plus "workspace" when the line is about one.
 * Lines of different threads never interleave. Never given secrets. */
#ifndef CTL_LOG_H
#define CTL_LOG_H

/* level "info", "warn" or "error"; workspace may be NULL. */
void ctl_log(const char *level, const char *workspace, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
