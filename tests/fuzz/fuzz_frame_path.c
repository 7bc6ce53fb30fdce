/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the frame path (gst/framepath.c) with random caps —
 * format, size, interlacing, frame rate, roi, model geometry — random frame
 * bytes, and random error maps and drawing settings, NaN and infinities
 * included.  A refusal must say why; an accepted path must read and draw
 * every frame of its own caps and refuse frames of other caps. */
#include <gst/video/video.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "framepath.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

typedef struct {
  const uint8_t *p;
  size_t n;
} Input;

/* the next byte, 0 once the input is used up */
static guint
next (Input *in)
{
  if (in->n == 0)
    return 0;
  in->n--;
  return *in->p++;
}

static const GstVideoFormat formats[] = {
  /* the element's caps */
  GST_VIDEO_FORMAT_RGB, GST_VIDEO_FORMAT_BGR, GST_VIDEO_FORMAT_RGBx, GST_VIDEO_FORMAT_BGRx,
  GST_VIDEO_FORMAT_xRGB, GST_VIDEO_FORMAT_xBGR, GST_VIDEO_FORMAT_RGBA, GST_VIDEO_FORMAT_BGRA,
  GST_VIDEO_FORMAT_ARGB, GST_VIDEO_FORMAT_ABGR, GST_VIDEO_FORMAT_GRAY8, GST_VIDEO_FORMAT_I420,
  GST_VIDEO_FORMAT_YV12, GST_VIDEO_FORMAT_NV12, GST_VIDEO_FORMAT_NV21, GST_VIDEO_FORMAT_Y42B,
  GST_VIDEO_FORMAT_Y444, GST_VIDEO_FORMAT_YUY2, GST_VIDEO_FORMAT_UYVY,
  /* and a few it does not offer */
  GST_VIDEO_FORMAT_GRAY16_LE, GST_VIDEO_FORMAT_P010_10LE, GST_VIDEO_FORMAT_v210,
  GST_VIDEO_FORMAT_ENCODED,
};

static const GstVideoInterlaceMode modes[] = {
  GST_VIDEO_INTERLACE_MODE_INTERLEAVED, GST_VIDEO_INTERLACE_MODE_MIXED,
  GST_VIDEO_INTERLACE_MODE_FIELDS, GST_VIDEO_INTERLACE_MODE_ALTERNATE,
};

static gfloat
map_value (guint b)
{
  switch (b % 8) {
    case 0: return NAN;
    case 1: return INFINITY;
    case 2: return -INFINITY;
    case 3: return -0.0f;
    case 4: return 1e30f;
    case 5: return -1.0f;
    default: return (gfloat) b / 64.0f;
  }
}

static gdouble
setting (guint b)
{
  static const gdouble v[] = { NAN, INFINITY, -INFINITY, 0.0, -1.0, 1e-30, 0.5, 1.0, 2.0, 1e30 };
  return v[b % G_N_ELEMENTS (v)];
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  gst_init (NULL, NULL);
  return 0;
}

/* a frame of these caps, filled from the input (repeated) */
static GstBuffer *
frame_buffer (const GstVideoInfo *info, Input *in)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, info->size, NULL);
  GstMapInfo m;
  gst_buffer_map (buf, &m, GST_MAP_WRITE);
  for (gsize i = 0; i < m.size; i++)
    m.data[i] = (guint8) (in->n ? in->p[i % in->n] : i * 7);
  gst_buffer_unmap (buf, &m);
  return buf;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  Input in = { data, size };
  const GstVideoFormat format = formats[next (&in) % G_N_ELEMENTS (formats)];
  const guint mode_byte = next (&in);
  const GstVideoInterlaceMode mode = mode_byte < 192 ? GST_VIDEO_INTERLACE_MODE_PROGRESSIVE
                                     : modes[mode_byte % G_N_ELEMENTS (modes)];
  const gint w = 1 + (gint) (next (&in) % 96), h = 1 + (gint) (next (&in) % 72);
  DecentRoi roi = { FALSE, 0, 0, 0, 0 };
  roi.set = next (&in) & 1;
  roi.x = (gint) next (&in);
  roi.y = (gint) next (&in);
  roi.width = 1 + (gint) next (&in);
  roi.height = 1 + (gint) next (&in);
  const gint mw = 4 + (gint) (next (&in) % 13), mh = 4 + (gint) (next (&in) % 13);
  const gint mc = next (&in) & 1 ? 3 : 1;
  const gint fps = (gint) (next (&in) % 61);

  GstVideoInfo info;
  gst_video_info_init (&info);
  if (format == GST_VIDEO_FORMAT_ENCODED)
    info.finfo = gst_video_format_get_info (format); /* what caps parsing never gives */
  else if (!gst_video_info_set_interlaced_format (&info, format, mode, w, h))
    return 0;
  info.fps_n = fps;
  info.fps_d = 1;

  DecentFramePath p;
  memset (&p, 0, sizeof p);
  gchar *why = NULL;
  if (!decent_frame_path_setup (&p, &info, &roi, mw, mh, mc, &why)) {
    if (!why || !*why)
      abort (); /* a refusal must say why */
    if (GST_VIDEO_INFO_IS_INTERLACED (&info) && !strstr (why, "interlaced"))
      abort (); /* and say the true reason */
    g_free (why);
    if (p.to_model || p.heat_to_frame || p.scratch || p.model_buffer || p.heat_buffer)
      abort (); /* and hold nothing */
    return 0;
  }
  if (why || GST_VIDEO_INFO_IS_INTERLACED (&info))
    abort ();
  if (p.rect.x < 0 || p.rect.y < 0 || p.rect.width < 1 || p.rect.height < 1
      || p.rect.x + p.rect.width > w || p.rect.y + p.rect.height > h)
    abort (); /* the region lies in the frame */

  const gdouble max_error = setting (next (&in)), alpha = setting (next (&in));
  gfloat *map = g_new (gfloat, (gsize) mw * mh);
  for (gint i = 0; i < mw * mh; i++)
    map[i] = map_value (next (&in));

  GstBuffer *buf = frame_buffer (&info, &in);
  GstVideoFrame frame;
  if (!gst_video_frame_map (&frame, &info, buf, GST_MAP_READWRITE))
    abort ();
  const guint8 *px = decent_frame_path_to_model (&p, &frame);
  if (!px)
    abort ();
  guint sum = 0;
  for (gint i = 0; i < mw * mh * mc; i++)
    sum += px[i]; /* every byte readable */
  DecentFrame df;
  if (decent_frame_path_engine_frame (&p, &frame, &df)
      && (df.roi_x + df.roi_width > df.width || df.roi_y + df.roi_height > df.height
          || !df.data[0]))
    abort ();
  if (!decent_frame_path_draw_heatmap (&p, &frame, map, max_error, alpha, size & 1))
    abort ();
  gst_video_frame_unmap (&frame);
  gst_buffer_unref (buf);

  /* a frame of other caps (after a renegotiation) is neither read nor drawn */
  GstVideoInfo other;
  if (gst_video_info_set_format (&other, format == GST_VIDEO_FORMAT_GRAY8 ? GST_VIDEO_FORMAT_GRAY8
                                         : GST_VIDEO_FORMAT_I420, w + 2, h + 2)) {
    GstBuffer *obuf = frame_buffer (&other, &in);
    GstVideoFrame oframe;
    if (!gst_video_frame_map (&oframe, &other, obuf, GST_MAP_READWRITE))
      abort ();
    if (decent_frame_path_to_model (&p, &oframe)
        || decent_frame_path_draw_heatmap (&p, &oframe, map, max_error, alpha, TRUE)
        || decent_frame_path_engine_frame (&p, &oframe, &df))
      abort ();
    gst_video_frame_unmap (&oframe);
    gst_buffer_unref (obuf);
  }
  g_free (map);
  decent_frame_path_clear (&p);
  return (int) (sum & 0);
}
