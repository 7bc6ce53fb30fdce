/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* decent.h — public API of the gst-decent engine.
 *
 * A convolutional autoencoder trained on normal images only, with the latent
 * feature decentralization loss of Hong & Choe.  The anomaly score of an image
 * is its mean squared reconstruction error; the per-pixel error is its heatmap.
 *
 * Every function checks its arguments.  Functions that can fail return 0 on
 * success and -1 on failure, with a message in the DecentError (may be NULL).
 * A DecentModel is not thread-safe: use one per thread, or lock around it.
 */
#ifndef DECENT_H
#define DECENT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Room for a PATH_MAX path and its reason; a message that still does not
 * fit loses the middle (part of the path), never its end (the reason). */
#define DECENT_ERROR_LEN 8192

typedef struct {
  char message[DECENT_ERROR_LEN];
} DecentError;

/* What a model may ask for, checked by decent_config_validate (so by
 * training and by loading alike): each side at most DECENT_MAX_SIDE pixels;
 * one image's forward pass (input plus every activation, float32) at most
 * DECENT_MAX_WORKING_SET_BYTES; parameters, BatchNorm statistics and centre
 * (float32) at most DECENT_MAX_PARAMETER_BYTES. */
#define DECENT_MAX_SIDE 1024
#define DECENT_MAX_WORKING_SET_BYTES (512ull << 20)
#define DECENT_MAX_PARAMETER_BYTES (1ull << 30)
/* local_surround at most (a window can lose no more than four rings' excess) */
#define DECENT_MAX_SURROUND 4.0f

typedef struct DecentModel DecentModel;

typedef enum {
  DECENT_LOSS_DECENTRALIZATION = 13, /* paper eq. (13): spread around the origin */
  DECENT_LOSS_CENTRE = 9,            /* paper eq. (9): spread around the running centre (11) */
} DecentLoss;

typedef enum {
  DECENT_DEVICE_AUTO = 0, /* CUDA when a GPU is usable, else CPU */
  DECENT_DEVICE_CPU = 1,
  DECENT_DEVICE_CUDA = 2,
} DecentDevice;

/* Everything needed to build and train a model.  decent_config_init() fills
 * the paper's / OCGAN's defaults; change fields afterwards. */
typedef struct {
  int width, height, channels; /* model geometry; channels 1 or 3 */
  int base_channels;           /* channels of the first conv (64) */
  int max_channels;            /* channel cap when doubling (512) */
  DecentLoss loss;             /* DECENT_LOSS_DECENTRALIZATION */
  float lambda;                /* 0.01; 0 gives the plain autoencoder */
  float learning_rate;         /* Adam, 2e-4 */
  float beta1, beta2;          /* Adam, 0.5 and 0.999 */
  float adam_eps;              /* 1e-8 */
  float init_std;              /* weights ~ N(0, init_std), 0.02 */
  float input_scale;           /* pixel value v becomes v * scale + offset: */
  float input_offset;          /*   1/127.5 and -1 map 0..255 onto [-1, 1] */
  float bn_momentum;           /* running-statistics momentum, 0.1 */
  float bn_eps;                /* 1e-5 */
  int batch_size;              /* mini-batch size for decent_model_train, 64 */
  uint64_t seed;               /* initial weights and shuffling, 1 */
  DecentDevice device;         /* DECENT_DEVICE_AUTO */
  int latent_side;             /* 0: the paper's rule; N: halve only until the smaller side
                                * is at most N, keeping a grid of latent cells (video) */
  float local_area;            /* local scores: the window, a fraction of the frame (0.01) */
  float local_contrast;        /* local score: an RMS error e counts e / (e + this) (0.1) */
  float local_surround;        /* local score: each window less this times how much hotter
                                * than the map its ring is (0: off; decent-train sets 0.5
                                * for video); docs/method.md, "Anomaly score and heatmap" */
} DecentConfig;

/* How a frame's per-pixel error map becomes its score (docs/method.md). */
typedef enum {
  DECENT_SCORE_MEAN = 0,       /* the paper's eq. (2): the mean squared error of the frame */
  DECENT_SCORE_LOCAL = 1,      /* the largest mean, over windows of local_area, of the
                                * per-pixel RMS error saturated by local_contrast, less
                                * local_surround times its ring's excess over the frame */
  DECENT_SCORE_NORMALIZED = 2, /* the largest window mean of the squared error standardised
                                * per pixel by the normal errors (decent_model_learn_normal) */
} DecentScoreMode;
#define DECENT_SCORE_MODES 3

/* Result of one optimisation step (or the mean over an epoch). */
typedef struct {
  double total;         /* the full loss */
  double reconstruction;/* mean over images of the per-pixel mean squared error */
  double decentral;     /* d - mean_i ||f(x_i) - c||^2 (c = 0 for loss 13), before lambda */
} DecentLossTerms;

/* Score statistics of normal data and the decision threshold. */
typedef struct {
  float threshold;     /* score above which a frame is anomalous; 0 = not calibrated */
  float quantile;      /* quantile of the held-out normal scores used for it */
  float mean, stddev, min, max; /* of the held-out normal scores */
  uint32_t count;      /* number of held-out normal frames scored */
  float false_alarm_rate; /* expected share of normal frames like the held-out ones above
                           * the threshold: at least (above + 1) / (count + 1), about what
                           * count interchangeable frames can vouch for (0 in old files) */
} DecentCalibration;

typedef struct {
  int width, height, channels;
  int encoder_layers;      /* the decoder has as many */
  int kernel, stride;
  int latent_width, latent_height, latent_channels;
  int latent_dim;          /* d = latent_width * latent_height * latent_channels */
  uint64_t parameters;     /* trainable parameters */
  double flops_forward;    /* FLOPs of one image's forward pass (multiply-add = 2) */
  double flops_train;      /* FLOPs of one image's training step (forward + backward) */
  const char *backend;     /* "cpu-onednn" or "cuda-cudnn" */
  DecentLoss loss;
  float lambda;
  uint64_t steps;          /* optimisation steps taken so far */
  uint32_t epochs;         /* epochs completed by decent_model_train so far */
} DecentInfo;

/* An 8-bit video frame as GStreamer lays it out (decent_model_score_frame).
 * The region (roi_*) is the part that is scored and drawn on. */
typedef enum {
  DECENT_FRAME_RGB = 0,
  DECENT_FRAME_BGR = 1,
  DECENT_FRAME_RGBX = 2,  /* also RGBA: the fourth byte is ignored */
  DECENT_FRAME_BGRX = 3,  /* also BGRA */
  DECENT_FRAME_GRAY8 = 4,
  DECENT_FRAME_I420 = 5,  /* BT.601 limited range */
  DECENT_FRAME_NV12 = 6,  /* BT.601 limited range */
} DecentFrameFormat;
#define DECENT_FRAME_FORMATS 7 /* how the bytes of each lie: engine/frame_layout.h */

typedef struct {
  DecentFrameFormat format;
  int width, height;
  uint8_t *data[3];  /* planes */
  int stride[3];     /* bytes per row of each plane */
  int roi_x, roi_y, roi_width, roi_height;
} DecentFrame;

/* Called once per epoch by decent_model_train; return nonzero to stop early. */
typedef int (*DecentEpochCallback)(int epoch, int epochs, const DecentLossTerms *mean,
                                   double elapsed_s, void *user);

void decent_config_init(DecentConfig *cfg, int width, int height, int channels);

/* Checks a configuration without building anything (and without allocating
 * what it describes): settings in range, the architecture, and the bounds
 * above. */
int decent_config_validate(const DecentConfig *cfg, DecentError *err);

/* 1 when the two configurations build the same layers (sizes, channels,
 * latent grid) whatever their settings say: a latent side of 6 and the
 * paper's rule (0) can give one architecture.  0 otherwise, or when either
 * is invalid. */
int decent_config_same_architecture(const DecentConfig *a, const DecentConfig *b);

DecentModel *decent_model_new(const DecentConfig *cfg, DecentError *err);
/* Reads a model file (docs/model-format.md, versions 1 and 2): its header is
 * checked before any size in it is believed, the body is read in pieces.
 * Refuses, naming the file and the reason, what is not a regular file (a
 * FIFO is never waited on), a damaged, truncated or newer file, settings
 * over the limits above, and a model whose scores are not finite. */
DecentModel *decent_model_load(const char *path, DecentDevice device, DecentError *err);
void decent_model_free(DecentModel *model);

/* Writes through a temporary file, fsync and rename: the old file at path is
 * replaced whole or not at all.  The temporary, <path>.tmp-XXXXXX, is locked
 * (flock) while it is written.  A symbolic link is written through (its
 * target replaced, the link kept); a device, FIFO or socket is refused, and
 * so is a file that is not empty and does not begin as a model file does
 * (a slip of the name must not cost the footage). */
int decent_model_save(DecentModel *model, const char *path, DecentError *err);
/* decent_model_save for a file that is the writer's own (a training's
 * checkpoint): a symbolic link at path is replaced by the file, not written
 * through, since a link there must not send the write onto another model. */
int decent_model_save_own(DecentModel *model, const char *path, DecentError *err);
/* How many bytes decent_model_save would write for model; 0 on failure. */
size_t decent_model_file_bytes(DecentModel *model);
/* Where decent_model_save writes path: the end of its chain of symbolic
 * links (a target that does not exist yet included), else path itself.
 * NULL when out of memory; free() it. */
char *decent_model_file_target(const char *path);
/* 0 when decent_model_save may write path; -1 with the reason for a loop of
 * links, a target that is not a regular file (a folder, device, FIFO) or a
 * file of something else than a model.
 * Whether the folder is writable is not checked. */
int decent_model_check_destination(const char *path, DecentError *err);

/* Removes temporaries <path>.tmp-XXXXXX that a writer which died left behind:
 * regular files no live writer holds locked that are empty or begin as a
 * model file does (a file of something else so named stays).  Returns how
 * many were removed (their names go to removed, a '\n'-separated list the
 * caller frees with free(); removed may be NULL), or -1 with a reason. */
int decent_model_remove_stale_temporaries(const char *path, char **removed, DecentError *err);

/* Frames are 8-bit, interleaved (HWC), at model geometry, packed one after the
 * other: n * width * height * channels bytes. */
int decent_model_train_step(DecentModel *model, const uint8_t *frames, int n,
                            DecentLossTerms *out, DecentError *err);

/* Epochs over a set of frames: shuffled every epoch (seeded), mini-batches of
 * cfg.batch_size (the last one kept when it has at least 2 frames).  The
 * model counts completed epochs (saved in its file), so training can be
 * resumed from a saved model with the remaining epochs. */
int decent_model_train(DecentModel *model, const uint8_t *frames, int n, int epochs,
                       DecentEpochCallback cb, void *user, DecentError *err);

/* One score per frame.  maps (may be NULL) receives n * width * height
 * per-pixel errors, averaged over channels. */
int decent_model_score(DecentModel *model, const uint8_t *frames, int n,
                       float *scores, float *maps, DecentError *err);

/* Whether this model's backend converts, scores and draws on video frames
 * itself (the CUDA backend: one upload of the 8-bit frame, everything else on
 * the GPU).  When it does not, callers convert frames to the model geometry
 * themselves and use decent_model_score. */
int decent_model_has_frame_path(const DecentModel *model);

/* Scores one frame's region on the backend's device: unpack, resize (as
 * GStreamer's LINEAR resampler does, like the CPU path), normalise, forward,
 * error.  map (may be NULL) receives width *
 * height per-pixel errors at model size.  Needs decent_model_has_frame_path. */
int decent_model_score_frame(DecentModel *model, const DecentFrame *frame, float *score,
                             float *map, DecentError *err);

/* Blends a heatmap over the frame's region on the backend's device: map
 * holds width * height errors at model size (the map decent_model_score_frame
 * gave for this frame, or a score mode's map of it), each coloured
 * lut[255 * min(err / max_error, 1)] (256 RGB triplets) and scaled to the
 * region, blended with constant alpha in [0, 1].  Needs
 * decent_model_has_frame_path. */
int decent_model_draw_heatmap(DecentModel *model, DecentFrame *frame, const float *map,
                              const uint8_t lut[768], float max_error, float alpha,
                              DecentError *err);

/* The model's reconstructions g(f(x)) of n frames, as 8-bit frames in the
 * input's layout (the inverse of the input scaling, clamped to 0..255). */
int decent_model_reconstruct(DecentModel *model, const uint8_t *frames, int n, uint8_t *out,
                             DecentError *err);

/* Training augmentation: each of n frames (8-bit, packed, width x height x
 * channels) as a random crop of 1/z of its width and height, z uniform in
 * log scale over [1, max_zoom], scaled back to the full size (bilinear) into
 * dst (not src).  state: the random generator's state, advanced. */
int decent_augment_zoom(const uint8_t *src, uint8_t *dst, int n, int width, int height,
                        int channels, float max_zoom, uint64_t *state, DecentError *err);

/* For measurements: on (nonzero), decent_model_score normalises each chunk
 * of up to 64 frames with that chunk's own BatchNorm statistics (a PyTorch
 * model scored without eval() does so) instead of the running statistics
 * learnt in training; off restores the default.  CPU backend only. */
int decent_model_set_score_batch_stats(DecentModel *model, int on, DecentError *err);

/* The codes f(x) of n frames (8-bit, model geometry, packed): n *
 * latent_dim floats in (-1, 1), each frame's in NCHW order, computed as
 * scoring computes them (BatchNorm running statistics). */
int decent_model_encode(DecentModel *model, const uint8_t *frames, int n, float *codes,
                        DecentError *err);

/* Whether a model's reconstructions follow their inputs or it draws one
 * picture whatever the input (docs/method.md, "Collapse"), over a set of
 * frames (normal test or held-out frames).  Spreads are the per-pixel
 * standard deviation across the frames, averaged over pixels and channels,
 * in grey levels. */
typedef struct {
  int frames;
  int latent_dim;
  double input_spread;  /* of the inputs x */
  double recon_spread;  /* of the reconstructions g(f(x)) */
  double spread_ratio;  /* recon_spread / input_spread; -1 when the inputs do not vary */
  double saturated;     /* share of the codes' values with |f| > 0.99 */
  int sign_patterns;    /* distinct sign patterns (which units are > 0) among the codes */
} DecentCollapse;
/* spread_ratio below this: the reconstructions barely depend on the input.
 * Plain autoencoders measure 0.6-0.9 here, collapsed models about 0.01. */
#define DECENT_COLLAPSED_SPREAD 0.2
int decent_model_measure_collapse(DecentModel *model, const uint8_t *frames, int n,
                                  DecentCollapse *out, DecentError *err);

/* Scores held-out normal frames and sets the threshold to the given quantile
 * (e.g. 0.995) of their scores, with their statistics.  decent_model_calibrate
 * calibrates DECENT_SCORE_MEAN (the paper's score); _mode any one mode;
 * _all every mode the model can score (NORMALIZED once normal errors are
 * learned), each threshold raised to the scores' mean + sigmas standard
 * deviations when that is higher (0: the quantile alone); the calibration's
 * false_alarm_rate is the larger of the normal law's tail above it and
 * (frames above + 1) / (n + 1), the least n frames can vouch for.  Held-out frames
 * should be neither the training frames nor their neighbours in time, or the
 * threshold is too low for new footage. */
int decent_model_calibrate(DecentModel *model, const uint8_t *frames, int n,
                           float quantile, DecentError *err);
int decent_model_calibrate_mode(DecentModel *model, DecentScoreMode mode, const uint8_t *frames,
                                int n, float quantile, DecentError *err);
int decent_model_calibrate_all(DecentModel *model, const uint8_t *frames, int n,
                               float quantile, float sigmas, DecentError *err);

/* Per-pixel mean and standard deviation of the squared error map over
 * normal frames (the training frames do), which DECENT_SCORE_NORMALIZED
 * divides by; stored in the model file. */
int decent_model_learn_normal(DecentModel *model, const uint8_t *frames, int n,
                              DecentError *err);
int decent_model_has_normal(const DecentModel *model);

/* Scores frames in a mode: scores (n) and maps (may be NULL: n * width *
 * height) of that mode: the squared error (MEAN), the saturated RMS error
 * (LOCAL) or the standardised error (NORMALIZED). */
int decent_model_score_mode(DecentModel *model, DecentScoreMode mode, const uint8_t *frames,
                            int n, float *scores, float *maps, DecentError *err);

/* Turns one squared-error map (as decent_model_score or _score_frame give
 * it) into the mode's map, in place, and gives its score. */
int decent_model_score_map(DecentModel *model, DecentScoreMode mode, float *map, float *score,
                           DecentError *err);

const char *decent_score_mode_name(DecentScoreMode mode);

/* The still gate of the local score (docs/method.md, "Still objects").  A
 * frame's local map m (DECENT_SCORE_LOCAL's) is gated where the picture
 * changed since `lag` frames before: g = m / (1 + (d / tolerance)^2), d the
 * change of the grey level (0..255) at the model's size, box-smoothed over
 * smooth x smooth pixels.  What g has over the running mean of g (time
 * constant `memory` frames, begun at the mean g of the first 20 gated
 * frames of the held-out footage; a frame whose gate is closed over most
 * of the picture leaves it as it is) is
 * scored by its largest window mean, as the local score.  A new thing that
 * stays put stands out; people walking by and slow changes of the whole
 * scene do not.  It is blind to anomalies that move: decentanomaly flags a
 * frame when either score is over its threshold. */
typedef struct {
  int lag;          /* frames between the two pictures compared, 1..DECENT_STILL_MAX_LAG */
  float tolerance;  /* grey levels of change that halve the map, 0.01..255 */
  int smooth;       /* odd side of the box the change is averaged over, 1..63 map pixels */
  float memory;     /* time constant of the running mean, 1..1e6 frames */
  float frame_seconds; /* time between the frames it was calibrated on, 0 (unknown) or
                        * DECENT_STILL_MIN_SECONDS..MAX: a gate scoring frames at another
                        * pace keeps lag and memory in seconds (decent_still_gate_set_pace) */
} DecentStillSettings;
#define DECENT_STILL_MAX_LAG 100
/* frame times a gate knows: a million frames a second to one a day */
#define DECENT_STILL_MIN_SECONDS 1e-6
#define DECENT_STILL_MAX_SECONDS 86400.0

/* 10 frames, 8 grey levels, 5 pixels, 100 frames (measured at 10 frames/s),
 * frame_seconds 0 (unknown). */
void decent_still_settings_init(DecentStillSettings *s);
int decent_still_settings_validate(const DecentStillSettings *s, DecentError *err);
/* The same, and whether a gate with them fits a width x height model (its
 * lag + 1 pictures at most 256 MiB): what calibration will check, known
 * before any footage is collected. */
int decent_still_settings_fit(const DecentStillSettings *s, int width, int height,
                              DecentError *err);

/* Calibrates the still gate on held-out normal frames (8-bit, model
 * geometry, packed) in time order: `blocks` runs of consecutive frames,
 * block_frames[b] frames each, one after the other in frames.  The running
 * mean begins at the mean gated map of the first 20 frames that have a
 * picture lag frames before them in their block, then goes on through the
 * blocks in order, scoring each such frame, as a stream would; the
 * threshold follows decent_model_calibrate_all's rule.  Stored in the
 * model file. */
int decent_model_calibrate_still(DecentModel *model, const DecentStillSettings *s,
                                 const uint8_t *frames, const int *block_frames, int blocks,
                                 float quantile, float sigmas, DecentError *err);
/* The same, where a block whose starts_stream[b] is non-zero begins a new
 * stream (the next recording of a concat or a playlist): the running mean
 * begins again there, as decentanomaly's gate does at a stream-start,
 * instead of going on from the block before.  starts_stream may be NULL
 * (no block does: decent_model_calibrate_still). */
int decent_model_calibrate_still_streams(DecentModel *model, const DecentStillSettings *s,
                                         const uint8_t *frames, const int *block_frames,
                                         const uint8_t *starts_stream, int blocks,
                                         float quantile, float sigmas, DecentError *err);
/* 1 with the settings and calibration (s, cal may be NULL) when the model
 * has a still gate, 0 (both zeroed) when it has none, -1 for no model.
 * A gate keeps lag + 1 pictures: settings whose history would exceed
 * 256 MiB are refused by calibration, loading and decent_still_gate_new. */
int decent_model_get_still(const DecentModel *model, DecentStillSettings *s,
                           DecentCalibration *cal);
/* Drops the model's still gate (no-op without one, or for NULL). */
void decent_model_clear_still(DecentModel *model);

/* A companion: a second model of another geometry carried in the same
 * file, scored beside this one by decentanomaly (docs/method.md, "Two
 * models, one score"; decent-train companion=true).  set stores a copy of
 * companion's file bytes, replacing any (companion stays the caller's; NULL
 * removes it); -1 when it carries a companion itself or takes other
 * channels.  has: 1 or 0.  new: a model built from those bytes for device
 * (caller frees), NULL with the reason when there is none. */
int decent_model_set_companion(DecentModel *model, DecentModel *companion, DecentError *err);
int decent_model_has_companion(const DecentModel *model);
DecentModel *decent_model_companion_new(const DecentModel *model, DecentDevice device,
                                        DecentError *err);

/* One stream's still gate: the last lag + 1 pictures and the running mean.
 * Made from a model's calibration (NULL with the reason when it has none);
 * independent of the model afterwards. */
typedef struct DecentStillGate DecentStillGate;
DecentStillGate *decent_still_gate_new(const DecentModel *model, DecentError *err);
void decent_still_gate_free(DecentStillGate *gate);
/* Forgets the pictures and restarts the running mean (a seek, new caps);
 * the next frame given is taken (the pace is kept). */
void decent_still_gate_reset(DecentStillGate *gate);
/* Takes a scored frame: its pixels at model geometry (8-bit, packed, as
 * decent_model_score takes them) and its local map (width * height, as
 * decent_model_score_map gives it in DECENT_SCORE_LOCAL).  Returns 1 with
 * its still score (compare with decent_still_gate_threshold), 0 (score 0)
 * while its history fills (the lag that decent_still_gate_set_pace
 * returned, in frames given), -1 with a reason (a map with a value that is
 * not finite is refused, the gate unchanged).  A frame that the pace
 * does not take returns the last frame's result again. */
int decent_still_gate_push(DecentStillGate *gate, const uint8_t *pixels,
                           const float *local_map, float *score, DecentError *err);
float decent_still_gate_threshold(const DecentStillGate *gate);
/* What rose over the running mean in the last frame the gate scored
 * (width * height of the model; its largest window mean is that frame's
 * still score), for heatmaps and places; NULL for no gate, or while its
 * history fills (the last push returned 0).  Valid until the next push. */
const float *decent_still_gate_map(const DecentStillGate *gate);
/* The time between the frames the gate will be given (0: unknown), so that
 * its lag and memory stay the seconds they were calibrated as: frames
 * coming faster are taken at the calibration's pace (the others keep the
 * last still score), frames coming slower are compared with fewer frames
 * before them and forgotten in fewer frames.  Without a calibration pace
 * (frame_seconds 0) or with 0 here, frames count as they were calibrated.
 * Restarts the gate.  Returns the lag in given frames it now compares
 * across (>= 1), or -1 with a reason. */
int decent_still_gate_set_pace(DecentStillGate *gate, double frame_seconds, DecentError *err);

/* The calibration of DECENT_SCORE_MEAN, or of a mode (threshold 0: the model
 * has no calibration for it). */
int decent_model_get_calibration(const DecentModel *model, DecentCalibration *out);
int decent_model_get_mode_calibration(const DecentModel *model, DecentScoreMode mode,
                                      DecentCalibration *out);
int decent_model_set_threshold(DecentModel *model, float threshold, DecentError *err);
/* A mode's threshold (0: not calibrated); a threshold above 0 in
 * DECENT_SCORE_NORMALIZED needs the normal errors (decent_model_learn_normal). */
int decent_model_set_mode_threshold(DecentModel *model, DecentScoreMode mode, float threshold,
                                    DecentError *err);
int decent_model_get_config(const DecentModel *model, DecentConfig *out);
int decent_model_describe(const DecentModel *model, DecentInfo *info);

/* A multi-line human-readable summary (layers, shapes, parameters, FLOPs,
 * backend).  The caller frees it with free(). */
char *decent_model_describe_string(const DecentModel *model);

#define DECENT_MAX_THREADS 1024
/* Threads the CPU backend uses for the calls made from the calling thread
 * (0, the default: OMP_NUM_THREADS where it is set, else one per core); as
 * OpenMP's own setting, it holds per calling thread.  A live pipeline with
 * several models can give each a share of the cores.  -1 with a reason for n below 0 or above
 * DECENT_MAX_THREADS. */
int decent_set_threads(int n, DecentError *err);
/* What decent_set_threads gave this thread (one per core if never set). */
int decent_get_threads(void);

/* Name of a device, and whether it can be used on this machine. */
const char *decent_device_name(DecentDevice device);
int decent_device_available(DecentDevice device);

/* What a device is here ("NVIDIA H200 (compute 9.0, ...)") or why it cannot
 * be used, for logs.  For AUTO: which device it picks, and why. */
const char *decent_device_describe(DecentDevice device);

/* Area under the ROC curve of scores where labels[i] != 0 marks an anomaly
 * (the positive class); ties count one half.  Returns -1 when either class
 * is empty or a score is NaN (infinities rank as the largest and
 * smallest). */
double decent_auroc(const float *scores, const uint8_t *labels, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* DECENT_H */
