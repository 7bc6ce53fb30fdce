/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* backend_cuda.c — the CUDA backend: cuDNN for convolutions, transposed
 * convolutions and batch norm; our kernels (kernels/) for activations, the
 * loss terms and their gradients, Adam and the frame path.
 *
 * Everything stays on the GPU between calls: parameters, gradients, Adam
 * moments and BatchNorm statistics are flat device arrays in canonical order,
 * except that a transposed convolution's weights are kept as the filter of
 * the convolution it is the backward pass of, (in, out, kh, kw), so cuDNN
 * can use them directly; set/get_params transpose on the way in and out.
 * Adam is element-wise, so the layout does not matter to it.
 *
 * A transposed convolution is cuDNN's backward-data of the mirrored
 * convolution, and its backward passes are that convolution's forward and
 * backward-filter.  So every stage has one "big" side (a conv's input, a
 * deconv's output) and one "small" side, and needs the same three cuDNN
 * algorithms, found once per (stage, batch size) when a plan is built.
 * cuDNN only pads symmetrically; where the architecture pads one more row or
 * column at the bottom/right, the big side is extended by a zero row/column
 * (decent_k_extend / decent_k_crop).
 *
 * Each backend (one per element instance) has its own CUDA stream and cuDNN
 * handle; inputs go up from pinned buffers asynchronously and the step waits
 * once, for the loss, before it decides to apply the update. */
#include "registry.h" /* this backend's entry points */
#include "decent_kernels.h"
#include "frame_layout.h"
#include "plan_cache.h"

#include <cuda_runtime_api.h>
#include <cudnn.h>
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BATCH 65535 /* one grid row per image in the loss kernels */
#define LEAKY_SLOPE 0.2f
#define WORKSPACE_LIMIT ((size_t) 1 << 30) /* per algorithm */

typedef struct {
  int eh, ew; /* zero rows / columns added to the big side */
  cudnnTensorDescriptor_t big, small, out, chan;
  cudnnFilterDescriptor_t filt;
  cudnnConvolutionDescriptor_t c_fwd, c_bwd_data, c_bwd_filter;
  cudnnConvolutionFwdAlgo_t a_fwd;
  cudnnConvolutionBwdDataAlgo_t a_bwd_data;
  cudnnConvolutionBwdFilterAlgo_t a_bwd_filter;
  int has_fwd, has_bwd_data, has_bwd_filter;
  float *ext, *dext;   /* extended big side and its gradient (one-sided padding only) */
  float *y, *a, *da, *dy; /* pre-activation, activation and their gradients (out side) */
  float *save_mean, *save_invvar;
} CudaStage;

/* Input and results of one batch in flight.  A plan has two, so that the
 * next batch's upload (on the copy stream) overlaps this batch's compute. */
typedef struct {
  float *x;             /* device input */
  float *maps;          /* device per-pixel errors */
  double *sums;         /* device: n reconstruction sums, then n spread sums */
  float *h_x, *h_maps;  /* pinned */
  double *h_sums;
  cudaEvent_t uploaded, done;
  int want_maps, busy;
} CudaSlot;

typedef struct {
  int n, training;
  CudaStage st[DECENT_MAX_STAGES];
  CudaSlot slot[2];     /* training and the frame path use slot 0 */
  const float *in;      /* the input of the pass in flight (a slot's x) */
  float *h_latent_mean;
  size_t workspace;
} CudaPlan;

struct DecentBackend {
  DecentArch arch;
  float bn_eps;
  int device;
  int strict_fp32; /* DECENT_CUDA_MATH=fp32: no TF32 tensor cores */
  cudaStream_t stream, copy_stream; /* compute; uploads of scoring batches */
  cudnnHandle_t cudnn;
  size_t n_params, n_buffers;
  DecentStageOffsets off[DECENT_MAX_STAGES]; /* of each stage's parameters (arch.h) */
  float *params, *grads, *adam_m, *adam_v; /* device */
  float *buffers, *pending;  /* device running statistics; pending: the step in flight's */
  float *centre, *latent_mean; /* device, latent_dim floats */
  float *h_centre;             /* pinned */
  void *workspace;
  size_t workspace_size;
  DecentPlanCache plans;
  /* frame path */
  uint8_t *d_frame, *h_frame;
  size_t frame_cap;
  float *d_draw_map, *d_frame_x; /* the map draw_frame was given; */
  uint8_t *d_lut;
  uint8_t h_lut[768];
  int lut_ready;
  char impl[4096];
};

/* ---- errors ----------------------------------------------------------- */


#define CU_TRY(call, what)                                                                \
  do {                                                                                    \
    cudaError_t e_ = (call);                                                              \
    if (e_ != cudaSuccess) {                                                              \
      decent_fail (err, "CUDA failed to %s: %s", what, cudaGetErrorString (e_));                 \
      goto fail;                                                                          \
    }                                                                                     \
  } while (0)

#define DNN_TRY(call, what)                                                               \
  do {                                                                                    \
    cudnnStatus_t s_ = (call);                                                            \
    if (s_ != CUDNN_STATUS_SUCCESS) {                                                     \
      decent_fail (err, "cuDNN failed to %s: %s", what, cudnnGetErrorString (s_));               \
      goto fail;                                                                          \
    }                                                                                     \
  } while (0)

#define K_TRY(call, what) CU_TRY ((cudaError_t) (call), what)

/* ---- is a GPU usable? ------------------------------------------------- */

static pthread_once_t probe_once = PTHREAD_ONCE_INIT;
static int probe_usable;
static char probe_text[512], fallback_text[600];

static void probe_gpu (void);

static void
probe (void)
{
  probe_gpu ();
  if (!probe_usable)
    snprintf (fallback_text, sizeof fallback_text, "CPU (oneDNN); CUDA is not used: %s",
        probe_text);
}

static void
probe_gpu (void)
{
  const char *off = getenv ("DECENT_CUDA_DISABLE");
  if (off && *off && strcmp (off, "0") != 0) {
    snprintf (probe_text, sizeof probe_text, "CUDA disabled by DECENT_CUDA_DISABLE");
    return;
  }
  /* Without the driver library the runtime cannot work; asking it anyway
   * would only load it to learn that.  Check first, cheaply. */
  void *driver = dlopen ("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
  if (!driver) {
    snprintf (probe_text, sizeof probe_text, "no NVIDIA driver (libcuda.so.1 not found)");
    return;
  }
  dlclose (driver);
  int count = 0;
  cudaError_t e = cudaGetDeviceCount (&count);
  if (e != cudaSuccess || count < 1) {
    snprintf (probe_text, sizeof probe_text, "no usable CUDA GPU (%s)",
        e != cudaSuccess ? cudaGetErrorString (e) : "none found");
    return;
  }
  struct cudaDeviceProp prop;
  if (cudaGetDeviceProperties (&prop, 0) != cudaSuccess) {
    snprintf (probe_text, sizeof probe_text, "cannot query CUDA GPU 0");
    return;
  }
  if (prop.major < 8) {
    snprintf (probe_text, sizeof probe_text,
        "GPU %.200s has compute capability %d.%d; this build needs 8.0 or newer", prop.name,
        prop.major, prop.minor);
    return;
  }
  size_t v = cudnnGetVersion ();
  if (v < 90000) {
    snprintf (probe_text, sizeof probe_text, "cuDNN %zu is too old; 9 or newer is needed", v);
    return;
  }
  snprintf (probe_text, sizeof probe_text, "%.200s (compute %d.%d, %.0f GiB, cuDNN %zu.%zu.%zu)",
      prop.name, prop.major, prop.minor, prop.totalGlobalMem / 1073741824.0, v / 10000,
      (v / 100) % 100, v % 100);
  probe_usable = 1;
}

static int
cuda_usable (void)
{
  pthread_once (&probe_once, probe);
  return probe_usable;
}

static const char *
cuda_describe (void)
{
  pthread_once (&probe_once, probe);
  return probe_text;
}

static const char *
cuda_describe_auto (void)
{
  pthread_once (&probe_once, probe);
  return probe_usable ? probe_text : fallback_text;
}

/* ---- parameter layout ------------------------------------------------- */

/* Copies a canonical parameter array into device order (to_device) or back:
 * only transposed convolutions' weights differ, (out, in) <-> (in, out). */
static void
reorder_params (const DecentArch *arch, const float *src, float *dst, int to_device)
{
  DecentStageOffsets off[DECENT_MAX_STAGES];
  const size_t total = decent_arch_offsets (arch, off, NULL);
  memcpy (dst, src, total * sizeof (float));
  for (int i = 0; i < arch->n_stages; i++) {
    const DecentStage *s = &arch->stages[i];
    if (s->kind != DECENT_STAGE_DECONV)
      continue;
    const size_t kk = (size_t) s->kernel * s->kernel, at = off[i].weights;
    const int rows = to_device ? s->out_c : s->in_c, cols = to_device ? s->in_c : s->out_c;
    for (int r = 0; r < rows; r++)
      for (int c = 0; c < cols; c++)
        memcpy (dst + at + ((size_t) c * rows + r) * kk, src + at + ((size_t) r * cols + c) * kk,
            kk * sizeof (float));
  }
}

/* ---- plans ------------------------------------------------------------ */

static void
stage_free (CudaStage *s)
{
  if (s->big) cudnnDestroyTensorDescriptor (s->big);
  if (s->small) cudnnDestroyTensorDescriptor (s->small);
  if (s->out) cudnnDestroyTensorDescriptor (s->out);
  if (s->chan) cudnnDestroyTensorDescriptor (s->chan);
  if (s->filt) cudnnDestroyFilterDescriptor (s->filt);
  if (s->c_fwd) cudnnDestroyConvolutionDescriptor (s->c_fwd);
  if (s->c_bwd_data) cudnnDestroyConvolutionDescriptor (s->c_bwd_data);
  if (s->c_bwd_filter) cudnnDestroyConvolutionDescriptor (s->c_bwd_filter);
  float *bufs[] = { s->ext, s->dext, s->y, s->a, s->da, s->save_mean, s->save_invvar };
  for (size_t k = 0; k < sizeof bufs / sizeof bufs[0]; k++)
    if (bufs[k])
      cudaFree (bufs[k]);
  if (s->dy && s->dy != s->da)
    cudaFree (s->dy);
  memset (s, 0, sizeof *s);
}

static void
plan_free (DecentBackend *be, CudaPlan *p)
{
  if (!p)
    return;
  for (int i = 0; i < be->arch.n_stages; i++)
    stage_free (&p->st[i]);
  for (int k = 0; k < 2; k++) {
    CudaSlot *sl = &p->slot[k];
    if (sl->x) cudaFree (sl->x);
    if (sl->maps) cudaFree (sl->maps);
    if (sl->sums) cudaFree (sl->sums);
    if (sl->h_x) cudaFreeHost (sl->h_x);
    if (sl->h_maps) cudaFreeHost (sl->h_maps);
    if (sl->h_sums) cudaFreeHost (sl->h_sums);
    if (sl->uploaded) cudaEventDestroy (sl->uploaded);
    if (sl->done) cudaEventDestroy (sl->done);
  }
  if (p->h_latent_mean) cudaFreeHost (p->h_latent_mean);
  free (p);
}

static int
device_floats (float **ptr, size_t count, DecentError *err)
{
  cudaError_t e = cudaMalloc ((void **) ptr, (count ? count : 1) * sizeof (float));
  if (e != cudaSuccess) {
    *ptr = NULL;
    return decent_fail (err, "CUDA could not allocate %.1f MiB of GPU memory: %s",
        count * sizeof (float) / 1048576.0, cudaGetErrorString (e));
  }
  return 0;
}

static int
conv_desc (DecentBackend *be, cudnnConvolutionDescriptor_t *c, const DecentStage *s,
    DecentError *err)
{
  DNN_TRY (cudnnCreateConvolutionDescriptor (c), "create a convolution descriptor");
  DNN_TRY (cudnnSetConvolution2dDescriptor (*c, s->pad_t, s->pad_l, s->stride, s->stride, 1, 1,
               CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
      "describe a convolution");
  DNN_TRY (cudnnSetConvolutionMathType (*c, be->strict_fp32 ? CUDNN_FMA_MATH : CUDNN_DEFAULT_MATH),
      "set the convolution math type");
  return 0;
fail:
  return -1;
}

/* Picks the fastest algorithm that succeeded within the workspace limit,
 * and lets its math type (TF32 or FMA) stand for the descriptor. */
#define PICK_ALGO(perf, count, desc, out, need, what)                                      \
  do {                                                                                     \
    int found_ = 0;                                                                        \
    for (int k_ = 0; k_ < (count); k_++)                                                   \
      if ((perf)[k_].status == CUDNN_STATUS_SUCCESS && (perf)[k_].memory <= WORKSPACE_LIMIT) { \
        (out) = (perf)[k_].algo;                                                           \
        if ((need) < (perf)[k_].memory)                                                    \
          (need) = (perf)[k_].memory;                                                      \
        if (!be->strict_fp32)                                                              \
          cudnnSetConvolutionMathType ((desc), (perf)[k_].mathType);                       \
        found_ = 1;                                                                        \
        break;                                                                             \
      }                                                                                    \
    if (!found_) {                                                                         \
      decent_fail (err, "cuDNN has no %s algorithm for layer %d at batch %d", what, i, p->n);     \
      goto fail;                                                                           \
    }                                                                                      \
  } while (0)

static const char *
kind_name (const DecentStage *s)
{
  return s->kind == DECENT_STAGE_CONV ? "conv" : "deconv";
}

static int
build_stage (DecentBackend *be, CudaPlan *p, int i, DecentError *err)
{
  const DecentStage *s = &be->arch.stages[i];
  CudaStage *cs = &p->st[i];
  const int conv = s->kind == DECENT_STAGE_CONV, n = p->n, training = p->training;
  const int big_c = conv ? s->in_c : s->out_c, big_h = conv ? s->in_h : s->out_h;
  const int big_w = conv ? s->in_w : s->out_w;
  const int small_c = conv ? s->out_c : s->in_c, small_h = conv ? s->out_h : s->in_h;
  const int small_w = conv ? s->out_w : s->in_w;
  cs->eh = s->pad_b > s->pad_t ? s->pad_b - s->pad_t : 0;
  cs->ew = s->pad_r > s->pad_l ? s->pad_r - s->pad_l : 0;

  DNN_TRY (cudnnCreateTensorDescriptor (&cs->big), "create a tensor descriptor");
  DNN_TRY (cudnnCreateTensorDescriptor (&cs->small), "create a tensor descriptor");
  DNN_TRY (cudnnCreateTensorDescriptor (&cs->out), "create a tensor descriptor");
  DNN_TRY (cudnnCreateTensorDescriptor (&cs->chan), "create a tensor descriptor");
  DNN_TRY (cudnnCreateFilterDescriptor (&cs->filt), "create a filter descriptor");
  DNN_TRY (cudnnSetTensor4dDescriptor (cs->big, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, big_c,
               big_h + cs->eh, big_w + cs->ew),
      "describe a layer's input");
  DNN_TRY (cudnnSetTensor4dDescriptor (cs->small, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n,
               small_c, small_h, small_w),
      "describe a layer's output");
  DNN_TRY (cudnnSetTensor4dDescriptor (cs->out, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, s->out_c,
               s->out_h, s->out_w),
      "describe a layer's output");
  DNN_TRY (cudnnSetTensor4dDescriptor (cs->chan, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1,
               s->out_c, 1, 1),
      "describe per-channel parameters");
  DNN_TRY (cudnnSetFilter4dDescriptor (cs->filt, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, small_c,
               big_c, s->kernel, s->kernel),
      "describe weights");
  if (conv_desc (be, &cs->c_fwd, s, err) < 0 || conv_desc (be, &cs->c_bwd_data, s, err) < 0
      || conv_desc (be, &cs->c_bwd_filter, s, err) < 0)
    goto fail;

  /* the architecture and cuDNN must agree on the small side's size */
  int dn, dc, dh, dw;
  DNN_TRY (cudnnGetConvolution2dForwardOutputDim (cs->c_fwd, cs->big, cs->filt, &dn, &dc, &dh,
               &dw),
      "size a convolution");
  if (dh != small_h || dw != small_w || dc != small_c) {
    decent_fail (err, "layer %d: cuDNN computes %dx%dx%d, the architecture %dx%dx%d", i, dw, dh, dc,
        small_w, small_h, small_c);
    goto fail;
  }

  const size_t out_count = (size_t) n * s->out_c * s->out_h * s->out_w;
  const size_t big_ext = (size_t) n * big_c * (big_h + cs->eh) * (big_w + cs->ew);
  const int extended = cs->eh || cs->ew;
  if (device_floats (&cs->y, out_count, err) < 0 || device_floats (&cs->a, out_count, err) < 0)
    goto fail;
  if (extended && device_floats (&cs->ext, big_ext, err) < 0)
    goto fail;
  if (training) {
    if (device_floats (&cs->da, out_count, err) < 0)
      goto fail;
    if (s->act == DECENT_ACT_BN_LEAKY) {
      if (device_floats (&cs->dy, out_count, err) < 0
          || device_floats (&cs->save_mean, s->out_c, err) < 0
          || device_floats (&cs->save_invvar, s->out_c, err) < 0)
        goto fail;
    } else {
      cs->dy = cs->da; /* tanh's backward runs in place */
    }
    if (extended && (!conv || i > 0) && device_floats (&cs->dext, big_ext, err) < 0)
      goto fail;
  }

  /* which of the three directions this stage runs */
  cs->has_fwd = conv || training;
  cs->has_bwd_data = !conv || (training && i > 0);
  cs->has_bwd_filter = training;
  if (cs->has_fwd) {
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int got = 0;
    DNN_TRY (cudnnFindConvolutionForwardAlgorithm (be->cudnn, cs->big, cs->filt, cs->c_fwd,
                 cs->small, CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &got, perf),
        "find a convolution algorithm");
    PICK_ALGO (perf, got, cs->c_fwd, cs->a_fwd, p->workspace, "forward");
  }
  if (cs->has_bwd_data) {
    cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    int got = 0;
    DNN_TRY (cudnnFindConvolutionBackwardDataAlgorithm (be->cudnn, cs->filt, cs->small,
                 cs->c_bwd_data, cs->big, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &got, perf),
        "find a backward-data algorithm");
    PICK_ALGO (perf, got, cs->c_bwd_data, cs->a_bwd_data, p->workspace, "backward-data");
  }
  if (cs->has_bwd_filter) {
    cudnnConvolutionBwdFilterAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
    int got = 0;
    DNN_TRY (cudnnFindConvolutionBackwardFilterAlgorithm (be->cudnn, cs->big, cs->small,
                 cs->c_bwd_filter, cs->filt, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &got, perf),
        "find a backward-filter algorithm");
    PICK_ALGO (perf, got, cs->c_bwd_filter, cs->a_bwd_filter, p->workspace, "backward-filter");
  }
  size_t used = strlen (be->impl);
  if (used + 96 < sizeof be->impl)
    snprintf (be->impl + used, sizeof be->impl - used, "%s%d %s: fwd %d, bwd-data %d, bwd-filter %d",
        i ? "; " : "", i, kind_name (s), cs->has_fwd ? (int) cs->a_fwd : -1,
        cs->has_bwd_data ? (int) cs->a_bwd_data : -1,
        cs->has_bwd_filter ? (int) cs->a_bwd_filter : -1);
  return 0;
fail:
  return -1;
}

static CudaPlan *
plan_new (DecentBackend *be, int n, int training, DecentError *err)
{
  const DecentArch *arch = &be->arch;
  CudaPlan *p = calloc (1, sizeof *p);
  if (!p) {
    decent_fail (err, "out of memory for a plan");
    return NULL;
  }
  p->n = n;
  p->training = training;
  const size_t plane = (size_t) arch->width * arch->height;
  const size_t in_count = (size_t) n * arch->channels * plane;
  const int d = decent_arch_latent_dim (arch);
  snprintf (be->impl, sizeof be->impl, "cuDNN %s, batch %d, math %s: ",
      training ? "training" : "scoring", n, be->strict_fp32 ? "fp32" : "tf32 allowed");
  for (int k = 0; k < (training ? 1 : 2); k++) {
    CudaSlot *sl = &p->slot[k];
    if (device_floats (&sl->x, in_count, err) < 0
        || device_floats (&sl->maps, n * plane, err) < 0)
      goto fail;
    CU_TRY (cudaMalloc ((void **) &sl->sums, 2 * (size_t) n * sizeof (double)),
        "allocate sums");
    CU_TRY (cudaMallocHost ((void **) &sl->h_x, in_count * sizeof (float)), "pin host memory");
    CU_TRY (cudaMallocHost ((void **) &sl->h_maps, n * plane * sizeof (float)),
        "pin host memory");
    CU_TRY (cudaMallocHost ((void **) &sl->h_sums, 2 * (size_t) n * sizeof (double)),
        "pin host memory");
    CU_TRY (cudaEventCreateWithFlags (&sl->uploaded, cudaEventDisableTiming), "create an event");
    CU_TRY (cudaEventCreateWithFlags (&sl->done, cudaEventDisableTiming), "create an event");
  }
  CU_TRY (cudaMallocHost ((void **) &p->h_latent_mean, (size_t) d * sizeof (float)),
      "pin host memory");
  for (int i = 0; i < arch->n_stages; i++)
    if (build_stage (be, p, i, err) < 0)
      goto fail;
  if (p->workspace > be->workspace_size) {
    CU_TRY (cudaStreamSynchronize (be->stream), "finish queued work");
    if (be->workspace)
      cudaFree (be->workspace);
    be->workspace = NULL;
    be->workspace_size = 0;
    CU_TRY (cudaMalloc (&be->workspace, p->workspace), "allocate the convolution workspace");
    be->workspace_size = p->workspace;
  }
  return p;
fail:
  plan_free (be, p);
  return NULL;
}

static int
ensure_training_state (DecentBackend *be, DecentError *err)
{
  if (be->grads)
    return 0;
  if (device_floats (&be->grads, be->n_params, err) < 0
      || device_floats (&be->adam_m, be->n_params, err) < 0
      || device_floats (&be->adam_v, be->n_params, err) < 0
      || device_floats (&be->pending, be->n_buffers, err) < 0)
    return -1;
  CU_TRY (cudaMemsetAsync (be->adam_m, 0, be->n_params * sizeof (float), be->stream),
      "clear Adam state");
  CU_TRY (cudaMemsetAsync (be->adam_v, 0, be->n_params * sizeof (float), be->stream),
      "clear Adam state");
  return 0;
fail:
  return -1;
}

static void *
cache_create (void *be, int n, int training, DecentError *err)
{
  return plan_new (be, n, training, err);
}

static void
cache_destroy (void *be, void *plan)
{
  plan_free (be, plan);
}

static int
cache_in_flight (void *be, const void *plan)
{
  const CudaPlan *p = plan;
  return p->slot[0].busy || p->slot[1].busy;
}

static void
cache_drain (void *owner)
{
  DecentBackend *be = owner;
  cudaStreamSynchronize (be->copy_stream);
  cudaStreamSynchronize (be->stream);
}

static const DecentPlanOps plan_ops = { cache_create, cache_destroy, cache_in_flight,
  cache_drain };

static CudaPlan *
get_plan (DecentBackend *be, int n, int training, DecentError *err)
{
  if (training && ensure_training_state (be, err) < 0)
    return NULL;
  return decent_plan_cache_get (&be->plans, &plan_ops, be, n, training, err);
}

/* ---- forward and backward --------------------------------------------- */

static const float one = 1.0f, zero = 0.0f;

/* Queues a forward pass of input x (on the device, or arriving in stream
 * order) through the plan. */
static int
forward (DecentBackend *be, CudaPlan *p, const float *x, float bn_momentum, DecentError *err)
{
  const DecentArch *arch = &be->arch;
  const int n = p->n;
  const float *src = x;
  p->in = x;
  for (int i = 0; i < arch->n_stages; i++) {
    const DecentStage *s = &arch->stages[i];
    CudaStage *cs = &p->st[i];
    const float *w = be->params + be->off[i].weights;
    if (s->kind == DECENT_STAGE_CONV) {
      const float *in = src;
      if (cs->ext) {
        K_TRY (decent_k_extend (src, cs->ext, n * s->in_c, s->in_h, s->in_w, cs->eh, cs->ew,
                   be->stream),
            "extend a layer's input");
        in = cs->ext;
      }
      DNN_TRY (cudnnConvolutionForward (be->cudnn, &one, cs->big, in, cs->filt, w, cs->c_fwd,
                   cs->a_fwd, be->workspace, be->workspace_size, &zero, cs->small, cs->y),
          "run a convolution");
    } else {
      DNN_TRY (cudnnConvolutionBackwardData (be->cudnn, &one, cs->filt, w, cs->small, src,
                   cs->c_bwd_data, cs->a_bwd_data, be->workspace, be->workspace_size, &zero,
                   cs->big, cs->ext ? cs->ext : cs->y),
          "run a transposed convolution");
      if (cs->ext)
        K_TRY (decent_k_crop (cs->ext, cs->y, n * s->out_c, s->out_h, s->out_w, cs->eh, cs->ew,
                   be->stream),
            "crop a layer's output");
    }
    const size_t count = (size_t) n * s->out_c * s->out_h * s->out_w;
    if (s->act == DECENT_ACT_BN_LEAKY) {
      const float *gamma = be->params + be->off[i].gamma, *beta = be->params + be->off[i].beta;
      if (p->training)
        DNN_TRY (cudnnBatchNormalizationForwardTraining (be->cudnn, CUDNN_BATCHNORM_SPATIAL, &one,
                     &zero, cs->out, cs->y, cs->out, cs->a, cs->chan, gamma, beta, bn_momentum,
                     be->pending + be->off[i].running_mean, be->pending + be->off[i].running_var, be->bn_eps,
                     cs->save_mean, cs->save_invvar),
            "run batch norm");
      else
        DNN_TRY (cudnnBatchNormalizationForwardInference (be->cudnn, CUDNN_BATCHNORM_SPATIAL, &one,
                     &zero, cs->out, cs->y, cs->out, cs->a, cs->chan, gamma, beta,
                     be->buffers + be->off[i].running_mean, be->buffers + be->off[i].running_var, be->bn_eps),
            "run batch norm");
      K_TRY (decent_k_leaky (cs->a, count, LEAKY_SLOPE, be->stream), "run LeakyReLU");
    } else {
      K_TRY (decent_k_bias_tanh (cs->y, be->params + be->off[i].bias, cs->a, n, s->out_c,
                 s->out_h * s->out_w, be->stream),
          "run bias and tanh");
    }
    src = cs->a;
  }
  return 0;
fail:
  return -1;
}

/* Backward through stage i: from its da (the activation's gradient) to the
 * weights' gradients and the previous stage's da. */
static int
backward_stage (DecentBackend *be, CudaPlan *p, int i, DecentError *err)
{
  const DecentStage *s = &be->arch.stages[i];
  CudaStage *cs = &p->st[i];
  const int n = p->n;
  const size_t count = (size_t) n * s->out_c * s->out_h * s->out_w;
  const float *w = be->params + be->off[i].weights;
  float *dw = be->grads + be->off[i].weights;
  const float *src = i > 0 ? p->st[i - 1].a : p->in;

  if (s->act == DECENT_ACT_BN_LEAKY) {
    K_TRY (decent_k_leaky_backward (cs->da, cs->a, count, LEAKY_SLOPE, be->stream),
        "run LeakyReLU backward");
    DNN_TRY (cudnnBatchNormalizationBackward (be->cudnn, CUDNN_BATCHNORM_SPATIAL, &one, &zero,
                 &one, &zero, cs->out, cs->y, cs->out, cs->da, cs->out, cs->dy, cs->chan,
                 be->params + be->off[i].gamma, be->grads + be->off[i].gamma, be->grads + be->off[i].beta,
                 be->bn_eps, cs->save_mean, cs->save_invvar),
        "run batch norm backward");
  } else if (i != be->arch.n_stages - 1) { /* the output's tanh is folded into the loss */
    K_TRY (decent_k_tanh_backward (cs->da, cs->a, count, be->stream), "run tanh backward");
  }
  if (s->has_bias)
    DNN_TRY (cudnnConvolutionBackwardBias (be->cudnn, &one, cs->out, cs->dy, &zero, cs->chan,
                 be->grads + be->off[i].bias),
        "compute a bias gradient");

  if (s->kind == DECENT_STAGE_CONV) {
    const float *in = cs->ext ? cs->ext : src; /* ext still holds the extended input */
    DNN_TRY (cudnnConvolutionBackwardFilter (be->cudnn, &one, cs->big, in, cs->small, cs->dy,
                 cs->c_bwd_filter, cs->a_bwd_filter, be->workspace, be->workspace_size, &zero,
                 cs->filt, dw),
        "run a backward-filter convolution");
    if (i > 0) {
      float *dprev = p->st[i - 1].da;
      DNN_TRY (cudnnConvolutionBackwardData (be->cudnn, &one, cs->filt, w, cs->small, cs->dy,
                   cs->c_bwd_data, cs->a_bwd_data, be->workspace, be->workspace_size, &zero,
                   cs->big, cs->dext ? cs->dext : dprev),
          "run a backward-data convolution");
      if (cs->dext)
        K_TRY (decent_k_crop (cs->dext, dprev, n * s->in_c, s->in_h, s->in_w, cs->eh, cs->ew,
                   be->stream),
            "crop a gradient");
    }
  } else {
    const float *gbig = cs->dy;
    if (cs->dext) {
      K_TRY (decent_k_extend (cs->dy, cs->dext, n * s->out_c, s->out_h, s->out_w, cs->eh, cs->ew,
                 be->stream),
          "extend a gradient");
      gbig = cs->dext;
    }
    DNN_TRY (cudnnConvolutionBackwardFilter (be->cudnn, &one, cs->big, gbig, cs->small, src,
                 cs->c_bwd_filter, cs->a_bwd_filter, be->workspace, be->workspace_size, &zero,
                 cs->filt, dw),
        "run a transposed convolution's backward-filter");
    DNN_TRY (cudnnConvolutionForward (be->cudnn, &one, cs->big, gbig, cs->filt, w, cs->c_fwd,
                 cs->a_fwd, be->workspace, be->workspace_size, &zero, cs->small,
                 p->st[i - 1].da),
        "run a transposed convolution's backward-data");
  }
  return 0;
fail:
  return -1;
}

/* Copies x into the slot's pinned buffer and queues its upload on stream. */
static int
upload_input (DecentBackend *be, CudaPlan *p, CudaSlot *sl, const float *x, cudaStream_t stream,
    DecentError *err)
{
  const size_t bytes = (size_t) p->n * be->arch.channels * be->arch.width * be->arch.height
                       * sizeof (float);
  memcpy (sl->h_x, x, bytes);
  CU_TRY (cudaMemcpyAsync (sl->x, sl->h_x, bytes, cudaMemcpyHostToDevice, stream),
      "copy the input to the GPU");
  return 0;
fail:
  return -1;
}

static int
cuda_train_step (DecentBackend *be, const float *x, int n, const DecentStepParams *sp,
    DecentLossTerms *terms, float *grads, float *latent_mean, DecentError *err)
{
  if (!be || !x || !sp || n < 2 || n > MAX_BATCH)
    return decent_fail (err, "a training step on the GPU needs a batch of 2..%d images", MAX_BATCH);
  const DecentArch *arch = &be->arch;
  const int lat = arch->latent_stage, last = arch->n_stages - 1;
  const int d = decent_arch_latent_dim (arch);
  const size_t plane = (size_t) arch->width * arch->height;
  const size_t pixels = plane * arch->channels;
  float *host_grads = NULL;
  CU_TRY (cudaSetDevice (be->device), "select the GPU");
  CudaPlan *p = get_plan (be, n, 1, err);
  if (!p)
    return -1;
  CudaSlot *sl = &p->slot[0];
  if (upload_input (be, p, sl, x, be->stream, err) < 0)
    return -1;
  const int centred = sp->loss == DECENT_LOSS_CENTRE && sp->centre;
  if (centred) {
    memcpy (be->h_centre, sp->centre, (size_t) d * sizeof (float));
    CU_TRY (cudaMemcpyAsync (be->centre, be->h_centre, (size_t) d * sizeof (float),
                cudaMemcpyHostToDevice, be->stream),
        "copy the centre to the GPU");
  }
  if (be->n_buffers)
    CU_TRY (cudaMemcpyAsync (be->pending, be->buffers, be->n_buffers * sizeof (float),
                cudaMemcpyDeviceToDevice, be->stream),
        "copy the running statistics");
  if (forward (be, p, sl->x, sp->bn_momentum, err) < 0)
    return -1;

  CU_TRY (cudaMemsetAsync (sl->sums, 0, 2 * (size_t) n * sizeof (double), be->stream),
      "clear the loss sums");
  K_TRY (decent_k_reconstruction (sl->x, p->st[last].a, n, arch->channels, (int) plane, sl->sums,
             p->st[last].dy, 2.0f / ((float) n * (float) pixels), NULL, be->stream),
      "compute the reconstruction loss");
  for (int i = last; i >= 0; i--) {
    if (i == lat) /* the decoder's gradient plus the decentralization term's */
      K_TRY (decent_k_decentral (p->st[lat].a, centred ? be->centre : NULL, n, d, sl->sums + n,
                 p->st[lat].da, -2.0f * sp->lambda / (float) n, be->stream),
          "compute the decentralization loss");
    if (backward_stage (be, p, i, err) < 0)
      return -1;
  }
  if (latent_mean) {
    K_TRY (decent_k_latent_mean (p->st[lat].a, n, d, be->latent_mean, be->stream),
        "average the latents");
    CU_TRY (cudaMemcpyAsync (p->h_latent_mean, be->latent_mean, (size_t) d * sizeof (float),
                cudaMemcpyDeviceToHost, be->stream),
        "copy the latent mean");
  }
  CU_TRY (cudaMemcpyAsync (sl->h_sums, sl->sums, 2 * (size_t) n * sizeof (double),
              cudaMemcpyDeviceToHost, be->stream),
      "copy the loss");
  CU_TRY (cudaStreamSynchronize (be->stream), "run a training step");

  double rec = 0.0, spread = 0.0;
  for (int i = 0; i < n; i++) {
    rec += sl->h_sums[i] / (double) pixels;
    spread += sl->h_sums[n + i];
  }
  rec /= n;
  const double dec = (double) d - spread / n;
  if (terms) {
    terms->reconstruction = rec;
    terms->decentral = dec;
    terms->total = rec + sp->lambda * dec;
  }
  if (!isfinite (rec + sp->lambda * dec))
    return decent_fail (err, "the loss is not finite (reconstruction %g, decentralization %g); "
                      "nothing was updated: lower the learning rate", rec, dec);
  if (latent_mean)
    memcpy (latent_mean, p->h_latent_mean, (size_t) d * sizeof (float));
  if (grads) {
    host_grads = malloc (be->n_params * sizeof (float));
    if (!host_grads)
      return decent_fail (err, "out of memory for %zu gradients", be->n_params);
    CU_TRY (cudaMemcpyAsync (host_grads, be->grads, be->n_params * sizeof (float),
                cudaMemcpyDeviceToHost, be->stream),
        "copy the gradients");
    CU_TRY (cudaStreamSynchronize (be->stream), "copy the gradients");
    reorder_params (arch, host_grads, grads, 0);
    free (host_grads);
    host_grads = NULL;
  }
  if (sp->update) {
    float *t = be->buffers; /* the step's statistics become the running ones */
    be->buffers = be->pending;
    be->pending = t;
    const float c1 = 1.0f / (1.0f - powf (sp->beta1, (float) sp->t));
    const float c2 = 1.0f / (1.0f - powf (sp->beta2, (float) sp->t));
    K_TRY (decent_k_adam (be->params, be->grads, be->adam_m, be->adam_v, be->n_params, sp->lr,
               sp->beta1, sp->beta2, sp->adam_eps, c1, c2, be->stream),
        "run Adam");
  }
  return 0;
fail:
  free (host_grads);
  return -1;
}

/* Queues, after a scoring forward pass of the slot's input, its scores and
 * their copy to the slot's pinned memory, then marks the slot done.  Maps
 * are computed only when wanted on the host or kept on the device (the
 * frame path draws from them). */
static int
queue_scores (DecentBackend *be, CudaPlan *p, CudaSlot *sl, int want_maps, DecentError *err)
{
  const DecentArch *arch = &be->arch;
  const size_t plane = (size_t) arch->width * arch->height;
  CU_TRY (cudaMemsetAsync (sl->sums, 0, (size_t) p->n * sizeof (double), be->stream),
      "clear the scores");
  K_TRY (decent_k_reconstruction (sl->x, p->st[arch->n_stages - 1].a, p->n, arch->channels,
             (int) plane, sl->sums, NULL, 0.0f, want_maps ? sl->maps : NULL,
             be->stream),
      "compute scores");
  CU_TRY (cudaMemcpyAsync (sl->h_sums, sl->sums, (size_t) p->n * sizeof (double),
              cudaMemcpyDeviceToHost, be->stream),
      "copy the scores");
  if (want_maps)
    CU_TRY (cudaMemcpyAsync (sl->h_maps, sl->maps, (size_t) p->n * plane * sizeof (float),
                cudaMemcpyDeviceToHost, be->stream),
        "copy the heatmaps");
  CU_TRY (cudaEventRecord (sl->done, be->stream), "record an event");
  sl->want_maps = want_maps;
  sl->busy = 1;
  return 0;
fail:
  return -1;
}

/* Waits for the slot and copies its results out. */
static int
collect_scores (DecentBackend *be, CudaPlan *p, CudaSlot *sl, float *scores, float *maps,
    DecentError *err)
{
  const DecentArch *arch = &be->arch;
  const size_t plane = (size_t) arch->width * arch->height;
  sl->busy = 0;
  CU_TRY (cudaEventSynchronize (sl->done), "score a batch");
  for (int i = 0; i < p->n; i++)
    scores[i] = (float) (sl->h_sums[i] / (double) (plane * arch->channels));
  if (maps && sl->want_maps)
    memcpy (maps, sl->h_maps, (size_t) p->n * plane * sizeof (float));
  return 0;
fail:
  return -1;
}

/* Queues the scoring of n images in slot (0 or 1) and returns: the upload
 * goes on the copy stream, so it overlaps whatever the compute stream is
 * still doing, and the compute waits for it by an event.  The caller must
 * collect a slot before submitting to it again. */
static int
cuda_score_submit (DecentBackend *be, const float *x, int n, int slot, int want_maps,
    DecentError *err)
{
  if (!be || !x || n < 1 || n > MAX_BATCH || slot < 0 || slot > 1)
    return decent_fail (err, "scoring on the GPU needs 1..%d images and slot 0 or 1", MAX_BATCH);
  CU_TRY (cudaSetDevice (be->device), "select the GPU");
  CudaPlan *p = get_plan (be, n, 0, err);
  if (!p)
    return -1;
  CudaSlot *sl = &p->slot[slot];
  if (sl->busy)
    return decent_fail (err, "scoring slot %d is still in flight", slot);
  if (upload_input (be, p, sl, x, be->copy_stream, err) < 0)
    return -1;
  CU_TRY (cudaEventRecord (sl->uploaded, be->copy_stream), "record an event");
  CU_TRY (cudaStreamWaitEvent (be->stream, sl->uploaded, 0), "order the streams");
  if (forward (be, p, sl->x, 0.0f, err) < 0 || queue_scores (be, p, sl, want_maps, err) < 0)
    return -1;
  return 0;
fail:
  return -1;
}

static int
cuda_score_collect (DecentBackend *be, int n, int slot, float *scores, float *maps,
    DecentError *err)
{
  if (!be || !scores || n < 1 || n > MAX_BATCH || slot < 0 || slot > 1)
    return decent_fail (err, "collecting scores needs the batch size, slot 0 or 1 and room");
  CU_TRY (cudaSetDevice (be->device), "select the GPU");
  CudaPlan *p = decent_plan_cache_find (&be->plans, n, 0);
  if (p && p->slot[slot].busy)
    return collect_scores (be, p, &p->slot[slot], scores, maps, err);
  return decent_fail (err, "no batch of %d images is in flight in slot %d", n, slot);
fail:
  return -1;
}

static int
cuda_score (DecentBackend *be, const float *x, int n, float *scores, float *maps, float *recon,
    DecentError *err)
{
  if (!be || !x || !scores || n < 1 || n > MAX_BATCH)
    return decent_fail (err, "scoring on the GPU needs 1..%d images and a place for the scores",
        MAX_BATCH);
  const DecentArch *arch = &be->arch;
  if (cuda_score_submit (be, x, n, 0, maps != NULL, err) < 0)
    return -1;
  CudaPlan *p = get_plan (be, n, 0, err); /* the plan just used: cached */
  if (!p)
    return -1;
  if (recon) /* rare (pictures, tests): straight into the caller's memory */
    CU_TRY (cudaMemcpyAsync (recon, p->st[arch->n_stages - 1].a,
                (size_t) n * arch->channels * arch->width * arch->height * sizeof (float),
                cudaMemcpyDeviceToHost, be->stream),
        "copy the reconstructions");
  CU_TRY (cudaStreamSynchronize (be->stream), "score a batch");
  return collect_scores (be, p, &p->slot[0], scores, maps, err);
fail:
  return -1;
}

static int
cuda_encode (DecentBackend *be, const float *x, int n, float *latents, float *recon,
    DecentError *err)
{
  if (!be || !x || !latents || n < 1 || n > MAX_BATCH)
    return decent_fail (err, "encoding on the GPU needs 1..%d images and a place for the codes",
        MAX_BATCH);
  const DecentArch *arch = &be->arch;
  float *scores = malloc ((size_t) n * sizeof (float));
  if (!scores)
    return decent_fail (err, "out of memory for %d scores", n);
  CudaPlan *p = NULL;
  if (cuda_score_submit (be, x, n, 0, 0, err) < 0
      || !(p = get_plan (be, n, 0, err))) /* the plan just used: cached */
    goto fail;
  CU_TRY (cudaMemcpyAsync (latents, p->st[arch->latent_stage].a,
              (size_t) n * decent_arch_latent_dim (arch) * sizeof (float),
              cudaMemcpyDeviceToHost, be->stream),
      "copy the codes");
  if (recon)
    CU_TRY (cudaMemcpyAsync (recon, p->st[arch->n_stages - 1].a,
                (size_t) n * arch->channels * arch->width * arch->height * sizeof (float),
                cudaMemcpyDeviceToHost, be->stream),
        "copy the reconstructions");
  CU_TRY (cudaStreamSynchronize (be->stream), "encode a batch");
  int rc = collect_scores (be, p, &p->slot[0], scores, NULL, err);
  free (scores);
  return rc;
fail:
  if (p && p->slot[0].busy) /* release the slot; the first failure is the one reported */
    collect_scores (be, p, &p->slot[0], scores, NULL, NULL);
  free (scores);
  return -1;
}

/* ---- the frame path --------------------------------------------------- */

/* Where each plane of the frame goes in one packed buffer (rows without
 * padding, planes one after the other), and the buffer's size. */
static size_t
packed_frame (const DecentFrame *f, size_t offset[3], int stride[3])
{
  const DecentFrameLayout *l = decent_frame_layout ((int) f->format);
  size_t at = 0;
  for (int k = 0; k < l->planes; k++) {
    offset[k] = at;
    stride[k] = decent_frame_row_bytes (l, k, f->width);
    at += (size_t) stride[k] * decent_frame_plane_rows (l, k, f->height);
  }
  return at;
}

/* The kernels' view of the frame in the device buffer. */
static void
device_frame (const DecentBackend *be, const DecentFrame *f, const size_t offset[3],
    const int stride[3], DecentKFrame *kf)
{
  const DecentFrameLayout *l = decent_frame_layout ((int) f->format);
  *kf = (DecentKFrame) { .width = f->width, .height = f->height, .pixel_bytes = l->pixel_bytes,
    .red = l->red, .green = l->green, .blue = l->blue, .chroma = l->chroma,
    .rx = f->roi_x, .ry = f->roi_y, .rw = f->roi_width, .rh = f->roi_height };
  for (int k = 0; k < l->planes; k++) {
    kf->plane[k] = be->d_frame + offset[k];
    kf->stride[k] = stride[k];
  }
}

/* Packs the frame's planes into pinned memory and sends them up. */
static int
upload_frame (DecentBackend *be, const DecentFrame *f, DecentKFrame *kf, DecentError *err)
{
  size_t offset[3] = { 0 };
  int stride[3] = { 0 };
  const size_t bytes = packed_frame (f, offset, stride);
  if (bytes > be->frame_cap) {
    CU_TRY (cudaStreamSynchronize (be->stream), "finish queued work");
    if (be->d_frame) cudaFree (be->d_frame);
    if (be->h_frame) cudaFreeHost (be->h_frame);
    be->d_frame = be->h_frame = NULL;
    be->frame_cap = 0;
    CU_TRY (cudaMalloc ((void **) &be->d_frame, bytes), "allocate a frame on the GPU");
    CU_TRY (cudaMallocHost ((void **) &be->h_frame, bytes), "pin a frame buffer");
    be->frame_cap = bytes;
  }
  const DecentFrameLayout *l = decent_frame_layout ((int) f->format);
  for (int k = 0; k < l->planes; k++)
    for (int r = 0; r < decent_frame_plane_rows (l, k, f->height); r++)
      memcpy (be->h_frame + offset[k] + (size_t) r * stride[k],
          f->data[k] + (size_t) r * f->stride[k], (size_t) stride[k]);
  device_frame (be, f, offset, stride, kf);
  CU_TRY (cudaMemcpyAsync (be->d_frame, be->h_frame, bytes, cudaMemcpyHostToDevice, be->stream),
      "copy a frame to the GPU");
  return 0;
fail:
  return -1;
}

static int
cuda_score_frame (DecentBackend *be, const DecentFrame *f, float scale, float offset,
    float *score, float *map, DecentError *err)
{
  if (!be || !f || !score)
    return decent_fail (err, "scoring a frame needs a frame and a place for its score");
  const DecentArch *arch = &be->arch;
  const size_t plane = (size_t) arch->width * arch->height;
  DecentKFrame kf;
  CU_TRY (cudaSetDevice (be->device), "select the GPU");
  CudaPlan *p = get_plan (be, 1, 0, err);
  if (!p || upload_frame (be, f, &kf, err) < 0)
    return -1;
  CudaSlot *sl = &p->slot[0];
  if (sl->busy)
    return decent_fail (err, "a batch is still in flight in scoring slot 0");
  K_TRY (decent_k_frame_to_input (kf, sl->x, arch->channels, arch->height, arch->width, scale,
             offset, be->stream),
      "convert a frame");
  if (forward (be, p, sl->x, 0.0f, err) < 0 || queue_scores (be, p, sl, map != NULL, err) < 0
      || collect_scores (be, p, sl, score, map, err) < 0)
    return -1;
  (void) plane;
  return 0;
fail:
  return -1;
}

static int
cuda_draw_frame (DecentBackend *be, DecentFrame *f, const float *map, const uint8_t lut[768],
    float max_error, float alpha, DecentError *err)
{
  if (!be || !f || !map || !lut)
    return decent_fail (err, "drawing needs a frame, its error map and a colour map");
  const size_t map_bytes = (size_t) be->arch.width * be->arch.height * sizeof (float);
  DecentKFrame kf;
  CU_TRY (cudaSetDevice (be->device), "select the GPU");
  if (!be->lut_ready || memcmp (be->h_lut, lut, sizeof be->h_lut) != 0) {
    if (!be->d_lut)
      CU_TRY (cudaMalloc ((void **) &be->d_lut, sizeof be->h_lut), "allocate a colour map");
    memcpy (be->h_lut, lut, sizeof be->h_lut);
    CU_TRY (cudaMemcpyAsync (be->d_lut, be->h_lut, sizeof be->h_lut, cudaMemcpyHostToDevice,
                be->stream),
        "copy the colour map");
    CU_TRY (cudaStreamSynchronize (be->stream), "copy the colour map");
    be->lut_ready = 1;
  }
  if (!be->d_draw_map)
    CU_TRY (cudaMalloc ((void **) &be->d_draw_map, map_bytes), "allocate an error map");
  /* the frame and the map it is given, up; drawn there; the frame back */
  if (upload_frame (be, f, &kf, err) < 0)
    return -1;
  CU_TRY (cudaMemcpyAsync (be->d_draw_map, map, map_bytes, cudaMemcpyHostToDevice, be->stream),
      "copy the error map");
  K_TRY (decent_k_blend_heatmap (kf, be->d_draw_map, be->arch.height, be->arch.width, be->d_lut,
             max_error, alpha, be->stream),
      "draw the heatmap");
  size_t offset[3] = { 0 };
  int stride[3] = { 0 };
  const size_t bytes = packed_frame (f, offset, stride);
  CU_TRY (cudaMemcpyAsync (be->h_frame, be->d_frame, bytes, cudaMemcpyDeviceToHost, be->stream),
      "copy the frame back");
  CU_TRY (cudaStreamSynchronize (be->stream), "draw the heatmap");
  const DecentFrameLayout *l = decent_frame_layout ((int) f->format);
  for (int k = 0; k < l->planes; k++)
    for (int r = 0; r < decent_frame_plane_rows (l, k, f->height); r++)
      memcpy (f->data[k] + (size_t) r * f->stride[k], be->h_frame + offset[k] + (size_t) r * stride[k],
          (size_t) stride[k]);
  return 0;
fail:
  return -1;
}

/* ---- parameters ------------------------------------------------------- */

static int
cuda_set_params (DecentBackend *be, const float *params, const float *buffers, DecentError *err)
{
  if (!be || !params || !buffers)
    return decent_fail (err, "no parameters to set");
  float *tmp = malloc (be->n_params * sizeof (float));
  if (!tmp)
    return decent_fail (err, "out of memory for %zu parameters", be->n_params);
  reorder_params (&be->arch, params, tmp, 1);
  /* everything on the backend's own stream (it does not wait for the
   * default stream), then wait: the host arrays may go away */
  CU_TRY (cudaSetDevice (be->device), "select the GPU");
  CU_TRY (cudaMemcpyAsync (be->params, tmp, be->n_params * sizeof (float),
              cudaMemcpyHostToDevice, be->stream),
      "copy the parameters to the GPU");
  if (be->n_buffers)
    CU_TRY (cudaMemcpyAsync (be->buffers, buffers, be->n_buffers * sizeof (float),
                cudaMemcpyHostToDevice, be->stream),
        "copy the running statistics to the GPU");
  if (be->adam_m) {
    CU_TRY (cudaMemsetAsync (be->adam_m, 0, be->n_params * sizeof (float), be->stream),
        "clear Adam state");
    CU_TRY (cudaMemsetAsync (be->adam_v, 0, be->n_params * sizeof (float), be->stream),
        "clear Adam state");
  }
  CU_TRY (cudaStreamSynchronize (be->stream), "copy the parameters to the GPU");
  free (tmp);
  return 0;
fail:
  free (tmp);
  return -1;
}

static int
cuda_get_params (DecentBackend *be, float *params, float *buffers, DecentError *err)
{
  if (!be || !params || !buffers)
    return decent_fail (err, "no place for the parameters");
  float *tmp = malloc (be->n_params * sizeof (float));
  if (!tmp)
    return decent_fail (err, "out of memory for %zu parameters", be->n_params);
  CU_TRY (cudaSetDevice (be->device), "select the GPU");
  CU_TRY (cudaMemcpyAsync (tmp, be->params, be->n_params * sizeof (float), cudaMemcpyDeviceToHost,
              be->stream),
      "copy the parameters from the GPU");
  if (be->n_buffers)
    CU_TRY (cudaMemcpyAsync (buffers, be->buffers, be->n_buffers * sizeof (float),
                cudaMemcpyDeviceToHost, be->stream),
        "copy the running statistics from the GPU");
  CU_TRY (cudaStreamSynchronize (be->stream), "copy the parameters from the GPU");
  reorder_params (&be->arch, tmp, params, 0);
  free (tmp);
  return 0;
fail:
  free (tmp);
  return -1;
}

static const char *
cuda_implementation (DecentBackend *be)
{
  return be ? be->impl : "";
}

static void
cuda_destroy (DecentBackend *be)
{
  if (!be)
    return;
  cudaSetDevice (be->device);
  if (be->stream)
    cudaStreamSynchronize (be->stream);
  decent_plan_cache_clear (&be->plans, &plan_ops, be);
  float *dev[] = { be->params, be->grads, be->adam_m, be->adam_v, be->buffers, be->pending,
    be->centre, be->latent_mean };
  for (size_t k = 0; k < sizeof dev / sizeof dev[0]; k++)
    if (dev[k])
      cudaFree (dev[k]);
  if (be->workspace) cudaFree (be->workspace);
  if (be->d_frame) cudaFree (be->d_frame);
  if (be->d_lut) cudaFree (be->d_lut);
  if (be->d_draw_map) cudaFree (be->d_draw_map);
  if (be->h_frame) cudaFreeHost (be->h_frame);
  if (be->h_centre) cudaFreeHost (be->h_centre);
  if (be->cudnn) cudnnDestroy (be->cudnn);
  if (be->copy_stream) {
    cudaStreamSynchronize (be->copy_stream);
    cudaStreamDestroy (be->copy_stream);
  }
  if (be->stream) cudaStreamDestroy (be->stream);
  free (be);
}

static DecentBackend *
cuda_create (const DecentArch *arch, float bn_eps, DecentError *err)
{
  if (!arch || arch->n_stages < 2) {
    decent_fail (err, "no architecture for the CUDA backend");
    return NULL;
  }
  if (!cuda_usable ()) {
    decent_fail (err, "the CUDA backend cannot run here: %s", cuda_describe ());
    return NULL;
  }
  DecentBackend *be = calloc (1, sizeof *be);
  if (!be) {
    decent_fail (err, "out of memory for the CUDA backend");
    return NULL;
  }
  be->arch = *arch;
  be->bn_eps = bn_eps;
  const char *dev = getenv ("DECENT_CUDA_DEVICE");
  be->device = dev ? atoi (dev) : 0;
  const char *math = getenv ("DECENT_CUDA_MATH");
  be->strict_fp32 = math && strcmp (math, "fp32") == 0;
  be->n_params = decent_arch_param_count (arch);
  be->n_buffers = decent_arch_buffer_count (arch);
  const int d = decent_arch_latent_dim (arch);

  decent_arch_offsets (arch, be->off, NULL);

  CU_TRY (cudaSetDevice (be->device), "select the GPU");
  CU_TRY (cudaStreamCreateWithFlags (&be->stream, cudaStreamNonBlocking), "create a stream");
  CU_TRY (cudaStreamCreateWithFlags (&be->copy_stream, cudaStreamNonBlocking),
      "create a stream");
  DNN_TRY (cudnnCreate (&be->cudnn), "start cuDNN");
  DNN_TRY (cudnnSetStream (be->cudnn, be->stream), "give cuDNN its stream");
  if (device_floats (&be->params, be->n_params, err) < 0
      || device_floats (&be->buffers, be->n_buffers, err) < 0
      || device_floats (&be->centre, (size_t) d, err) < 0
      || device_floats (&be->latent_mean, (size_t) d, err) < 0)
    goto fail;
  CU_TRY (cudaMallocHost ((void **) &be->h_centre, (size_t) d * sizeof (float)),
      "pin host memory");
  snprintf (be->impl, sizeof be->impl, "cuDNN (no plan yet)");
  return be;
fail:
  cuda_destroy (be);
  return NULL;
}

static const DecentBackendOps cuda_ops = {
  .name = "cuda-cudnn",
  .create = cuda_create,
  .destroy = cuda_destroy,
  .set_params = cuda_set_params,
  .get_params = cuda_get_params,
  .train_step = cuda_train_step,
  .score = cuda_score,
  .encode = cuda_encode,
  .implementation = cuda_implementation,
  .score_submit = cuda_score_submit,
  .score_collect = cuda_score_collect,
  .score_frame = cuda_score_frame,
  .draw_frame = cuda_draw_frame,
};

/* The module's one exported symbol (registry.c finds it with dlsym). */
__attribute__ ((visibility ("default"))) const DecentCudaModule *
decent_cuda_module (void)
{
  static const DecentCudaModule module = { DECENT_CUDA_MODULE_ABI, sizeof (DecentBackendOps),
    sizeof (DecentArch), sizeof (DecentError), sizeof (DecentConfig), &cuda_ops, cuda_usable,
    cuda_describe, cuda_describe_auto };
  return &module;
}
