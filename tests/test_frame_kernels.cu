/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The GPU frame path's pixel code (kernels/frame_pixels.cuh), run on the CPU:
 * the very functions the kernels call once per thread, called here once per
 * pixel, against the reference written from the definitions
 * (frame_reference.h).  Needs nvcc to build, no GPU to run, so CI checks
 * the kernels' arithmetic and indexing: every pixel format, padded rows, a
 * region at odd offsets, shrinking and enlarging, grey and colour models,
 * and the heatmap blend (alpha 0 changes nothing, the region only, the
 * colour map's value at alpha 1). */
#include <stdio.h>
#include <string.h>

#include "frame_pixels.cuh"
#include "frame_reference.h"
#include "testutil.h"

static uint64_t seed = 77;

/* a little noise (0..31) on the smooth test pattern */
static unsigned
next_byte (void)
{
  return (unsigned) (tu_rand (&seed) >> 59);
}

typedef struct {
  DecentFrame f;
  DecentKFrame k;
  size_t size;
  int bpp;
} TestFrame;

static void
make_frame (TestFrame *t, uint8_t *buf, int format, int w, int h, int rx, int ry, int rw, int rh)
{
  memset (t, 0, sizeof *t);
  DecentFrame *f = &t->f;
  f->format = (DecentFrameFormat) format;
  f->width = w;
  f->height = h;
  t->bpp = format <= DECENT_FRAME_BGR ? 3 : format <= DECENT_FRAME_BGRX ? 4 : 1;
  f->data[0] = buf;
  f->stride[0] = w * t->bpp + 8; /* padded rows */
  t->size = (size_t) f->stride[0] * h;
  const int cw = (w + 1) / 2, ch = (h + 1) / 2;
  if (format == DECENT_FRAME_I420) {
    f->data[1] = buf + t->size;
    f->stride[1] = cw + 3;
    f->data[2] = f->data[1] + (size_t) f->stride[1] * ch;
    f->stride[2] = cw + 5;
    t->size += (size_t) (f->stride[1] + f->stride[2]) * ch;
  } else if (format == DECENT_FRAME_NV12) {
    f->data[1] = buf + t->size;
    f->stride[1] = 2 * cw + 2;
    t->size += (size_t) f->stride[1] * ch;
  }
  /* smooth content with a little noise: what a camera gives */
  for (size_t i = 0; i < t->size; i++)
    buf[i] = (uint8_t) (128 + 90 * sin (0.011 * (double) i) + next_byte ());
  f->roi_x = rx;
  f->roi_y = ry;
  f->roi_width = rw;
  f->roi_height = rh;
  /* the kernels read the layout from engine/frame_layout.h's table, as the
   * backend gives it to them; the checks below use their own definitions */
  const DecentFrameLayout *l = decent_frame_layout (format);
  DecentKFrame *k = &t->k;
  k->pixel_bytes = l->pixel_bytes;
  k->red = l->red;
  k->green = l->green;
  k->blue = l->blue;
  k->chroma = l->chroma;
  CHECK (l->pixel_bytes == t->bpp, "format %d: the table says %d bytes a pixel, not %d", format,
      l->pixel_bytes, t->bpp);
  k->width = w;
  k->height = h;
  for (int p = 0; p < 3; p++) {
    k->plane[p] = f->data[p];
    k->stride[p] = f->stride[p];
  }
  k->rx = rx;
  k->ry = ry;
  k->rw = rw;
  k->rh = rh;
}

static void
check_convert (int format, int channels, int w, int h, int rx, int ry, int rw, int rh, int ow,
    int oh)
{
  static uint8_t buf[1 << 22];
  TestFrame t;
  make_frame (&t, buf, format, w, h, rx, ry, rw, rh);
  uint8_t *want = (uint8_t *) malloc ((size_t) ow * oh * channels);
  float *got = (float *) malloc (sizeof (float) * ow * oh * channels);
  reference_convert (&t.f, want, ow, oh, channels);
  for (size_t i = 0; i < (size_t) ow * oh; i++) /* scale 1, offset 0: the 8-bit values */
    convert_pixel (t.k, i, got, channels, oh, ow, 1.0f, 0.0f);
  int worst = 0, off_by_one = 0;
  const size_t plane = (size_t) ow * oh;
  for (size_t i = 0; i < plane; i++)
    for (int c = 0; c < channels; c++) {
      int d = abs ((int) got[c * plane + i] - (int) want[i * channels + c]);
      worst = d > worst ? d : worst;
      off_by_one += d == 1;
    }
  /* float taps against double: a value at .5 may round the other way */
  CHECK (worst <= 1 && off_by_one <= (int) (plane * channels / 100 + 1),
      "format %d, %d channel(s), region %dx%d -> %dx%d: worst %d levels, %d values off by one",
      format, channels, rw, rh, ow, oh, worst, off_by_one);
  free (want);
  free (got);
}

static void
check_blend (int format)
{
  static uint8_t buf[1 << 22], copy[1 << 22];
  static uint8_t lut[768];
  for (int k = 0; k < 256; k++) {
    lut[3 * k] = (uint8_t) k;
    lut[3 * k + 1] = 40;
    lut[3 * k + 2] = (uint8_t) (255 - k);
  }
  const int mw = 16, mh = 12;
  float map[16 * 12];
  for (int i = 0; i < mw * mh; i++)
    map[i] = 1.0f; /* saturated at max_error 0.5 */
  TestFrame t;
  make_frame (&t, buf, format, 101, 77, 11, 7, 60, 50);
  memcpy (copy, buf, t.size);
  const size_t region = (size_t) t.k.rw * t.k.rh;
  for (size_t i = 0; i < region; i++)
    blend_pixel (t.k, i, map, mh, mw, lut, 0.5f, 0u);
  CHECK (memcmp (buf, copy, t.size) == 0, "format %d: alpha 0 changed the frame", format);
  for (size_t i = 0; i < region; i++)
    blend_pixel (t.k, i, map, mh, mw, lut, 0.5f, 256u);
  size_t outside = 0, wrong = 0;
  /* the colour lut[255] = (255, 40, 0) in the frame's terms */
  const double Y = 16 + 0.256788 * 255 + 0.504129 * 40, U = 128 - 0.148223 * 255 - 0.290993 * 40,
               V = 128 + 0.439216 * 255 - 0.367788 * 40;
  for (int y = 0; y < t.f.height; y++)
    for (int x = 0; x < t.f.width; x++) {
      const int inside = x >= t.k.rx && x < t.k.rx + t.k.rw && y >= t.k.ry && y < t.k.ry + t.k.rh;
      const uint8_t *p = buf + (size_t) y * t.f.stride[0] + x * t.bpp;
      const uint8_t *q = copy + (size_t) y * t.f.stride[0] + x * t.bpp;
      if (!inside) {
        outside += memcmp (p, q, t.bpp) != 0;
        continue;
      }
      switch (format) {
        case DECENT_FRAME_RGB:
        case DECENT_FRAME_RGBX: wrong += !(p[0] == 255 && p[1] == 40 && p[2] == 0); break;
        case DECENT_FRAME_BGR:
        case DECENT_FRAME_BGRX:
          wrong += !(p[2] == 255 && p[1] == 40 && p[0] == 0) || (t.bpp == 4 && p[3] != q[3]);
          break;
        case DECENT_FRAME_GRAY8: wrong += p[0] != (uint8_t) (0.299 * 255 + 0.587 * 40 + 0.5); break;
        default: wrong += abs (p[0] - (int) (Y + 0.5)) > 0; break;
      }
    }
  if (format == DECENT_FRAME_I420 || format == DECENT_FRAME_NV12) {
    /* chroma of 2x2 blocks whose top-left pixel is in the region */
    for (int cy = 0; cy < (t.f.height + 1) / 2; cy++)
      for (int cx = 0; cx < (t.f.width + 1) / 2; cx++) {
        const int x = 2 * cx, y = 2 * cy;
        const int inside = x >= t.k.rx && x < t.k.rx + t.k.rw && y >= t.k.ry && y < t.k.ry + t.k.rh;
        size_t ou, ov;
        const uint8_t *pu, *pv;
        if (format == DECENT_FRAME_I420) {
          ou = (size_t) cy * t.f.stride[1] + cx;
          ov = (size_t) cy * t.f.stride[2] + cx;
          pu = t.f.data[1] + ou;
          pv = t.f.data[2] + ov;
        } else {
          ou = (size_t) cy * t.f.stride[1] + 2 * cx;
          pu = t.f.data[1] + ou;
          pv = pu + 1;
        }
        const uint8_t *cu = copy + (pu - buf), *cv = copy + (pv - buf);
        if (!inside)
          outside += *pu != *cu || *pv != *cv;
        else
          wrong += abs (*pu - (int) (U + 0.5)) > 0 || abs (*pv - (int) (V + 0.5)) > 0;
      }
  }
  CHECK (outside == 0, "format %d: %zu values changed outside the region", format, outside);
  CHECK (wrong == 0, "format %d: %zu pixels in the region are not the colour map's", format,
      wrong);
}

int
main (void)
{
  for (int format = DECENT_FRAME_RGB; format <= DECENT_FRAME_NV12; format++) {
    check_convert (format, 3, 322, 242, 17, 9, 250, 200, 64, 64);  /* shrink, odd region */
    check_convert (format, 1, 322, 242, 17, 9, 250, 200, 64, 64);  /* grey model */
    check_convert (format, 3, 640, 480, 0, 0, 640, 480, 28, 28);   /* shrink 22x, whole frame */
    check_convert (format, 3, 61, 47, 3, 5, 20, 15, 64, 48);       /* enlarge */
    check_blend (format);
  }
  return tu_finish ("frame_kernels");
}
