/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* decent_kernels.h — our CUDA kernels, callable from C (backend_cuda.c).
 *
 * cuDNN does the convolutions and batch norm; these are the element-wise and
 * reduction steps around them, and the frame path.  Every launcher enqueues
 * on the given stream and returns the launch status (0 = cudaSuccess).  All
 * tensors are NCHW float on the device unless stated otherwise. */
#ifndef DECENT_KERNELS_H
#define DECENT_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct CUstream_st *DecentCudaStream;

/* a[i] = tanh(y[i] + bias[c]) over n images of c channels of hw values */
int decent_k_bias_tanh (const float *y, const float *bias, float *a, int n, int c, int hw,
                        DecentCudaStream s);
/* a[i] = a[i] > 0 ? a[i] : slope * a[i], in place */
int decent_k_leaky (float *a, size_t count, float slope, DecentCudaStream s);
/* da[i] *= a[i] > 0 ? 1 : slope (a is the LeakyReLU output) */
int decent_k_leaky_backward (float *da, const float *a, size_t count, float slope,
                             DecentCudaStream s);
/* da[i] *= 1 - a[i]^2 (a is the tanh output) */
int decent_k_tanh_backward (float *da, const float *a, size_t count, DecentCudaStream s);

/* Copies planes of h x w into planes of (h + eh) x (w + ew) whose extra
 * bottom rows / right columns are zero: the one-sided padding that cuDNN's
 * symmetric padding cannot express.  crop is the inverse. */
int decent_k_extend (const float *src, float *dst, int planes, int h, int w, int eh, int ew,
                     DecentCudaStream s);
int decent_k_crop (const float *src, float *dst, int planes, int h, int w, int eh, int ew,
                   DecentCudaStream s);

/* Reconstruction error of n images of `pixels` values each (channels planes
 * of `plane`).  sums[i] += sum (y - x)^2 (zero them first).  When dy is not
 * NULL it receives the gradient of the mean per-pixel error through the
 * output tanh: gscale (y - x)(1 - y^2), gscale = 2 / (n pixels).  When maps
 * is not NULL it receives the per-pixel error averaged over channels. */
int decent_k_reconstruction (const float *x, const float *y, int n, int channels, int plane,
                             double *sums, float *dy, float gscale, float *maps,
                             DecentCudaStream s);

/* Decentralization term over n latents of d values: sums[i] += ||f_i - c||^2
 * (c may be NULL: the origin; zero sums first) and, when grad is not NULL,
 * grad += gscale (f - c) with gscale = -2 lambda / n. */
int decent_k_decentral (const float *f, const float *c, int n, int d, double *sums,
                        float *grad, float gscale, DecentCudaStream s);
/* mean[j] = (1/n) sum_i f[i d + j] */
int decent_k_latent_mean (const float *f, int n, int d, float *mean, DecentCudaStream s);

/* Adam with bias corrections c1 = 1/(1 - beta1^t), c2 = 1/(1 - beta2^t). */
int decent_k_adam (float *p, const float *g, float *m, float *v, size_t count, float lr,
                   float beta1, float beta2, float eps, float c1, float c2, DecentCudaStream s);

/* ---- the frame path ------------------------------------------------------ */

/* A frame on the device.  Its layout comes from engine/frame_layout.h
 * (the host copies a DecentFrameLayout's fields in), so the kernels know no
 * format by name. */
typedef struct {
  int width, height;
  int pixel_bytes;      /* bytes per pixel of plane 0 */
  int red, green, blue; /* byte offsets in a packed pixel; -1: plane 0 is luma */
  int chroma;           /* DECENT_CHROMA_* of frame_layout.h */
  uint8_t *plane[3];    /* device pointers */
  int stride[3];
  int rx, ry, rw, rh;   /* the region that is scored and drawn on */
} DecentKFrame;

/* Unpacks the frame's region, converts it (BT.601 limited range for YUV),
 * resizes it as GStreamer's LINEAR resampler does (a tent as wide as the
 * shrink factor; linear interpolation when enlarging) and normalises it into
 * a model input of channels x oh x ow: value * scale + offset, values
 * 0..255.  Grey models take luma. */
int decent_k_frame_to_input (DecentKFrame f, float *x, int channels, int oh, int ow,
                             float scale, float offset, DecentCudaStream s);

/* Colour-maps the error map (mh x mw) through lut (256 RGB entries, device),
 * index = 255 min(err / max_error, 1), scales it bilinearly to the region and
 * blends it over the frame in place with a constant alpha, in the frame's own
 * format (the same result as the CPU path's blend in RGB). */
int decent_k_blend_heatmap (DecentKFrame f, const float *map, int mh, int mw,
                            const uint8_t *lut, float max_error, float alpha,
                            DecentCudaStream s);

#ifdef __cplusplus
}
#endif
#endif
