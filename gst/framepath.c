/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* framepath.c — see framepath.h.  Blending happens byte by byte in the
 * frame's own format: every raw format's components are affine in RGB, so a
 * convex blend of two frames there equals the blend in RGB. */
#include "framepath.h"

#include "frame_layout.h"

#include <math.h>
#include <string.h>

/* An "inferno"-like colour map of 256 entries, interpolated once from five
 * stops. */
const guint8 (*decent_frame_path_colour_map (void))[3]
{
  static guint8 lut[256][3];
  static gsize ready;
  if (g_once_init_enter (&ready)) {
    static const guint8 stops[5][3] = { { 0, 0, 4 }, { 87, 16, 110 }, { 188, 55, 84 },
      { 249, 142, 9 }, { 252, 255, 164 } };
    for (int k = 0; k < 256; k++) {
      gdouble t = k / 255.0 * 4.0;
      gint i = MIN ((gint) t, 3);
      gdouble f = t - i;
      for (int c = 0; c < 3; c++)
        lut[k][c] = (guint8) (stops[i][c] + f * (stops[i + 1][c] - stops[i][c]) + 0.5);
    }
    g_once_init_leave (&ready, 1);
  }
  return (const guint8 (*)[3]) lut;
}

void
decent_frame_path_clear (DecentFramePath *p)
{
  if (p->to_model)
    gst_video_converter_free (p->to_model);
  if (p->heat_to_frame)
    gst_video_converter_free (p->heat_to_frame);
  if (p->alpha_to_frame)
    gst_video_converter_free (p->alpha_to_frame);
  gst_clear_buffer (&p->alpha_buffer);
  gst_clear_buffer (&p->alpha_frame);
  gst_clear_buffer (&p->model_buffer);
  gst_clear_buffer (&p->heat_buffer);
  gst_clear_buffer (&p->scratch);
  memset (p, 0, sizeof *p);
}

static void
packed_info (GstVideoInfo *info, GstVideoFormat format, gint w, gint h, gint bytes_per_pixel)
{
  gst_video_info_set_format (info, format, w, h);
  /* tightly packed rows: the engine reads W*C bytes per row */
  info->stride[0] = w * bytes_per_pixel;
  info->size = (gsize) info->stride[0] * h;
}

/* rect widened to whole chroma samples of the format, inside the frame.
 * GStreamer's converter writes a region at an odd offset of a subsampled
 * format with bytes it never set (the pixel column past it; found by a
 * hostile run under valgrind), and a chroma sample half in the region is
 * drawn over anyway: the heatmap covers what it colours. */
static DecentRoi
chroma_aligned (const GstVideoInfo *info, const DecentRoi *rect)
{
  const GstVideoFormatInfo *finfo = info->finfo;
  guint w_sub = 0, h_sub = 0;
  for (guint c = 0; c < GST_VIDEO_FORMAT_INFO_N_COMPONENTS (finfo); c++) {
    w_sub = MAX (w_sub, GST_VIDEO_FORMAT_INFO_W_SUB (finfo, c));
    h_sub = MAX (h_sub, GST_VIDEO_FORMAT_INFO_H_SUB (finfo, c));
  }
  const gint xs = 1 << w_sub, ys = 1 << h_sub;
  const gint x0 = rect->x / xs * xs, y0 = rect->y / ys * ys;
  const gint x1 = MIN ((rect->x + rect->width + xs - 1) / xs * xs, GST_VIDEO_INFO_WIDTH (info));
  const gint y1 = MIN ((rect->y + rect->height + ys - 1) / ys * ys,
      GST_VIDEO_INFO_HEIGHT (info));
  return (DecentRoi) { TRUE, x0, y0, x1 - x0, y1 - y0 };
}

/* A converter that scales a model-sized image into the region of a frame,
 * leaving the rest of the frame alone. */
static GstVideoConverter *
region_converter (const GstVideoInfo *in, const GstVideoInfo *out, const DecentRoi *rect,
    const gchar *name)
{
  return gst_video_converter_new ((GstVideoInfo *) in, (GstVideoInfo *) out,
      gst_structure_new (name,
          GST_VIDEO_CONVERTER_OPT_DEST_X, G_TYPE_INT, rect->x,
          GST_VIDEO_CONVERTER_OPT_DEST_Y, G_TYPE_INT, rect->y,
          GST_VIDEO_CONVERTER_OPT_DEST_WIDTH, G_TYPE_INT, rect->width,
          GST_VIDEO_CONVERTER_OPT_DEST_HEIGHT, G_TYPE_INT, rect->height,
          GST_VIDEO_CONVERTER_OPT_FILL_BORDER, G_TYPE_BOOLEAN, FALSE,
          GST_VIDEO_CONVERTER_OPT_RESAMPLER_METHOD, GST_TYPE_VIDEO_RESAMPLER_METHOD,
          GST_VIDEO_RESAMPLER_METHOD_LINEAR, NULL));
}

gboolean
decent_frame_path_setup (DecentFramePath *p, const GstVideoInfo *frame_info,
    const DecentRoi *rect, gint model_width, gint model_height, gint model_channels,
    gchar **why)
{
  decent_frame_path_clear (p);
  const GstVideoFormat format = GST_VIDEO_INFO_FORMAT (frame_info);
  const gint width = GST_VIDEO_INFO_WIDTH (frame_info), height = GST_VIDEO_INFO_HEIGHT (frame_info);
  /* what the converters cannot take is refused here, with its reason:
   * gst_video_converter_new() only asserts (and leaks its settings) */
  if (format == GST_VIDEO_FORMAT_UNKNOWN || format == GST_VIDEO_FORMAT_ENCODED
      || !frame_info->finfo || width < 1 || height < 1) {
    *why = g_strdup_printf ("video of format %s and size %dx%d cannot be converted",
        gst_video_format_to_string (format), width, height);
    return FALSE;
  }
  if (GST_VIDEO_INFO_IS_INTERLACED (frame_info)) {
    *why = g_strdup_printf ("interlaced video (interlace-mode=%s) is not supported; "
        "deinterlace it first",
        gst_video_interlace_mode_to_string (GST_VIDEO_INFO_INTERLACE_MODE (frame_info)));
    return FALSE;
  }
  if (model_width < 1 || model_height < 1 || (model_channels != 1 && model_channels != 3)) {
    *why = g_strdup_printf ("no model geometry (%dx%dx%d)", model_width, model_height,
        model_channels);
    return FALSE;
  }
  if (!decent_roi_clip (rect, width, height, &p->rect)) {
    *why = g_strdup_printf ("roi %d,%d,%dx%d lies outside the %dx%d frame; fix the roi "
        "property for this resolution", rect->x, rect->y, rect->width, rect->height, width,
        height);
    return FALSE;
  }
  /* the default layout of this format: a mapped frame's info may carry an
   * upstream pool's strides and offsets, which the scratch buffer does not */
  GstVideoAlignment align;
  gst_video_alignment_reset (&align);
  p->frame_info = *frame_info;
  p->engine_format = decent_frame_path_engine_format (format); /* once, not per frame */
  gst_video_info_align (&p->frame_info, &align);
  frame_info = &p->frame_info;
  packed_info (&p->model_info, model_channels == 1 ? GST_VIDEO_FORMAT_GRAY8
                                                   : GST_VIDEO_FORMAT_RGB,
      model_width, model_height, model_channels);
  packed_info (&p->heat_info, GST_VIDEO_FORMAT_RGBA, model_width, model_height, 4);
  packed_info (&p->alpha_info, GST_VIDEO_FORMAT_GRAY8, model_width, model_height, 1);
  packed_info (&p->alpha_frame_info, GST_VIDEO_FORMAT_GRAY8, GST_VIDEO_INFO_WIDTH (frame_info),
      GST_VIDEO_INFO_HEIGHT (frame_info), 1);
  /* the converter insists on equal frame rates */
  p->model_info.fps_n = p->heat_info.fps_n = p->alpha_info.fps_n = p->alpha_frame_info.fps_n =
      GST_VIDEO_INFO_FPS_N (frame_info);
  p->model_info.fps_d = p->heat_info.fps_d = p->alpha_info.fps_d = p->alpha_frame_info.fps_d =
      GST_VIDEO_INFO_FPS_D (frame_info);

  p->to_model = gst_video_converter_new ((GstVideoInfo *) frame_info, &p->model_info,
      gst_structure_new ("decent-to-model",
          GST_VIDEO_CONVERTER_OPT_SRC_X, G_TYPE_INT, p->rect.x,
          GST_VIDEO_CONVERTER_OPT_SRC_Y, G_TYPE_INT, p->rect.y,
          GST_VIDEO_CONVERTER_OPT_SRC_WIDTH, G_TYPE_INT, p->rect.width,
          GST_VIDEO_CONVERTER_OPT_SRC_HEIGHT, G_TYPE_INT, p->rect.height,
          GST_VIDEO_CONVERTER_OPT_RESAMPLER_METHOD, GST_TYPE_VIDEO_RESAMPLER_METHOD,
          GST_VIDEO_RESAMPLER_METHOD_LINEAR, NULL));
  p->drawn = chroma_aligned (frame_info, &p->rect);
  p->heat_to_frame = region_converter (&p->heat_info, frame_info, &p->drawn,
      "decent-heat-to-frame");
  p->alpha_to_frame = region_converter (&p->alpha_info, &p->alpha_frame_info, &p->drawn,
      "decent-alpha-to-frame");
  if (!p->to_model || !p->heat_to_frame || !p->alpha_to_frame) {
    *why = g_strdup_printf ("GStreamer cannot convert %s %dx%d to the model's %dx%dx%d",
        gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (frame_info)),
        GST_VIDEO_INFO_WIDTH (frame_info), GST_VIDEO_INFO_HEIGHT (frame_info), model_width,
        model_height, model_channels);
    decent_frame_path_clear (p);
    return FALSE;
  }
  p->model_buffer = gst_buffer_new_allocate (NULL, p->model_info.size, NULL);
  return TRUE;
}

/* The buffers of drawing, made at the first heatmap: an element that only
 * scores (and each of many sharers of one engine) keeps a frame-sized
 * copy and opacity plane fewer. */
static gboolean
have_draw_buffers (DecentFramePath *p)
{
  if (p->scratch)
    return TRUE;
  p->heat_buffer = gst_buffer_new_allocate (NULL, p->heat_info.size, NULL);
  p->alpha_buffer = gst_buffer_new_allocate (NULL, p->alpha_info.size, NULL);
  p->alpha_frame = gst_buffer_new_allocate (NULL, p->alpha_frame_info.size, NULL);
  p->scratch = gst_buffer_new_allocate (NULL, p->frame_info.size, NULL);
  if (!p->heat_buffer || !p->alpha_buffer || !p->alpha_frame || !p->scratch) {
    gst_clear_buffer (&p->heat_buffer);
    gst_clear_buffer (&p->alpha_buffer);
    gst_clear_buffer (&p->alpha_frame);
    gst_clear_buffer (&p->scratch);
    return FALSE;
  }
  gst_buffer_memset (p->alpha_frame, 0, 0, p->alpha_frame_info.size); /* outside the region */
  /* bytes no copy or conversion writes (the padding after the last pair of
   * packed 4:2:2 of odd width) are blended too: defined, not heap garbage */
  gst_buffer_memset (p->scratch, 0, 0, p->frame_info.size);
  return TRUE;
}

/* Whether the path was built for this frame's format and size: a frame of
 * other caps would be read or drawn with the wrong geometry. */
static gboolean
path_fits (const DecentFramePath *p, const GstVideoFrame *frame)
{
  return p->to_model && p->heat_to_frame && p->alpha_to_frame
         && GST_VIDEO_FRAME_FORMAT (frame) == GST_VIDEO_INFO_FORMAT (&p->frame_info)
         && GST_VIDEO_FRAME_WIDTH (frame) == GST_VIDEO_INFO_WIDTH (&p->frame_info)
         && GST_VIDEO_FRAME_HEIGHT (frame) == GST_VIDEO_INFO_HEIGHT (&p->frame_info)
         && !GST_VIDEO_INFO_IS_INTERLACED (&frame->info);
}

const guint8 *
decent_frame_path_to_model (DecentFramePath *p, GstVideoFrame *frame)
{
  GstVideoFrame out;
  if (!path_fits (p, frame))
    return NULL;
  if (!gst_video_frame_map (&out, &p->model_info, p->model_buffer, GST_MAP_WRITE))
    return NULL;
  gst_video_converter_frame (p->to_model, frame, &out);
  const guint8 *pixels = GST_VIDEO_FRAME_PLANE_DATA (&out, 0);
  gst_video_frame_unmap (&out); /* the buffer's memory stays ours */
  return pixels;
}

int
decent_frame_path_engine_format (GstVideoFormat format)
{
  if (format == GST_VIDEO_FORMAT_UNKNOWN)
    return -1; /* gst_video_format_to_string asserts on it */
  const gchar *name = gst_video_format_to_string (format);
  const size_t len = name ? strlen (name) : 0;
  for (int f = 0; len && f < DECENT_FRAME_FORMATS; f++)
    for (const gchar *at = decent_frame_layout (f)->gst_names; *at;) {
      const size_t word = strcspn (at, " ");
      if (word == len && strncmp (at, name, len) == 0)
        return f;
      at += word + (at[word] == ' ');
    }
  return -1;
}

gboolean
decent_frame_path_engine_frame (const DecentFramePath *p, GstVideoFrame *frame, DecentFrame *out)
{
  memset (out, 0, sizeof *out);
  if (!path_fits (p, frame))
    return FALSE;
  if (p->engine_format < 0) /* path_fits: the frame has the format the path was built for */
    return FALSE;
  out->format = (DecentFrameFormat) p->engine_format;
  out->width = GST_VIDEO_FRAME_WIDTH (frame);
  out->height = GST_VIDEO_FRAME_HEIGHT (frame);
  for (guint k = 0; k < GST_VIDEO_FRAME_N_PLANES (frame) && k < 3; k++) {
    out->data[k] = GST_VIDEO_FRAME_PLANE_DATA (frame, k);
    out->stride[k] = GST_VIDEO_FRAME_PLANE_STRIDE (frame, k);
  }
  out->roi_x = p->rect.x;
  out->roi_y = p->rect.y;
  out->roi_width = p->rect.width;
  out->roi_height = p->rect.height;
  return TRUE;
}

/* A window of a plane: bytes [x0, x1) of rows [y0, y1). */
typedef struct {
  gint x0, x1, y0, y1;
} PlaneWindow;

/* The bytes and rows of plane that hold the pixels of r (whole chroma
 * samples: r is chroma_aligned), from each component's pixel stride and
 * subsampling: in packed 4:2:2 a pixel pair's bytes, in planar 4:2:0 the
 * subsampled columns and rows, in packed RGB whole pixels, padding too. */
static PlaneWindow
plane_window (const GstVideoFrame *frame, guint plane, const DecentRoi *r)
{
  const GstVideoFormatInfo *finfo = frame->info.finfo;
  gint comps[GST_VIDEO_MAX_COMPONENTS];
  gst_video_format_info_component (finfo, plane, comps);
  PlaneWindow w = { G_MAXINT, 0, G_MAXINT, 0 };
  for (gint k = 0; k < GST_VIDEO_MAX_COMPONENTS && comps[k] >= 0; k++) {
    const gint c = comps[k];
    const guint ws = GST_VIDEO_FORMAT_INFO_W_SUB (finfo, c),
                hs = GST_VIDEO_FORMAT_INFO_H_SUB (finfo, c);
    const gint pstride = GST_VIDEO_FRAME_COMP_PSTRIDE (frame, c);
    const gint first = r->x >> ws, end = (r->x + r->width + (1 << ws) - 1) >> ws;
    w.x0 = MIN (w.x0, first * pstride);
    w.x1 = MAX (w.x1, end * pstride);
    w.y0 = MIN (w.y0, r->y >> hs);
    w.y1 = MAX (w.y1, (r->y + r->height + (1 << hs) - 1) >> hs);
  }
  return w;
}

static void
blend_plane (guint8 *dst, gint dst_stride, const guint8 *src, gint src_stride,
    const PlaneWindow *w, guint a256)
{
  for (gint y = w->y0; y < w->y1; y++) {
    guint8 *d = dst + (gsize) y * dst_stride;
    const guint8 *s = src + (gsize) y * src_stride;
    for (gint x = w->x0; x < w->x1; x++)
      d[x] = (guint8) ((d[x] * (256 - a256) + s[x] * a256 + 128) >> 8);
  }
}

/* The same with an opacity per frame pixel (alpha, 0..255, width x height):
 * a plane's row of row_bytes spans the frame's width whatever its
 * subsampling or packing, so byte x of a row lies over pixel
 * x * width / row_bytes, and its rows span the frame's height. */
static void
blend_plane_alpha (guint8 *dst, gint dst_stride, const guint8 *src, gint src_stride,
    gint row_bytes, gint rows, const PlaneWindow *w, const guint8 *alpha, gint width,
    gint height, guint a256)
{
  /* no division per byte: the column of every byte, and the opacity of
   * every alpha value, once per plane */
  gint *column = g_new (gint, row_bytes);
  guint weight[256];
  for (gint x = 0; x < row_bytes; x++)
    column[x] = (gint) ((gint64) x * width / row_bytes);
  for (guint v = 0; v < 256; v++)
    weight[v] = (v * a256 + 127) / 255;
  for (gint y = w->y0; y < w->y1; y++) {
    guint8 *d = dst + (gsize) y * dst_stride;
    const guint8 *s = src + (gsize) y * src_stride;
    const guint8 *arow = alpha + (gsize) ((gint64) y * height / rows) * width;
    for (gint x = w->x0; x < w->x1 && x < row_bytes; x++) {
      const guint a = weight[arow[column[x]]];
      d[x] = (guint8) ((d[x] * (256 - a) + s[x] * a + 128) >> 8);
    }
  }
  g_free (column);
}

gboolean
decent_frame_path_draw_heatmap (DecentFramePath *p, GstVideoFrame *frame, const gfloat *map,
    gdouble max_error, gdouble alpha, gboolean proportional)
{
  GstVideoFrame heat, scratch, amodel, aframe;
  const gint n = GST_VIDEO_INFO_WIDTH (&p->heat_info) * GST_VIDEO_INFO_HEIGHT (&p->heat_info);
  const guint8 (*lut)[3] = decent_frame_path_colour_map ();
  if (!path_fits (p, frame) || !map || !have_draw_buffers (p))
    return FALSE;
  if (!(max_error > 0) || !isfinite (max_error)) /* NaN, inf, <= 0 */
    max_error = 1.0;

  if (!gst_video_frame_map (&heat, &p->heat_info, p->heat_buffer, GST_MAP_WRITE))
    return FALSE;
  if (!gst_video_frame_map (&amodel, &p->alpha_info, p->alpha_buffer, GST_MAP_WRITE)) {
    gst_video_frame_unmap (&heat);
    return FALSE;
  }
  guint8 *rgba = GST_VIDEO_FRAME_PLANE_DATA (&heat, 0);
  guint8 *opacity = GST_VIDEO_FRAME_PLANE_DATA (&amodel, 0);
  for (gint i = 0; i < n; i++) {
    /* compared, never cast, until it is in range: NaN and -inf get the
     * coolest colour, +inf the hottest */
    const gdouble v = map[i] / max_error * 255.0;
    const gint idx = v >= 255.0 ? 255 : v > 0.0 ? (gint) v : 0;
    rgba[4 * i + 0] = lut[idx][0];
    rgba[4 * i + 1] = lut[idx][1];
    rgba[4 * i + 2] = lut[idx][2];
    rgba[4 * i + 3] = 255;
    opacity[i] = (guint8) idx;
  }
  if (!gst_video_frame_map (&scratch, &p->frame_info, p->scratch, GST_MAP_READWRITE)) {
    gst_video_frame_unmap (&amodel);
    gst_video_frame_unmap (&heat);
    return FALSE;
  }
  if (proportional) {
    if (!gst_video_frame_map (&aframe, &p->alpha_frame_info, p->alpha_frame, GST_MAP_READWRITE)) {
      gst_video_frame_unmap (&scratch);
      gst_video_frame_unmap (&amodel);
      gst_video_frame_unmap (&heat);
      return FALSE;
    }
    gst_video_converter_frame (p->alpha_to_frame, &amodel, &aframe);
  }
  /* only the drawn region is blended: GStreamer's converter may write
   * whole rows of the scratch (a roi's rows across the frame, with
   * zeros) although it fills no border */
  gst_video_frame_copy (&scratch, frame);
  gst_video_converter_frame (p->heat_to_frame, &heat, &scratch);

  const GstVideoFormatInfo *finfo = frame->info.finfo;
  const gdouble a = alpha >= 1.0 ? 1.0 : alpha > 0.0 ? alpha : 0.0; /* NaN: 0 */
  const guint a256 = (guint) (a * 256.0 + 0.5);
  for (guint plane = 0; plane < GST_VIDEO_FRAME_N_PLANES (frame); plane++) {
    gint comps[GST_VIDEO_MAX_COMPONENTS];
    gst_video_format_info_component (finfo, plane, comps);
    const gint comp = comps[0];
    /* the plane's widest component: in packed 4:2:2 of odd width (YUY2,
     * UYVY) the last pair's chroma lies past the luma's width × 2 bytes */
    gint row_bytes = 0;
    for (gint c = 0; c < GST_VIDEO_MAX_COMPONENTS && comps[c] >= 0; c++)
      row_bytes = MAX (row_bytes, GST_VIDEO_FRAME_COMP_WIDTH (frame, comps[c])
          * GST_VIDEO_FRAME_COMP_PSTRIDE (frame, comps[c]));
    const PlaneWindow w = plane_window (frame, plane, &p->drawn);
    if (proportional)
      blend_plane_alpha (GST_VIDEO_FRAME_PLANE_DATA (frame, plane),
          GST_VIDEO_FRAME_PLANE_STRIDE (frame, plane),
          GST_VIDEO_FRAME_PLANE_DATA (&scratch, plane),
          GST_VIDEO_FRAME_PLANE_STRIDE (&scratch, plane), row_bytes,
          GST_VIDEO_FRAME_COMP_HEIGHT (frame, comp), &w,
          GST_VIDEO_FRAME_PLANE_DATA (&aframe, 0), GST_VIDEO_FRAME_WIDTH (frame),
          GST_VIDEO_FRAME_HEIGHT (frame), a256);
    else
      blend_plane (GST_VIDEO_FRAME_PLANE_DATA (frame, plane),
          GST_VIDEO_FRAME_PLANE_STRIDE (frame, plane),
          GST_VIDEO_FRAME_PLANE_DATA (&scratch, plane),
          GST_VIDEO_FRAME_PLANE_STRIDE (&scratch, plane), &w, a256);
  }
  if (proportional)
    gst_video_frame_unmap (&aframe);
  gst_video_frame_unmap (&scratch);
  gst_video_frame_unmap (&amodel);
  gst_video_frame_unmap (&heat);
  return TRUE;
}

gboolean
decent_frame_path_score_shared (DecentFramePath *p, DecentModel *model, GMutex *lock,
    GstVideoFrame *frame, float *score, float *map, DecentScoredFrame *how, DecentError *err)
{
  memset (how, 0, sizeof *how);
  how->on_device = decent_model_has_frame_path (model)
                   && decent_frame_path_engine_frame (p, frame, &how->device);
  const guint8 *pixels = NULL;
  if (!how->on_device) {
    pixels = decent_frame_path_to_model (p, frame);
    if (!pixels) {
      g_snprintf (err->message, sizeof err->message, "could not map a frame");
      return FALSE;
    }
    how->pixels = pixels;
  }
  if (lock)
    g_mutex_lock (lock);
  const int rc = how->on_device ? decent_model_score_frame (model, &how->device, score, map, err)
                                : decent_model_score (model, pixels, 1, score, map, err);
  if (lock)
    g_mutex_unlock (lock);
  return rc == 0;
}

gboolean
decent_frame_path_score (DecentFramePath *p, DecentModel *model, GstVideoFrame *frame,
    float *score, float *map, DecentScoredFrame *how, DecentError *err)
{
  return decent_frame_path_score_shared (p, model, NULL, frame, score, map, how, err);
}

const guint8 *
decent_frame_path_pixels (DecentFramePath *p, GstVideoFrame *frame,
    const DecentScoredFrame *how)
{
  return how && how->pixels ? how->pixels : decent_frame_path_to_model (p, frame);
}

gboolean
decent_frame_path_draw (DecentFramePath *p, DecentModel *model, GstVideoFrame *frame,
    const DecentScoredFrame *how, const gfloat *map, gdouble max_error, gdouble alpha,
    gboolean proportional, DecentError *gpu_failure)
{
  DecentError err;
  err.message[0] = '\0';
  if (how && how->on_device && !proportional) {
    DecentFrame device = how->device;
    if (decent_model_draw_heatmap (model, &device, map,
            (const uint8_t *) decent_frame_path_colour_map (), (float) max_error,
            (float) alpha, &err) == 0)
      return TRUE;
    if (gpu_failure)
      *gpu_failure = err;
  }
  return decent_frame_path_draw_heatmap (p, frame, map, max_error, alpha, proportional);
}
