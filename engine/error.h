/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* error.h — how engine code fails: a message in DecentError, and -1. */
#ifndef DECENT_ERROR_H
#define DECENT_ERROR_H

#include "decent.h"

/* Writes a message into err (may be NULL) and returns -1.  A message longer
 * than DecentError holds loses its middle, so that the reason at its end
 * survives. */
int decent_fail (DecentError *err, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

#endif
