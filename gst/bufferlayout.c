/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bufferlayout.c — a video buffer's layout checked against its size. */
#include "bufferlayout.h"

/* The bytes of one row of a plane: the widest of its components' pixel
 * stride times width (in packed 4:2:2 of odd width, YUY2 and UYVY, the last
 * pair's chroma lies past the luma's 2 × width bytes: helper-70), or the
 * stride itself for formats without a pixel stride (packed groups such as
 * v210). */
static gint64
row_bytes (const GstVideoFormatInfo *finfo, guint plane, guint width, gint stride)
{
  gint comp[GST_VIDEO_MAX_COMPONENTS];
  gst_video_format_info_component (finfo, plane, comp);
  gint64 bytes = 0;
  for (gint c = 0; c < GST_VIDEO_MAX_COMPONENTS && comp[c] >= 0; c++) {
    const gint pstride = GST_VIDEO_FORMAT_INFO_PSTRIDE (finfo, comp[c]);
    if (pstride <= 0)
      return ABS ((gint64) stride);
    bytes = MAX (bytes, (gint64) pstride
        * GST_VIDEO_FORMAT_INFO_SCALE_WIDTH (finfo, comp[c], (gint) width));
  }
  return bytes ? bytes : ABS ((gint64) stride);
}

static guint
plane_rows (const GstVideoFormatInfo *finfo, guint plane, guint height)
{
  gint comp[GST_VIDEO_MAX_COMPONENTS];
  gst_video_format_info_component (finfo, plane, comp);
  return comp[0] >= 0
      ? (guint) GST_VIDEO_FORMAT_INFO_SCALE_HEIGHT (finfo, comp[0], (gint) height) : height;
}

gboolean
decent_buffer_layout_fits (GstBuffer *buffer, const GstVideoInfo *info, gchar **why)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer) && info && info->finfo && why, FALSE);
  *why = NULL;
  const gsize size = gst_buffer_get_size (buffer);
  const GstVideoFormatInfo *finfo = info->finfo;
  const gchar *format = gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (info));
  GstVideoMeta *meta = gst_buffer_get_video_meta (buffer);
  if (!meta) {
    if (size >= GST_VIDEO_INFO_SIZE (info))
      return TRUE;
    *why = g_strdup_printf ("a %" G_GSIZE_FORMAT "-byte buffer%s where %s %dx%d takes %"
        G_GSIZE_FORMAT " bytes; it carries no meta", size,
        GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_GAP) ? " (flagged GAP)" : "", format,
        GST_VIDEO_INFO_WIDTH (info), GST_VIDEO_INFO_HEIGHT (info),
        (gsize) GST_VIDEO_INFO_SIZE (info));
    return FALSE;
  }
  if (meta->format != GST_VIDEO_INFO_FORMAT (info)
      || meta->n_planes != GST_VIDEO_INFO_N_PLANES (info)
      || meta->width < (guint) GST_VIDEO_INFO_WIDTH (info)
      || meta->height < (guint) GST_VIDEO_INFO_HEIGHT (info)) {
    *why = g_strdup_printf ("the buffer's video meta says %s %ux%u in %u planes where the caps "
        "say %s %dx%d in %u", gst_video_format_to_string (meta->format), meta->width,
        meta->height, meta->n_planes, format, GST_VIDEO_INFO_WIDTH (info),
        GST_VIDEO_INFO_HEIGHT (info), GST_VIDEO_INFO_N_PLANES (info));
    return FALSE;
  }
  if (GST_VIDEO_FORMAT_INFO_IS_TILED (finfo))
    return TRUE; /* (tiles are laid out otherwise; no format this plugin takes) */
  const guint blocks = gst_buffer_n_memory (buffer);
  for (guint p = 0; p < meta->n_planes; p++) {
    const gint stride = meta->stride[p];
    const gint64 rows = plane_rows (finfo, p, meta->height);
    const gint64 bytes = row_bytes (finfo, p, meta->width, stride);
    /* a plane is mapped from the one memory block that holds its first
     * byte (gst_video_meta_map): it must lie in it, not run into the next
     * (helper-70) */
    gsize start = meta->offset[p], room = size;
    guint idx, length;
    gsize skip;
    if (blocks > 1 && meta->offset[p] < size
        && gst_buffer_find_memory (buffer, meta->offset[p], 1, &idx, &length, &skip)) {
      start = skip;
      room = gst_memory_get_sizes (gst_buffer_peek_memory (buffer, idx), NULL, NULL);
    }
    /* the lowest and the highest byte any row of the plane reaches */
    const gint64 first = (gint64) start + MIN (0, (gint64) stride * (rows - 1));
    const gint64 end = (gint64) start + MAX (0, (gint64) stride * (rows - 1)) + bytes;
    if (rows > 0 && (meta->offset[p] > size || first < 0 || end > (gint64) room)) {
      *why = g_strdup_printf ("the buffer's video meta puts plane %u of %s %ux%u at offset %"
          G_GSIZE_FORMAT " with rows of %d bytes (%" G_GINT64_FORMAT " rows of %" G_GINT64_FORMAT
          " bytes), outside the %" G_GSIZE_FORMAT "-byte %s", p, format, meta->width,
          meta->height, meta->offset[p], stride, rows, bytes, room,
          room != size ? "memory block that holds its start" : "buffer");
      return FALSE;
    }
  }
  return TRUE;
}
