/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* backend_cpu.c — the CPU backend on oneDNN.
 *
 * Convolutions, transposed convolutions, batch norm and activations are oneDNN
 * primitives.  They are created once per (batch size, training or scoring)
 * "plan" and reused; a few plans are cached.  Activations stay in the blocked
 * layouts oneDNN picks (format any) from layer to layer; only the network's
 * input, output and latent are plain NCHW, and a pass that only oneDNN's
 * GEMM code takes (no AVX-512) gets its own layouts and reorders around it.  Master parameters, gradients and
 * Adam state are flat arrays in canonical order, so the optimiser is one loop;
 * weights are reordered into each primitive's preferred layout when they
 * change. */
#include "registry.h" /* this backend's entry points */
#include "cpu_kernels.h"
#include "plan_cache.h"

#include <math.h>
#include <oneapi/dnnl/dnnl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OWNED 512

/* A memory in the layout one primitive wants, filled from (or, for a
 * gradient the primitive writes, copied back to) another layout by a
 * reorder; both NULL when the layouts agree and the original is used; mem
 * alone when an earlier pass of the same step made that copy already. */
typedef struct {
  dnnl_primitive_t reorder;
  dnnl_memory_t mem;
} Relayout;

typedef struct {
  dnnl_primitive_t conv_fwd, bn_fwd, act_fwd;
  dnnl_primitive_t act_bwd, bn_bwd, conv_bwd_data, conv_bwd_w;
  dnnl_primitive_t w_fwd_reorder, w_bwd_reorder, dw_reorder; /* NULL when layouts match */
  dnnl_memory_t w_fwd, w_bwd, dw;
  dnnl_memory_t y, a, da, dz, dy, mean, var;
  /* where a convolution pass chose other layouts than its neighbours */
  Relayout fwd_src, bww_src, bww_ddst, bwd_ddst, bwd_dsrc;
} StagePlan;

typedef struct {
  int n, training;
  uint64_t weights_version;
  StagePlan st[DECENT_MAX_STAGES];
  dnnl_memory_t x;                                  /* plain input, handle per call */
  dnnl_memory_t out_plain, dout_plain;              /* reconstruction and its gradient */
  dnnl_primitive_t out_reorder;
  dnnl_memory_t lat_plain, dlat_plain, dlat_blocked; /* latent and its gradient */
  dnnl_primitive_t lat_reorder, dlat_reorder;
  float *pingpong[2]; /* scoring: the stage outputs but the latent, in turn */
  dnnl_memory_t owned_mems[MAX_OWNED];
  dnnl_primitive_t owned_prims[MAX_OWNED];
  int n_mems, n_prims;
  int out_of_memory; /* a memory or primitive failed for want of memory: say so */
} Plan;

typedef struct {
  dnnl_memory_t w, b, gamma, beta, rmean, rvar; /* views of the flat arrays */
  dnnl_memory_t dw, db, dgamma, dbeta;
} StageParams;

struct DecentBackend {
  DecentArch arch;
  float bn_eps;
  dnnl_engine_t engine;
  dnnl_stream_t stream;
  size_t n_params, n_buffers;
  float *params, *grads, *adam_m, *adam_v, *buffers;
  StageParams sp[DECENT_MAX_STAGES];
  uint64_t version;
  int score_batch_stats; /* see set_score_batch_stats in backend.h */
  DecentPlanCache plans;
  char impl[4096];
};

/* ---- small helpers ---------------------------------------------------- */


#define DNNL_TRY(call, what)                                                          \
  do {                                                                                \
    dnnl_status_t s_ = (call);                                                        \
    if (s_ != dnnl_success) {                                                         \
      decent_fail (err, "oneDNN failed to %s (status %d)", what, (int) s_);                  \
      goto fail;                                                                      \
    }                                                                                 \
  } while (0)

static void *
alloc_floats (size_t count)
{
  size_t bytes = ((count * sizeof (float)) + 63) & ~(size_t) 63;
  void *p = aligned_alloc (64, bytes ? bytes : 64);
  if (p)
    memset (p, 0, bytes ? bytes : 64);
  return p;
}

static int
plain_md (dnnl_memory_desc_t *md, int ndims, const dnnl_dims_t dims)
{
  static const dnnl_format_tag_t tags[] = { 0, dnnl_a, dnnl_ab, dnnl_abc, dnnl_abcd };
  return dnnl_memory_desc_init_by_tag (md, ndims, dims, dnnl_f32, tags[ndims]) == dnnl_success
             ? 0
             : -1;
}

static dnnl_memory_t
wrap (dnnl_engine_t engine, const dnnl_memory_desc_t *md, void *ptr)
{
  dnnl_memory_t m = NULL;
  if (dnnl_memory_create (&m, md, engine, ptr) != dnnl_success)
    return NULL;
  return m;
}

static void *
handle (dnnl_memory_t m)
{
  void *p = NULL;
  dnnl_memory_get_data_handle (m, &p);
  return p;
}

static const dnnl_memory_desc_t *
md_of (dnnl_memory_t m)
{
  const dnnl_memory_desc_t *md = NULL;
  dnnl_memory_get_memory_desc (m, &md);
  return md;
}

/* A memory the plan owns: its own data (DNNL_MEMORY_ALLOCATE), or none
 * until a handle is set (NULL). */
static dnnl_memory_t
plan_memory (Plan *p, dnnl_engine_t engine, const dnnl_memory_desc_t *md, void *handle)
{
  dnnl_memory_t m = NULL;
  if (p->n_mems == MAX_OWNED)
    return NULL;
  const dnnl_status_t st = dnnl_memory_create (&m, md, engine, handle);
  if (st == dnnl_out_of_memory)
    p->out_of_memory = 1;
  if (st != dnnl_success)
    return NULL;
  p->owned_mems[p->n_mems++] = m;
  return m;
}

static dnnl_memory_t
plan_mem (Plan *p, dnnl_engine_t engine, const dnnl_memory_desc_t *md)
{
  return plan_memory (p, engine, md, DNNL_MEMORY_ALLOCATE);
}

static dnnl_primitive_t
plan_prim (Plan *p, const_dnnl_primitive_desc_t pd)
{
  dnnl_primitive_t prim = NULL;
  if (p->n_prims == MAX_OWNED)
    return NULL;
  const dnnl_status_t st = dnnl_primitive_create (&prim, pd);
  if (st == dnnl_out_of_memory)
    p->out_of_memory = 1;
  if (st != dnnl_success)
    return NULL;
  p->owned_prims[p->n_prims++] = prim;
  return prim;
}

/* A reorder primitive from src to dst layout, or NULL (not an error) when
 * the two are the same; *failed is set on a real failure. */
static dnnl_primitive_t
plan_reorder (Plan *p, dnnl_engine_t engine, const dnnl_memory_desc_t *src,
    const dnnl_memory_desc_t *dst, int *failed)
{
  if (dnnl_memory_desc_equal (src, dst))
    return NULL;
  dnnl_primitive_desc_t pd = NULL;
  dnnl_primitive_t prim = NULL;
  if (dnnl_reorder_primitive_desc_create (&pd, src, engine, dst, engine, NULL) == dnnl_success)
    prim = plan_prim (p, pd);
  dnnl_primitive_desc_destroy (pd);
  if (!prim)
    *failed = 1;
  return prim;
}

static int
run (DecentBackend *be, dnnl_primitive_t prim, int nargs, const dnnl_exec_arg_t *args,
    DecentError *err, const char *what)
{
  dnnl_status_t st = dnnl_primitive_execute (prim, be->stream, nargs, args);
  if (st != dnnl_success)
    return decent_fail (err, "oneDNN failed to run %s (status %d)", what, (int) st);
  return 0;
}

static int
run_reorder (DecentBackend *be, dnnl_primitive_t prim, dnnl_memory_t src, dnnl_memory_t dst,
    DecentError *err)
{
  dnnl_exec_arg_t args[] = { { DNNL_ARG_FROM, src }, { DNNL_ARG_TO, dst } };
  return run (be, prim, 2, args, err, "a reorder");
}

/* mem_md: the primitive's side of the reorder (to for an input it reads,
 * from for a gradient it writes) */
static void
relayout_plan (Plan *p, dnnl_engine_t engine, const dnnl_memory_desc_t *from,
    const dnnl_memory_desc_t *to, const dnnl_memory_desc_t *mem_md, Relayout *r, int *failed)
{
  r->reorder = plan_reorder (p, engine, from, to, failed);
  r->mem = r->reorder ? plan_mem (p, engine, mem_md) : NULL;
  if (r->reorder && !r->mem)
    *failed = 1;
}

/* An input relayout that takes the copy an earlier pass of the same step
 * made of the same data (earlier), when that copy is in the layout wanted. */
static void
relayout_plan_shared (Plan *p, dnnl_engine_t engine, const Relayout *earlier,
    const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to, Relayout *r, int *failed)
{
  if (earlier->mem && dnnl_memory_desc_equal (md_of (earlier->mem), to))
    *r = (Relayout) { NULL, earlier->mem };
  else
    relayout_plan (p, engine, from, to, to, r, failed);
}

/* from's data in the layout r wants, in *out */
static int
relayout_in (DecentBackend *be, const Relayout *r, dnnl_memory_t from, dnnl_memory_t *out,
    DecentError *err)
{
  *out = r->mem ? r->mem : from;
  return r->reorder ? run_reorder (be, r->reorder, from, r->mem, err) : 0;
}

static void
plan_free (Plan *p)
{
  if (!p)
    return;
  for (int i = 0; i < p->n_prims; i++)
    dnnl_primitive_destroy (p->owned_prims[i]);
  for (int i = 0; i < p->n_mems; i++)
    dnnl_memory_destroy (p->owned_mems[i]);
  free (p->pingpong[0]);
  free (p->pingpong[1]);
  free (p);
}

/* ---- plan construction ------------------------------------------------ */

typedef struct {
  dnnl_primitive_desc_t fwd, bwd_data, bwd_w;
} ConvPds;

static void
conv_pds_free (ConvPds *c)
{
  dnnl_primitive_desc_destroy (c->fwd);
  dnnl_primitive_desc_destroy (c->bwd_data);
  dnnl_primitive_desc_destroy (c->bwd_w);
}

static const char *
impl_name (const_dnnl_primitive_desc_t pd)
{
  const char *name = "?";
  if (pd)
    dnnl_primitive_desc_query (pd, dnnl_query_impl_info_str, 0, &name);
  return name;
}

typedef enum { PASS_FWD, PASS_BWD_DATA, PASS_BWD_WEIGHTS } ConvPass;

typedef union {
  dnnl_convolution_desc_t conv;
  dnnl_deconvolution_desc_t deconv;
} ConvDesc;

/* One pass of a stage's (transposed) convolution; src is the pass's input
 * side (its diff_src for backward data), dst its output side (diff_dst for
 * the backward passes); the weights' layout is always oneDNN's choice. */
static dnnl_status_t
conv_desc_init (ConvDesc *cd, const DecentStage *s, ConvPass pass, int training,
    const dnnl_memory_desc_t *src, const dnnl_memory_desc_t *dst)
{
  dnnl_memory_desc_t any_w, bias_md;
  dnnl_dims_t wdims = { s->out_c, s->in_c, s->kernel, s->kernel };
  dnnl_dims_t bdims = { s->out_c };
  dnnl_dims_t strides = { s->stride, s->stride };
  dnnl_dims_t pad_l = { s->pad_t, s->pad_l };
  dnnl_dims_t pad_r = { s->pad_b, s->pad_r };
  dnnl_status_t st = dnnl_memory_desc_init_by_tag (&any_w, 4, wdims, dnnl_f32, dnnl_format_tag_any);
  if (st == dnnl_success)
    st = dnnl_memory_desc_init_by_tag (&bias_md, 1, bdims, dnnl_f32, dnnl_a);
  if (st != dnnl_success)
    return st;
  const dnnl_memory_desc_t *bias = s->has_bias ? &bias_md : NULL;
  dnnl_prop_kind_t prop = training ? dnnl_forward_training : dnnl_forward_inference;
  if (s->kind == DECENT_STAGE_DECONV) {
    dnnl_alg_kind_t alg = dnnl_deconvolution_direct;
    switch (pass) {
      case PASS_FWD:
        return dnnl_deconvolution_forward_desc_init (&cd->deconv, prop, alg, src, &any_w, bias,
            dst, strides, pad_l, pad_r);
      case PASS_BWD_DATA:
        return dnnl_deconvolution_backward_data_desc_init (&cd->deconv, alg, src, &any_w, dst,
            strides, pad_l, pad_r);
      default:
        return dnnl_deconvolution_backward_weights_desc_init (&cd->deconv, alg, src, &any_w,
            bias, dst, strides, pad_l, pad_r);
    }
  }
  dnnl_alg_kind_t alg = dnnl_convolution_direct;
  switch (pass) {
    case PASS_FWD:
      return dnnl_convolution_forward_desc_init (&cd->conv, prop, alg, src, &any_w, bias, dst,
          strides, pad_l, pad_r);
    case PASS_BWD_DATA:
      return dnnl_convolution_backward_data_desc_init (&cd->conv, alg, src, &any_w, dst, strides,
          pad_l, pad_r);
    default:
      return dnnl_convolution_backward_weights_desc_init (&cd->conv, alg, src, &any_w, bias, dst,
          strides, pad_l, pad_r);
  }
}

/* The first implementation oneDNN offers that is not its reference (naive
 * loop) code, or NULL.  A transposed convolution reports the name of the
 * convolution it runs on, so its reference code is seen here too. */
static dnnl_primitive_desc_t
first_optimised_pd (const ConvDesc *cd, dnnl_engine_t engine, const_dnnl_primitive_desc_t hint)
{
  dnnl_primitive_desc_iterator_t it = NULL;
  dnnl_primitive_desc_t found = NULL;
  /* for tests: also pass over implementations whose name holds this, so that
   * the GEMM paths and their reorders run on machines whose jit code takes
   * every shape */
  const char *skip = getenv ("DECENT_ONEDNN_SKIP");
  if (skip && !skip[0])
    skip = NULL;
  if (dnnl_primitive_desc_iterator_create (&it, (const_dnnl_op_desc_t) cd, NULL, engine, hint)
      != dnnl_success)
    return NULL;
  do {
    dnnl_primitive_desc_t pd = dnnl_primitive_desc_iterator_fetch (it);
    const char *name = impl_name (pd);
    if (pd && strncmp (name, "ref", 3) != 0 && !(skip && strstr (name, skip))) {
      found = pd;
      break;
    }
    dnnl_primitive_desc_destroy (pd);
  } while (dnnl_primitive_desc_iterator_next (it) == dnnl_success);
  dnnl_primitive_desc_iterator_destroy (it);
  return found;
}

static dnnl_status_t
any_like (dnnl_memory_desc_t *any, const dnnl_memory_desc_t *md)
{
  return dnnl_memory_desc_init_by_tag (any, md->ndims, md->dims, dnnl_f32, dnnl_format_tag_any);
}

/* One pass of a stage, in the layouts given if optimised code takes them;
 * else in layouts oneDNN picks (the stage then reorders to and from them):
 * without AVX-512, oneDNN's blocked jit kernels refuse the 1- or 3-channel
 * side of the first and last layers and some 1×1 latents, and its GEMM-based
 * kernels take them in plain layout.  Its reference code only when nothing
 * else exists for this shape. */
static dnnl_primitive_desc_t
create_conv_pd (DecentBackend *be, const DecentStage *s, ConvPass pass, int training,
    const dnnl_memory_desc_t *src, const dnnl_memory_desc_t *dst,
    const_dnnl_primitive_desc_t hint)
{
  ConvDesc cd;
  dnnl_memory_desc_t any_src, any_dst;
  dnnl_primitive_desc_t pd = NULL;
  if (conv_desc_init (&cd, s, pass, training, src, dst) == dnnl_success
      && (pd = first_optimised_pd (&cd, be->engine, hint)))
    return pd;
  if (any_like (&any_src, src) == dnnl_success && any_like (&any_dst, dst) == dnnl_success
      && conv_desc_init (&cd, s, pass, training, &any_src, &any_dst) == dnnl_success
      && (pd = first_optimised_pd (&cd, be->engine, hint)))
    return pd;
  if (conv_desc_init (&cd, s, pass, training, src, dst) != dnnl_success
      || dnnl_primitive_desc_create (&pd, (const_dnnl_op_desc_t) &cd, NULL, be->engine, hint)
             != dnnl_success)
    return NULL;
  return pd;
}

/* diff_dst_md, when not NULL, is the layout of the output gradient for the
 * backward passes (otherwise the forward's destination layout). */
static int
make_conv_pds (DecentBackend *be, const DecentStage *s, const dnnl_memory_desc_t *src_md,
    int n, int training, int need_bwd_data, const dnnl_memory_desc_t *diff_dst_md, ConvPds *out,
    DecentError *err)
{
  dnnl_memory_desc_t any_dst;
  dnnl_dims_t ddims = { n, s->out_c, s->out_h, s->out_w };
  const char *what = s->kind == DECENT_STAGE_DECONV ? "transposed convolution" : "convolution";

  memset (out, 0, sizeof *out);
  DNNL_TRY (dnnl_memory_desc_init_by_tag (&any_dst, 4, ddims, dnnl_f32, dnnl_format_tag_any),
      "describe activations");
  out->fwd = create_conv_pd (be, s, PASS_FWD, training, src_md, &any_dst, NULL);
  if (!out->fwd) {
    decent_fail (err, "oneDNN has no %s of this shape", what);
    goto fail;
  }
  if (!training)
    return 0;

  const dnnl_memory_desc_t dst_md =
      diff_dst_md ? *diff_dst_md : *dnnl_primitive_desc_query_md (out->fwd, dnnl_query_dst_md, 0);
  if (need_bwd_data
      && !(out->bwd_data = create_conv_pd (be, s, PASS_BWD_DATA, 1, src_md, &dst_md, out->fwd))) {
    decent_fail (err, "oneDNN has no backward-data %s of this shape", what);
    goto fail;
  }
  if (!(out->bwd_w = create_conv_pd (be, s, PASS_BWD_WEIGHTS, 1, src_md, &dst_md, out->fwd))) {
    decent_fail (err, "oneDNN has no backward-weights %s of this shape", what);
    goto fail;
  }
  return 0;
fail:
  conv_pds_free (out);
  return -1;
}

static void
append_impl (DecentBackend *be, const char *fmt, ...)
{
  size_t used = strlen (be->impl);
  if (used + 1 >= sizeof be->impl)
    return;
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (be->impl + used, sizeof be->impl - used, fmt, ap);
  va_end (ap);
}

static int
build_stage (DecentBackend *be, Plan *p, int i, const dnnl_memory_desc_t *src_md,
    DecentError *err)
{
  const DecentStage *s = &be->arch.stages[i];
  StagePlan *sp = &p->st[i];
  StageParams *pp = &be->sp[i];
  const int training = p->training;
  ConvPds c;
  dnnl_primitive_desc_t bn_f = NULL, bn_b = NULL, act_f = NULL, act_b = NULL;
  int failed = 0;

  /* The output stage (1 or 3 channels) takes its gradient in plain NCHW:
   * oneDNN's jit backward kernels want the few-channel side plain and would
   * otherwise fall back to reference code.  Its tanh backward is done in
   * plain layout too, next to the loss. */
  const int is_out = i == be->arch.n_stages - 1;
  dnnl_memory_desc_t plain_dst;
  dnnl_dims_t odims = { p->n, s->out_c, s->out_h, s->out_w };
  if (plain_md (&plain_dst, 4, odims) < 0)
    return decent_fail (err, "could not describe the output of layer %d", i);
  if (make_conv_pds (be, s, src_md, p->n, training, i > 0, is_out ? &plain_dst : NULL, &c, err)
      < 0)
    return -1;
  append_impl (be, "%s%d %s: fwd %s", i ? "; " : "", i,
      s->kind == DECENT_STAGE_CONV ? "conv" : "deconv", impl_name (c.fwd));
  if (training)
    append_impl (be, ", bwd-data %s, bwd-weights %s", c.bwd_data ? impl_name (c.bwd_data) : "-",
        impl_name (c.bwd_w));

  const dnnl_memory_desc_t y_md = *dnnl_primitive_desc_query_md (c.fwd, dnnl_query_dst_md, 0);
  const dnnl_memory_desc_t *wf_md = dnnl_primitive_desc_query_md (c.fwd, dnnl_query_weights_md, 0);
  sp->conv_fwd = plan_prim (p, c.fwd);
  /* scoring keeps no activation for a backward pass: batch norm and the
   * activation run in place, and every stage but the latent one writes into
   * one of two buffers shared by all stages (given in plan_new) */
  const int own_output = training || i == be->arch.latent_stage;
  sp->y = plan_memory (p, be->engine, &y_md, own_output ? DNNL_MEMORY_ALLOCATE : NULL);
  sp->a = training ? plan_mem (p, be->engine, &y_md) : sp->y;
  sp->w_fwd_reorder = plan_reorder (p, be->engine, md_of (pp->w), wf_md, &failed);
  sp->w_fwd = sp->w_fwd_reorder ? plan_mem (p, be->engine, wf_md) : pp->w;
  const dnnl_memory_desc_t *fsrc_md = dnnl_primitive_desc_query_md (c.fwd, dnnl_query_src_md, 0);
  relayout_plan (p, be->engine, src_md, fsrc_md, fsrc_md, &sp->fwd_src, &failed);
  if (!sp->conv_fwd || !sp->y || !sp->a || !sp->w_fwd || failed) {
    decent_fail (err, "could not create the primitives of layer %d", i);
    goto fail;
  }

  dnnl_prop_kind_t prop = training ? dnnl_forward_training : dnnl_forward_inference;
  if (s->act == DECENT_ACT_BN_LEAKY) {
    dnnl_batch_normalization_desc_t bd;
    unsigned flags = dnnl_use_scale | dnnl_use_shift | (training ? 0 : dnnl_use_global_stats);
    DNNL_TRY (dnnl_batch_normalization_forward_desc_init (&bd, prop, &y_md, be->bn_eps, flags),
        "describe batch norm");
    DNNL_TRY (dnnl_primitive_desc_create (&bn_f, &bd, NULL, be->engine, NULL),
        "create batch norm");
    sp->bn_fwd = plan_prim (p, bn_f);
    if (training) {
      sp->mean = plan_mem (p, be->engine, md_of (pp->rmean));
      sp->var = plan_mem (p, be->engine, md_of (pp->rvar));
      DNNL_TRY (dnnl_batch_normalization_backward_desc_init (&bd, dnnl_backward, &y_md, &y_md,
                    be->bn_eps, dnnl_use_scale | dnnl_use_shift),
          "describe batch norm backward");
      DNNL_TRY (dnnl_primitive_desc_create (&bn_b, &bd, NULL, be->engine, bn_f),
          "create batch norm backward");
      sp->bn_bwd = plan_prim (p, bn_b);
    }
  }

  dnnl_eltwise_desc_t ed;
  int leaky = s->act == DECENT_ACT_BN_LEAKY;
  dnnl_alg_kind_t ealg = leaky ? dnnl_eltwise_relu_use_dst_for_bwd : dnnl_eltwise_tanh_use_dst_for_bwd;
  float alpha = leaky ? 0.2f : 0.0f;
  DNNL_TRY (dnnl_eltwise_forward_desc_init (&ed, prop, ealg, &y_md, alpha, 0.0f),
      "describe an activation");
  DNNL_TRY (dnnl_primitive_desc_create (&act_f, &ed, NULL, be->engine, NULL),
      "create an activation");
  sp->act_fwd = plan_prim (p, act_f);

  if (training && is_out) {
    sp->dy = plan_mem (p, be->engine, &plain_dst);
  } else if (training) {
    DNNL_TRY (dnnl_eltwise_backward_desc_init (&ed, ealg, &y_md, &y_md, alpha, 0.0f),
        "describe an activation backward");
    DNNL_TRY (dnnl_primitive_desc_create (&act_b, &ed, NULL, be->engine, act_f),
        "create an activation backward");
    sp->act_bwd = plan_prim (p, act_b);
    sp->da = plan_mem (p, be->engine, &y_md);
    sp->dy = plan_mem (p, be->engine, &y_md);
    sp->dz = leaky ? plan_mem (p, be->engine, &y_md) : sp->dy;
  }
  if (training) {
    sp->conv_bwd_w = plan_prim (p, c.bwd_w);
    const dnnl_memory_desc_t *dw_md =
        dnnl_primitive_desc_query_md (c.bwd_w, dnnl_query_diff_weights_md, 0);
    sp->dw_reorder = plan_reorder (p, be->engine, dw_md, md_of (pp->dw), &failed);
    sp->dw = sp->dw_reorder ? plan_mem (p, be->engine, dw_md) : pp->dw;
    const dnnl_memory_desc_t *wsrc_md = dnnl_primitive_desc_query_md (c.bwd_w, dnnl_query_src_md, 0);
    const dnnl_memory_desc_t *wddst_md =
        dnnl_primitive_desc_query_md (c.bwd_w, dnnl_query_diff_dst_md, 0);
    /* the forward pass's copy of the input is still there in the backward */
    relayout_plan_shared (p, be->engine, &sp->fwd_src, src_md, wsrc_md, &sp->bww_src, &failed);
    if (sp->dy)
      relayout_plan (p, be->engine, md_of (sp->dy), wddst_md, wddst_md, &sp->bww_ddst, &failed);
    if (c.bwd_data) {
      const dnnl_memory_desc_t *wb_md =
          dnnl_primitive_desc_query_md (c.bwd_data, dnnl_query_weights_md, 0);
      sp->conv_bwd_data = plan_prim (p, c.bwd_data);
      sp->w_bwd_reorder = plan_reorder (p, be->engine, md_of (pp->w), wb_md, &failed);
      sp->w_bwd = sp->w_bwd_reorder ? plan_mem (p, be->engine, wb_md) : pp->w;
      const dnnl_memory_desc_t *dddst_md =
          dnnl_primitive_desc_query_md (c.bwd_data, dnnl_query_diff_dst_md, 0);
      const dnnl_memory_desc_t *dsrc_md =
          dnnl_primitive_desc_query_md (c.bwd_data, dnnl_query_diff_src_md, 0);
      if (sp->dy)
        relayout_plan_shared (p, be->engine, &sp->bww_ddst, md_of (sp->dy), dddst_md,
            &sp->bwd_ddst, &failed);
      /* the gradient it writes goes back into the previous stage's layout */
      relayout_plan (p, be->engine, dsrc_md, src_md, dsrc_md, &sp->bwd_dsrc, &failed);
    }
    if ((!is_out && (!sp->act_bwd || !sp->da || !sp->dz)) || !sp->dy || !sp->conv_bwd_w || !sp->dw
        || failed
        || (leaky && (!sp->bn_bwd || !sp->mean || !sp->var))
        || (c.bwd_data && (!sp->conv_bwd_data || !sp->w_bwd))) {
      decent_fail (err, "could not create the backward primitives of layer %d", i);
      goto fail;
    }
  }
  if ((leaky && !sp->bn_fwd) || !sp->act_fwd) {
    decent_fail (err, "could not create the activation primitives of layer %d", i);
    goto fail;
  }
  conv_pds_free (&c);
  dnnl_primitive_desc_destroy (bn_f);
  dnnl_primitive_desc_destroy (bn_b);
  dnnl_primitive_desc_destroy (act_f);
  dnnl_primitive_desc_destroy (act_b);
  return 0;
fail:
  conv_pds_free (&c);
  dnnl_primitive_desc_destroy (bn_f);
  dnnl_primitive_desc_destroy (bn_b);
  dnnl_primitive_desc_destroy (act_f);
  dnnl_primitive_desc_destroy (act_b);
  return -1;
}

/* Stage i reads stage i-1's buffer and writes the other one, so two
 * buffers, each of the largest output written into it, serve a whole
 * scoring pass. */
static int
give_pingpong (Plan *p, const DecentArch *arch)
{
  size_t largest[2] = { 0, 0 };
  for (int i = 0; i < arch->n_stages; i++)
    if (i != arch->latent_stage) {
      size_t bytes = dnnl_memory_desc_get_size (md_of (p->st[i].y));
      largest[i % 2] = bytes > largest[i % 2] ? bytes : largest[i % 2];
    }
  for (int k = 0; k < 2; k++)
    if (!(p->pingpong[k] = alloc_floats (largest[k] / sizeof (float) + 1))) {
      p->out_of_memory = 1;
      return -1;
    }
  for (int i = 0; i < arch->n_stages; i++)
    if (i != arch->latent_stage
        && dnnl_memory_set_data_handle (p->st[i].y, p->pingpong[i % 2]) != dnnl_success)
      return -1;
  return 0;
}

/* A plan that failed for want of memory says so, and what to lower. */
static void
say_out_of_memory (const Plan *p, int n, DecentError *err)
{
  if (!p->out_of_memory || !err)
    return;
  char was[sizeof err->message];
  snprintf (was, sizeof was, "%s", err->message);
  /* scoring runs in chunks of its own, whatever batch-size says */
  decent_fail (err, "out of memory for a batch of %d frames (%s): lower the frame size "
      "(width, height)%s or base-channels and max-channels", n, was,
      p->training ? ", batch-size" : "");
}

static Plan *
plan_new (DecentBackend *be, int n, int training, DecentError *err)
{
  const DecentArch *arch = &be->arch;
  Plan *p = calloc (1, sizeof *p);
  if (!p) {
    decent_fail (err, "out of memory for a batch plan");
    return NULL;
  }
  p->n = n;
  p->training = training;
  p->weights_version = (uint64_t) -1;
  be->impl[0] = '\0';
  append_impl (be, "batch %d %s: ", n, training ? "training" : "scoring");

  dnnl_memory_desc_t x_md, out_md, lat_md;
  dnnl_dims_t xdims = { n, arch->channels, arch->height, arch->width };
  const DecentStage *ls = &arch->stages[arch->latent_stage];
  dnnl_dims_t ldims = { n, ls->out_c, ls->out_h, ls->out_w };
  int failed = 0;

  if (plain_md (&x_md, 4, xdims) < 0 || plain_md (&lat_md, 4, ldims) < 0)
    goto fail_msg;
  out_md = x_md;
  p->x = plan_memory (p, be->engine, &x_md, NULL); /* the caller's images, per call */
  if (!p->x)
    goto fail_msg;

  const dnnl_memory_desc_t *src_md = &x_md;
  for (int i = 0; i < arch->n_stages; i++) {
    if (build_stage (be, p, i, src_md, err) < 0)
      goto fail;
    src_md = md_of (p->st[i].a);
  }
  if (!training && give_pingpong (p, arch) < 0)
    goto fail_msg;

  StagePlan *last = &p->st[arch->n_stages - 1];
  p->out_reorder = plan_reorder (p, be->engine, md_of (last->a), &out_md, &failed);
  p->out_plain = p->out_reorder ? plan_mem (p, be->engine, &out_md) : last->a;
  /* the latent as plain NCHW: the loss reads it, and encode hands it out */
  StagePlan *lat = &p->st[arch->latent_stage];
  p->lat_reorder = plan_reorder (p, be->engine, md_of (lat->a), &lat_md, &failed);
  p->lat_plain = p->lat_reorder ? plan_mem (p, be->engine, &lat_md) : lat->a;
  if (!p->lat_plain)
    failed = 1;
  if (training) {
    p->dout_plain = last->dy; /* plain NCHW, see build_stage */
    p->dlat_plain = plan_mem (p, be->engine, &lat_md);
    p->dlat_reorder = plan_reorder (p, be->engine, &lat_md, md_of (lat->da), &failed);
    p->dlat_blocked = p->dlat_reorder ? plan_mem (p, be->engine, md_of (lat->da)) : p->dlat_plain;
    if (!p->dout_plain || !p->lat_plain || !p->dlat_plain || !p->dlat_blocked)
      failed = 1;
  }
  if (!p->out_plain || failed)
    goto fail_msg;
  return p;

fail_msg:
  decent_fail (err, "could not create the input and output buffers for batch %d", n);
fail:
  say_out_of_memory (p, n, err);
  plan_free (p);
  return NULL;
}

/* Gradients and Adam state exist only once the model trains: a scoring-only
 * model holds its parameters alone. */
static int
ensure_training_state (DecentBackend *be, DecentError *err)
{
  if (be->grads)
    return 0;
  be->grads = alloc_floats (be->n_params);
  be->adam_m = alloc_floats (be->n_params);
  be->adam_v = alloc_floats (be->n_params);
  if (!be->grads || !be->adam_m || !be->adam_v)
    return decent_fail (err, "out of memory for the training state of %zu parameters", be->n_params);
  DecentStageOffsets off[DECENT_MAX_STAGES];
  decent_arch_offsets (&be->arch, off, NULL);
  for (int i = 0; i < be->arch.n_stages; i++) {
    const DecentStage *s = &be->arch.stages[i];
    const DecentStageOffsets *o = &off[i];
    StageParams *sp = &be->sp[i];
    sp->dw = wrap (be->engine, md_of (sp->w), be->grads + o->weights);
    if (s->has_bias)
      sp->db = wrap (be->engine, md_of (sp->b), be->grads + o->bias);
    if (s->act == DECENT_ACT_BN_LEAKY) {
      sp->dgamma = wrap (be->engine, md_of (sp->gamma), be->grads + o->gamma);
      sp->dbeta = wrap (be->engine, md_of (sp->beta), be->grads + o->beta);
    }
    if (!sp->dw || (s->has_bias && !sp->db)
        || (s->act == DECENT_ACT_BN_LEAKY && (!sp->dgamma || !sp->dbeta)))
      return decent_fail (err, "could not create the gradient memories of layer %d", i);
  }
  return 0;
}

static void *
cache_create (void *be, int n, int training, DecentError *err)
{
  return plan_new (be, n, training, err);
}

static void
cache_destroy (void *be, void *plan)
{
  plan_free (plan);
}

static const DecentPlanOps plan_ops = { cache_create, cache_destroy, NULL, NULL };

static Plan *
get_plan (DecentBackend *be, int n, int training, DecentError *err)
{
  if (training && ensure_training_state (be, err) < 0)
    return NULL;
  return decent_plan_cache_get (&be->plans, &plan_ops, be, n, training, err);
}

/* ---- execution -------------------------------------------------------- */

static int
refresh_weights (DecentBackend *be, Plan *p, DecentError *err)
{
  if (p->weights_version == be->version)
    return 0;
  for (int i = 0; i < be->arch.n_stages; i++) {
    StagePlan *sp = &p->st[i];
    if (sp->w_fwd_reorder && run_reorder (be, sp->w_fwd_reorder, be->sp[i].w, sp->w_fwd, err) < 0)
      return -1;
    if (sp->w_bwd_reorder && run_reorder (be, sp->w_bwd_reorder, be->sp[i].w, sp->w_bwd, err) < 0)
      return -1;
  }
  p->weights_version = be->version;
  return 0;
}

static int
forward (DecentBackend *be, Plan *p, const float *x, DecentError *err)
{
  dnnl_memory_set_data_handle (p->x, (void *) x);
  if (refresh_weights (be, p, err) < 0)
    return -1;
  dnnl_memory_t src = p->x;
  for (int i = 0; i < be->arch.n_stages; i++) {
    const DecentStage *s = &be->arch.stages[i];
    StagePlan *sp = &p->st[i];
    StageParams *pp = &be->sp[i];
    if (relayout_in (be, &sp->fwd_src, src, &src, err) < 0)
      return -1;
    dnnl_exec_arg_t cargs[] = { { DNNL_ARG_SRC, src }, { DNNL_ARG_WEIGHTS, sp->w_fwd },
      { DNNL_ARG_DST, sp->y }, { DNNL_ARG_BIAS, pp->b } };
    if (run (be, sp->conv_fwd, s->has_bias ? 4 : 3, cargs, err, "a convolution") < 0)
      return -1;
    if (s->act == DECENT_ACT_BN_LEAKY) {
      dnnl_exec_arg_t bargs[] = { { DNNL_ARG_SRC, sp->y }, { DNNL_ARG_DST, sp->a },
        { DNNL_ARG_SCALE, pp->gamma }, { DNNL_ARG_SHIFT, pp->beta },
        { DNNL_ARG_MEAN, p->training ? sp->mean : pp->rmean },
        { DNNL_ARG_VARIANCE, p->training ? sp->var : pp->rvar } };
      if (run (be, sp->bn_fwd, 6, bargs, err, "batch norm") < 0)
        return -1;
      dnnl_exec_arg_t eargs[] = { { DNNL_ARG_SRC, sp->a }, { DNNL_ARG_DST, sp->a } };
      if (run (be, sp->act_fwd, 2, eargs, err, "LeakyReLU") < 0)
        return -1;
    } else {
      dnnl_exec_arg_t eargs[] = { { DNNL_ARG_SRC, sp->y }, { DNNL_ARG_DST, sp->a } };
      if (run (be, sp->act_fwd, 2, eargs, err, "tanh") < 0)
        return -1;
    }
    src = sp->a;
  }
  if (p->out_reorder
      && run_reorder (be, p->out_reorder, p->st[be->arch.n_stages - 1].a, p->out_plain, err) < 0)
    return -1;
  return 0;
}

/* Backward through stage i, from sp->da to the previous stage's da. */
static int
backward_stage (DecentBackend *be, Plan *p, int i, DecentError *err)
{
  const DecentStage *s = &be->arch.stages[i];
  StagePlan *sp = &p->st[i];
  StageParams *pp = &be->sp[i];
  dnnl_exec_arg_t eargs[] = { { DNNL_ARG_DST, sp->a }, { DNNL_ARG_DIFF_DST, sp->da },
    { DNNL_ARG_DIFF_SRC, sp->dz } };
  if (sp->act_bwd && run (be, sp->act_bwd, 3, eargs, err, "an activation backward") < 0)
    return -1;
  if (s->act == DECENT_ACT_BN_LEAKY) {
    dnnl_exec_arg_t bargs[] = { { DNNL_ARG_SRC, sp->y }, { DNNL_ARG_MEAN, sp->mean },
      { DNNL_ARG_VARIANCE, sp->var }, { DNNL_ARG_DIFF_DST, sp->dz },
      { DNNL_ARG_SCALE, pp->gamma }, { DNNL_ARG_SHIFT, pp->beta }, { DNNL_ARG_DIFF_SRC, sp->dy },
      { DNNL_ARG_DIFF_SCALE, pp->dgamma }, { DNNL_ARG_DIFF_SHIFT, pp->dbeta } };
    if (run (be, sp->bn_bwd, 9, bargs, err, "batch norm backward") < 0)
      return -1;
  }
  dnnl_memory_t src = i > 0 ? p->st[i - 1].a : p->x, dy = sp->dy;
  if (relayout_in (be, &sp->bww_src, src, &src, err) < 0
      || relayout_in (be, &sp->bww_ddst, sp->dy, &dy, err) < 0)
    return -1;
  dnnl_exec_arg_t wargs[] = { { DNNL_ARG_SRC, src }, { DNNL_ARG_DIFF_DST, dy },
    { DNNL_ARG_DIFF_WEIGHTS, sp->dw }, { DNNL_ARG_DIFF_BIAS, pp->db } };
  if (run (be, sp->conv_bwd_w, s->has_bias ? 4 : 3, wargs, err, "a backward-weights convolution") < 0)
    return -1;
  if (sp->dw_reorder && run_reorder (be, sp->dw_reorder, sp->dw, pp->dw, err) < 0)
    return -1;
  if (i > 0) {
    dnnl_memory_t prev_da = p->st[i - 1].da;
    if (relayout_in (be, &sp->bwd_ddst, sp->dy, &dy, err) < 0)
      return -1;
    dnnl_exec_arg_t dargs[] = { { DNNL_ARG_DIFF_DST, dy }, { DNNL_ARG_WEIGHTS, sp->w_bwd },
      { DNNL_ARG_DIFF_SRC, sp->bwd_dsrc.mem ? sp->bwd_dsrc.mem : prev_da } };
    if (run (be, sp->conv_bwd_data, 3, dargs, err, "a backward-data convolution") < 0)
      return -1;
    if (sp->bwd_dsrc.reorder && run_reorder (be, sp->bwd_dsrc.reorder, sp->bwd_dsrc.mem, prev_da, err) < 0)
      return -1;
  }
  return 0;
}

static int
cpu_train_step (DecentBackend *be, const float *x, int n, const DecentStepParams *sp,
    DecentLossTerms *terms, float *grads, float *latent_mean, DecentError *err)
{
  const DecentArch *arch = &be->arch;
  if (!be || !x || !sp || n < 2)
    return decent_fail (err, "a training step needs a batch of at least 2 images");
  Plan *p = get_plan (be, n, 1, err);
  if (!p)
    return -1;
  if (forward (be, p, x, err) < 0)
    return -1;
  const int lat = arch->latent_stage;
  if (p->lat_reorder && run_reorder (be, p->lat_reorder, p->st[lat].a, p->lat_plain, err) < 0)
    return -1;

  const size_t plane = (size_t) arch->width * arch->height;
  const int d = decent_arch_latent_dim (arch);
  double rec = decent_cpu_reconstruction (x, handle (p->out_plain), n, arch->channels, plane,
      NULL, handle (p->dout_plain), NULL);
  double dec = decent_cpu_decentral (handle (p->lat_plain), n, d,
      sp->loss == DECENT_LOSS_CENTRE ? sp->centre : NULL, sp->lambda, handle (p->dlat_plain),
      latent_mean);
  if (terms) {
    terms->reconstruction = rec;
    terms->decentral = dec;
    terms->total = rec + sp->lambda * dec;
  }
  if (!isfinite (rec + sp->lambda * dec))
    return decent_fail (err, "the loss is not finite (reconstruction %g, decentralization %g); "
                      "nothing was updated: lower the learning rate", rec, dec);

  const int last = arch->n_stages - 1;
  decent_cpu_tanh_backward (handle (p->dout_plain), handle (p->out_plain),
      (size_t) n * arch->channels * plane);
  for (int i = last; i >= 0; i--) {
    if (backward_stage (be, p, i, err) < 0)
      return -1;
    if (i == lat + 1) {
      /* the latent's gradient: from the decoder plus the decentralization term */
      if (p->dlat_reorder
          && run_reorder (be, p->dlat_reorder, p->dlat_plain, p->dlat_blocked, err) < 0)
        return -1;
      decent_cpu_accumulate (handle (p->st[lat].da), handle (p->dlat_blocked),
          dnnl_memory_desc_get_size (md_of (p->dlat_blocked)) / sizeof (float));
    }
  }
  dnnl_stream_wait (be->stream);

  if (grads)
    memcpy (grads, be->grads, be->n_params * sizeof (float));
  if (sp->update) {
    for (int i = 0; i < arch->n_stages; i++) {
      const DecentStage *s = &arch->stages[i];
      if (s->act != DECENT_ACT_BN_LEAKY)
        continue;
      decent_cpu_running_stats (handle (be->sp[i].rmean), handle (be->sp[i].rvar),
          handle (p->st[i].mean), handle (p->st[i].var), s->out_c,
          (size_t) n * s->out_h * s->out_w, sp->bn_momentum);
    }
    decent_cpu_adam (be->params, be->grads, be->adam_m, be->adam_v, be->n_params, sp->lr,
        sp->beta1, sp->beta2, sp->adam_eps, sp->t);
    be->version++;
  }
  return 0;
}

static int
cpu_score (DecentBackend *be, const float *x, int n, float *scores, float *maps, float *recon,
    DecentError *err)
{
  if (!be || !x || !scores || n < 1)
    return decent_fail (err, "scoring needs at least one image and a place for its score");
  /* a training plan's forward pass normalises with the batch's statistics
   * and leaves the running ones alone */
  Plan *p = get_plan (be, n, be->score_batch_stats && n >= 2, err);
  if (!p)
    return -1;
  if (forward (be, p, x, err) < 0)
    return -1;
  dnnl_stream_wait (be->stream);
  decent_cpu_reconstruction (x, handle (p->out_plain), n, be->arch.channels,
      (size_t) be->arch.width * be->arch.height, scores, NULL, maps);
  if (recon)
    memcpy (recon, handle (p->out_plain),
        (size_t) n * be->arch.channels * be->arch.width * be->arch.height * sizeof (float));
  return 0;
}

static int
cpu_encode (DecentBackend *be, const float *x, int n, float *latents, float *recon,
    DecentError *err)
{
  if (!be || !x || !latents || n < 1)
    return decent_fail (err, "encoding needs at least one image and a place for its code");
  Plan *p = get_plan (be, n, 0, err);
  if (!p || forward (be, p, x, err) < 0)
    return -1;
  if (p->lat_reorder
      && run_reorder (be, p->lat_reorder, p->st[be->arch.latent_stage].a, p->lat_plain, err) < 0)
    return -1;
  dnnl_stream_wait (be->stream);
  memcpy (latents, handle (p->lat_plain),
      (size_t) n * decent_arch_latent_dim (&be->arch) * sizeof (float));
  if (recon)
    memcpy (recon, handle (p->out_plain),
        (size_t) n * be->arch.channels * be->arch.width * be->arch.height * sizeof (float));
  return 0;
}

/* ---- parameters ------------------------------------------------------- */

static int
cpu_set_params (DecentBackend *be, const float *params, const float *buffers, DecentError *err)
{
  if (!be || !params || !buffers)
    return decent_fail (err, "no parameters to set");
  memcpy (be->params, params, be->n_params * sizeof (float));
  memcpy (be->buffers, buffers, be->n_buffers * sizeof (float));
  if (be->adam_m) {
    memset (be->adam_m, 0, be->n_params * sizeof (float));
    memset (be->adam_v, 0, be->n_params * sizeof (float));
  }
  be->version++;
  return 0;
}

static int
cpu_get_params (DecentBackend *be, float *params, float *buffers, DecentError *err)
{
  if (!be || !params || !buffers)
    return decent_fail (err, "no place for the parameters");
  memcpy (params, be->params, be->n_params * sizeof (float));
  memcpy (buffers, be->buffers, be->n_buffers * sizeof (float));
  return 0;
}

static int
cpu_set_score_batch_stats (DecentBackend *be, int on, DecentError *err)
{
  if (!be)
    return decent_fail (err, "no CPU backend");
  be->score_batch_stats = on;
  return 0;
}

static const char *
cpu_implementation (DecentBackend *be)
{
  return be ? be->impl : "";
}

static void
cpu_destroy (DecentBackend *be)
{
  if (!be)
    return;
  decent_plan_cache_clear (&be->plans, &plan_ops, be);
  for (int i = 0; i < be->arch.n_stages; i++) {
    StageParams *sp = &be->sp[i];
    dnnl_memory_t all[] = { sp->w, sp->b, sp->gamma, sp->beta, sp->rmean, sp->rvar, sp->dw,
      sp->db, sp->dgamma, sp->dbeta };
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
      if (all[k])
        dnnl_memory_destroy (all[k]);
  }
  if (be->stream)
    dnnl_stream_destroy (be->stream);
  if (be->engine)
    dnnl_engine_destroy (be->engine);
  free (be->params);
  free (be->grads);
  free (be->adam_m);
  free (be->adam_v);
  free (be->buffers);
  free (be);
}

static DecentBackend *
cpu_create (const DecentArch *arch, float bn_eps, DecentError *err)
{
  if (!arch || arch->n_stages < 2) {
    decent_fail (err, "no architecture for the CPU backend");
    return NULL;
  }
  DecentBackend *be = calloc (1, sizeof *be);
  if (!be) {
    decent_fail (err, "out of memory for the CPU backend");
    return NULL;
  }
  be->arch = *arch;
  be->bn_eps = bn_eps;
  be->n_params = decent_arch_param_count (arch);
  be->n_buffers = decent_arch_buffer_count (arch);
  be->params = alloc_floats (be->n_params);
  be->buffers = alloc_floats (be->n_buffers);
  if (!be->params || !be->buffers) {
    decent_fail (err, "out of memory for %zu parameters", be->n_params);
    goto fail;
  }
  DNNL_TRY (dnnl_engine_create (&be->engine, dnnl_cpu, 0), "open the CPU engine");
  DNNL_TRY (dnnl_stream_create (&be->stream, be->engine, dnnl_stream_default_flags),
      "open a CPU stream");

  /* views of the flat arrays, in canonical order */
  DecentStageOffsets off[DECENT_MAX_STAGES];
  decent_arch_offsets (arch, off, NULL);
  for (int i = 0; i < arch->n_stages; i++) {
    const DecentStage *s = &arch->stages[i];
    StageParams *sp = &be->sp[i];
    dnnl_memory_desc_t wmd, vmd;
    dnnl_dims_t wdims = { s->out_c, s->in_c, s->kernel, s->kernel };
    dnnl_dims_t vdims = { s->out_c };
    if (plain_md (&wmd, 4, wdims) < 0 || plain_md (&vmd, 1, vdims) < 0) {
      decent_fail (err, "could not describe the parameters of layer %d", i);
      goto fail;
    }
    const DecentStageOffsets *o = &off[i];
    sp->w = wrap (be->engine, &wmd, be->params + o->weights);
    if (s->has_bias)
      sp->b = wrap (be->engine, &vmd, be->params + o->bias);
    if (s->act == DECENT_ACT_BN_LEAKY) {
      sp->gamma = wrap (be->engine, &vmd, be->params + o->gamma);
      sp->beta = wrap (be->engine, &vmd, be->params + o->beta);
      sp->rmean = wrap (be->engine, &vmd, be->buffers + o->running_mean);
      sp->rvar = wrap (be->engine, &vmd, be->buffers + o->running_var);
    }
    if (!sp->w || (s->has_bias && !sp->b)
        || (s->act == DECENT_ACT_BN_LEAKY && (!sp->gamma || !sp->beta || !sp->rmean || !sp->rvar))) {
      decent_fail (err, "could not create the parameter memories of layer %d", i);
      goto fail;
    }
  }
  return be;
fail:
  cpu_destroy (be);
  return NULL;
}

const DecentBackendOps decent_backend_cpu = {
  .name = "cpu-onednn",
  .create = cpu_create,
  .destroy = cpu_destroy,
  .set_params = cpu_set_params,
  .get_params = cpu_get_params,
  .train_step = cpu_train_step,
  .score = cpu_score,
  .encode = cpu_encode,
  .set_score_batch_stats = cpu_set_score_batch_stats,
  .implementation = cpu_implementation,
};
