/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* frame_layout.h — the one table of how an 8-bit video frame of each
 * DecentFrameFormat lies in memory, and GStreamer's names for it.  Model
 * code checks frames with it, the CUDA backend sizes uploads and its kernels
 * read and write pixels from it (kernels/frame_pixels.cuh), the plugin maps
 * caps to formats and builds its pad templates from it (gst/framepath.c).
 * Adding a format: a DecentFrameFormat value (decent.h) and its row here;
 * a packed RGB layout needs nothing else.  Plain C, no GStreamer, so that
 * nvcc and the engine can include it. */
#ifndef DECENT_FRAME_LAYOUT_H
#define DECENT_FRAME_LAYOUT_H

#include "decent.h"

enum {
  DECENT_CHROMA_NONE = 0,  /* packed RGB, or grey */
  DECENT_CHROMA_PLANES = 1, /* Y plane, then U and V planes at half size (I420) */
  DECENT_CHROMA_PAIRS = 2,  /* Y plane, then interleaved U V at half size (NV12) */
};

typedef struct {
  const char *gst_names; /* GStreamer's names for the layout, space separated */
  int planes;
  int pixel_bytes;       /* bytes per pixel of plane 0 */
  int red, green, blue;  /* byte offsets in a packed pixel; -1: plane 0 is luma */
  int chroma;            /* DECENT_CHROMA_* */
} DecentFrameLayout;

/* Indexed by DecentFrameFormat, in its order (positional: C++, hence nvcc,
 * has no array designators; tests/test_frame_api.c checks each row's
 * names).  BT.601 limited range for the YUV ones. */
static const DecentFrameLayout decent_frame_layouts[DECENT_FRAME_FORMATS] = {
  { "RGB", 1, 3, 0, 1, 2, DECENT_CHROMA_NONE },        /* DECENT_FRAME_RGB */
  { "BGR", 1, 3, 2, 1, 0, DECENT_CHROMA_NONE },        /* DECENT_FRAME_BGR */
  { "RGBx RGBA", 1, 4, 0, 1, 2, DECENT_CHROMA_NONE },  /* DECENT_FRAME_RGBX */
  { "BGRx BGRA", 1, 4, 2, 1, 0, DECENT_CHROMA_NONE },  /* DECENT_FRAME_BGRX */
  { "GRAY8", 1, 1, -1, -1, -1, DECENT_CHROMA_NONE },   /* DECENT_FRAME_GRAY8 */
  { "I420", 3, 1, -1, -1, -1, DECENT_CHROMA_PLANES },  /* DECENT_FRAME_I420 */
  { "NV12", 2, 1, -1, -1, -1, DECENT_CHROMA_PAIRS },   /* DECENT_FRAME_NV12 */
};

/* The layout of a format, or NULL for a value that is none. */
static inline const DecentFrameLayout *
decent_frame_layout (int format)
{
  return format >= 0 && format < DECENT_FRAME_FORMATS ? &decent_frame_layouts[format] : 0;
}

/* The shortest row plane k of a frame w pixels wide can have, in bytes. */
static inline int
decent_frame_row_bytes (const DecentFrameLayout *l, int plane, int w)
{
  const int cw = (w + 1) / 2;
  return plane == 0 ? w * l->pixel_bytes : l->chroma == DECENT_CHROMA_PAIRS ? 2 * cw : cw;
}

/* Rows of plane k of a frame h pixels high. */
static inline int
decent_frame_plane_rows (const DecentFrameLayout *l, int plane, int h)
{
  return plane == 0 || l->chroma == DECENT_CHROMA_NONE ? h : (h + 1) / 2;
}

#endif
