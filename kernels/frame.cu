/* frame.cu — the frame path on the GPU: 8-bit video frames in, model input
 * out, in one kernel; and the heatmap colour-mapped and blended back over
 * the frame in one kernel (see decent_kernels.h). */
#include "common.cuh"

/* RGB (0..255) of pixel (x, y); BT.601 limited range for YUV. */
__device__ static void
fetch_rgb (const DecentKFrame &f, int x, int y, float rgb[3])
{
  const uint8_t *row = f.plane[0] + (size_t) y * f.stride[0];
  switch (f.format) {
    case DECENT_K_RGB:
    case DECENT_K_BGR: {
      const uint8_t *p = row + 3 * x;
      int r = f.format == DECENT_K_RGB ? 0 : 2;
      rgb[0] = p[r];
      rgb[1] = p[1];
      rgb[2] = p[2 - r];
      return;
    }
    case DECENT_K_RGBX:
    case DECENT_K_BGRX: {
      const uint8_t *p = row + 4 * x;
      int r = f.format == DECENT_K_RGBX ? 0 : 2;
      rgb[0] = p[r];
      rgb[1] = p[1];
      rgb[2] = p[2 - r];
      return;
    }
    case DECENT_K_GRAY8:
      rgb[0] = rgb[1] = rgb[2] = row[x];
      return;
    default: { /* I420, NV12 */
      float yv = row[x], u, v;
      if (f.format == DECENT_K_I420) {
        u = f.plane[1][(size_t) (y / 2) * f.stride[1] + x / 2];
        v = f.plane[2][(size_t) (y / 2) * f.stride[2] + x / 2];
      } else {
        const uint8_t *uv = f.plane[1] + (size_t) (y / 2) * f.stride[1] + 2 * (x / 2);
        u = uv[0];
        v = uv[1];
      }
      float c = 1.164383f * (yv - 16.0f);
      u -= 128.0f;
      v -= 128.0f;
      rgb[0] = fminf (fmaxf (c + 1.596027f * v, 0.0f), 255.0f);
      rgb[1] = fminf (fmaxf (c - 0.391762f * u - 0.812968f * v, 0.0f), 255.0f);
      rgb[2] = fminf (fmaxf (c + 2.017232f * u, 0.0f), 255.0f);
      return;
    }
  }
}

/* One thread per model pixel: the area of the region it covers, averaged
 * (or a bilinear sample when the model is larger than the region). */
__global__ static void
frame_to_input_kernel (DecentKFrame f, float *x, int channels, int oh, int ow, float scale,
    float offset)
{
  GRID_STRIDE (i, (size_t) oh * ow) {
    const int ox = (int) (i % (size_t) ow), oy = (int) (i / (size_t) ow);
    const float fx = (float) f.rw / ow, fy = (float) f.rh / oh;
    float acc[3] = { 0.0f, 0.0f, 0.0f }, rgb[3];
    if (fx > 1.0f || fy > 1.0f) {
      const float x0 = ox * fx, x1 = x0 + fx, y0 = oy * fy, y1 = y0 + fy;
      float total = 0.0f;
      for (int sy = (int) y0; sy < (int) ceilf (y1) && sy < f.rh; sy++) {
        float wy = fminf (sy + 1.0f, y1) - fmaxf ((float) sy, y0);
        for (int sx = (int) x0; sx < (int) ceilf (x1) && sx < f.rw; sx++) {
          float w = wy * (fminf (sx + 1.0f, x1) - fmaxf ((float) sx, x0));
          fetch_rgb (f, f.rx + sx, f.ry + sy, rgb);
          for (int c = 0; c < 3; c++)
            acc[c] += w * rgb[c];
          total += w;
        }
      }
      for (int c = 0; c < 3; c++)
        acc[c] /= total;
    } else {
      float sx = fminf (fmaxf ((ox + 0.5f) * fx - 0.5f, 0.0f), f.rw - 1.0f);
      float sy = fminf (fmaxf ((oy + 0.5f) * fy - 0.5f, 0.0f), f.rh - 1.0f);
      int x0 = (int) sx, y0 = (int) sy;
      int x1 = min (x0 + 1, f.rw - 1), y1 = min (y0 + 1, f.rh - 1);
      float ax = sx - x0, ay = sy - y0;
      const int xs[2] = { x0, x1 }, ys[2] = { y0, y1 };
      const float wx[2] = { 1.0f - ax, ax }, wy[2] = { 1.0f - ay, ay };
      for (int b = 0; b < 2; b++)
        for (int a = 0; a < 2; a++) {
          fetch_rgb (f, f.rx + xs[a], f.ry + ys[b], rgb);
          for (int c = 0; c < 3; c++)
            acc[c] += wx[a] * wy[b] * rgb[c];
        }
    }
    const size_t plane = (size_t) oh * ow;
    if (channels == 1) {
      float luma = 0.299f * acc[0] + 0.587f * acc[1] + 0.114f * acc[2];
      x[i] = rintf (luma) * scale + offset;
    } else {
      for (int c = 0; c < 3; c++)
        x[c * plane + i] = rintf (acc[c]) * scale + offset;
    }
  }
}

extern "C" int
decent_k_frame_to_input (DecentKFrame f, float *x, int channels, int oh, int ow, float scale,
    float offset, DecentCudaStream s)
{
  size_t count = (size_t) oh * ow;
  frame_to_input_kernel<<<decent_blocks (count), DECENT_THREADS, 0, s>>> (f, x, channels, oh, ow,
      scale, offset);
  return decent_launched ();
}

/* The colour of the heatmap at region pixel (x, y): colours of the four
 * nearest map cells, bilinearly mixed (as scaling the coloured map would). */
__device__ static void
heat_colour (const float *map, int mh, int mw, int rw, int rh, int x, int y, const uint8_t *lut,
    float max_error, float out[3])
{
  float mx = fminf (fmaxf ((x + 0.5f) * mw / rw - 0.5f, 0.0f), mw - 1.0f);
  float my = fminf (fmaxf ((y + 0.5f) * mh / rh - 0.5f, 0.0f), mh - 1.0f);
  int x0 = (int) mx, y0 = (int) my;
  int x1 = min (x0 + 1, mw - 1), y1 = min (y0 + 1, mh - 1);
  float ax = mx - x0, ay = my - y0;
  const int xs[2] = { x0, x1 }, ys[2] = { y0, y1 };
  const float wx[2] = { 1.0f - ax, ax }, wy[2] = { 1.0f - ay, ay };
  out[0] = out[1] = out[2] = 0.0f;
  for (int b = 0; b < 2; b++)
    for (int a = 0; a < 2; a++) {
      float e = map[(size_t) ys[b] * mw + xs[a]] / max_error * 255.0f;
      int idx = (int) fminf (fmaxf (e, 0.0f), 255.0f);
      for (int c = 0; c < 3; c++)
        out[c] += wx[a] * wy[b] * lut[3 * idx + c];
    }
}

__device__ static inline void
blend_byte (uint8_t *d, float src, unsigned a256)
{
  unsigned s = (unsigned) fminf (fmaxf (src + 0.5f, 0.0f), 255.0f);
  *d = (uint8_t) ((*d * (256u - a256) + s * a256 + 128u) >> 8);
}

__global__ static void
blend_kernel (DecentKFrame f, const float *map, int mh, int mw, const uint8_t *lut,
    float max_error, unsigned a256)
{
  GRID_STRIDE (i, (size_t) f.rw * f.rh) {
    const int lx = (int) (i % (size_t) f.rw), ly = (int) (i / (size_t) f.rw);
    const int x = f.rx + lx, y = f.ry + ly;
    float rgb[3];
    heat_colour (map, mh, mw, f.rw, f.rh, lx, ly, lut, max_error, rgb);
    uint8_t *row = f.plane[0] + (size_t) y * f.stride[0];
    switch (f.format) {
      case DECENT_K_RGB:
      case DECENT_K_BGR:
      case DECENT_K_RGBX:
      case DECENT_K_BGRX: {
        int bpp = f.format <= DECENT_K_BGR ? 3 : 4;
        int r = (f.format == DECENT_K_RGB || f.format == DECENT_K_RGBX) ? 0 : 2;
        uint8_t *p = row + bpp * x;
        blend_byte (p + r, rgb[0], a256);
        blend_byte (p + 1, rgb[1], a256);
        blend_byte (p + 2 - r, rgb[2], a256);
        break;
      }
      case DECENT_K_GRAY8:
        blend_byte (row + x, 0.299f * rgb[0] + 0.587f * rgb[1] + 0.114f * rgb[2], a256);
        break;
      default: { /* I420, NV12: luma per pixel, chroma once per 2x2 block */
        float yv = 16.0f + 0.256788f * rgb[0] + 0.504129f * rgb[1] + 0.097906f * rgb[2];
        blend_byte (row + x, yv, a256);
        if ((x & 1) == 0 && (y & 1) == 0) {
          float u = 128.0f - 0.148223f * rgb[0] - 0.290993f * rgb[1] + 0.439216f * rgb[2];
          float v = 128.0f + 0.439216f * rgb[0] - 0.367788f * rgb[1] - 0.071427f * rgb[2];
          if (f.format == DECENT_K_I420) {
            blend_byte (f.plane[1] + (size_t) (y / 2) * f.stride[1] + x / 2, u, a256);
            blend_byte (f.plane[2] + (size_t) (y / 2) * f.stride[2] + x / 2, v, a256);
          } else {
            uint8_t *uv = f.plane[1] + (size_t) (y / 2) * f.stride[1] + x;
            blend_byte (uv, u, a256);
            blend_byte (uv + 1, v, a256);
          }
        }
        break;
      }
    }
  }
}

extern "C" int
decent_k_blend_heatmap (DecentKFrame f, const float *map, int mh, int mw, const uint8_t *lut,
    float max_error, float alpha, DecentCudaStream s)
{
  size_t count = (size_t) f.rw * f.rh;
  unsigned a256 = (unsigned) (fminf (fmaxf (alpha, 0.0f), 1.0f) * 256.0f + 0.5f);
  if (!(max_error > 0.0f))
    max_error = 1.0f;
  blend_kernel<<<decent_blocks (count), DECENT_THREADS, 0, s>>> (f, map, mh, mw, lut, max_error,
      a256);
  return decent_launched ();
}
