/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* augment.c — random zoom of training frames (decent-train's augment-zoom).
 *
 * A fixed camera shows each kind of thing at the sizes its distance gives;
 * footage of a few minutes may never show a person near the camera.  A
 * random crop of the frame, scaled back to the model's size, shows the
 * same scene at up to max_zoom times its size. */
#include "decent.h"
#include "error.h"
#include "random.h"

#include <math.h>
#include <stddef.h>

/* One frame: the crop of size (w/zoom, h/zoom) at (x0, y0), bilinearly
 * scaled to w x h. */
static void
zoom_frame (const uint8_t *src, uint8_t *dst, int w, int h, int c, double zoom, double x0,
    double y0)
{
  const double step = 1.0 / zoom;
  for (int y = 0; y < h; y++) {
    double sy = y0 + (y + 0.5) * step - 0.5;
    sy = sy < 0 ? 0 : sy > h - 1 ? h - 1 : sy;
    const int ya = (int) sy, yb = ya + 1 < h ? ya + 1 : ya;
    const double fy = sy - ya;
    for (int x = 0; x < w; x++) {
      double sx = x0 + (x + 0.5) * step - 0.5;
      sx = sx < 0 ? 0 : sx > w - 1 ? w - 1 : sx;
      const int xa = (int) sx, xb = xa + 1 < w ? xa + 1 : xa;
      const double fx = sx - xa;
      for (int k = 0; k < c; k++) {
        const double top = src[((size_t) ya * w + xa) * c + k] * (1 - fx)
                           + src[((size_t) ya * w + xb) * c + k] * fx;
        const double bottom = src[((size_t) yb * w + xa) * c + k] * (1 - fx)
                              + src[((size_t) yb * w + xb) * c + k] * fx;
        dst[((size_t) y * w + x) * c + k] = (uint8_t) lrint (top * (1 - fy) + bottom * fy);
      }
    }
  }
}

int
decent_augment_zoom (const uint8_t *src, uint8_t *dst, int n, int width, int height,
    int channels, float max_zoom, uint64_t *state, DecentError *err)
{
  if (!src || !dst || !state || src == dst)
    return decent_fail (err, "augment: need distinct source and destination frames and a state");
  if (n < 0 || width < 1 || height < 1 || (channels != 1 && channels != 3))
    return decent_fail (err, "augment: %d frames of %dx%dx%d are not frames", n, width, height,
        channels);
  if (!(max_zoom >= 1.0f && max_zoom <= 8.0f))
    return decent_fail (err, "augment: zoom must be in [1, 8], not %g", max_zoom);
  const size_t fb = (size_t) width * height * channels;
  for (int i = 0; i < n; i++) {
    /* uniform in log scale: as many frames at x1.2 as at x1.2 further */
    const double zoom = exp (rng_uniform (state) * log (max_zoom));
    const double x0 = rng_uniform (state) * width * (1 - 1 / zoom);
    const double y0 = rng_uniform (state) * height * (1 - 1 / zoom);
    zoom_frame (src + i * fb, dst + i * fb, width, height, channels, zoom, x0, y0);
  }
  return 0;
}
