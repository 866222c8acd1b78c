/*
 * version.h - lcbackup's version and the run-time versions of the libraries it links.
 */
#ifndef LCB_CORE_VERSION_H
#define LCB_CORE_VERSION_H

#include <stdio.h>

/* Text ("lcbackup 0.1.0\nlibcurl 7.88.1\n...") or one JSON object. Implemented in lib/ext/versions.c,
 * the one place that asks every library for its version. */
void lcb_version_print(FILE *out, int json);
const char *lcb_version(void);

#endif
