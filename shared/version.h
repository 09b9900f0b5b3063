/* version.h - the product version, shown by `version` and the webhook. */
#ifndef WS_VERSION_H
#define WS_VERSION_H

#define WS_VERSION "0.1.0"

#endif
