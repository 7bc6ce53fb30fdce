/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* registry.h — the backends' entry points (each defined in its folder,
 * engine/cpu/ and engine/cuda/) and the choice between them (registry.c).
 * Model code calls decent_registry_pick and nothing else from here. */
#ifndef DECENT_REGISTRY_H
#define DECENT_REGISTRY_H

#include "backend.h"

/* The backend for a device setting: CUDA for AUTO where a GPU is usable,
 * else the CPU; NULL with a reason for CUDA where it cannot be used. */
const DecentBackendOps *decent_registry_pick (DecentDevice device, DecentError *err);

/* engine/cpu/backend_cpu.c */
extern const DecentBackendOps decent_backend_cpu;

#ifdef DECENT_HAVE_CUDA
/* engine/cuda/backend_cuda.c */
extern const DecentBackendOps decent_backend_cuda;
int decent_cuda_usable (void);
/* The GPU that will be used, or why none can be. */
const char *decent_cuda_describe (void);
/* What device=auto runs on: the GPU, or the CPU and why. */
const char *decent_cuda_describe_auto (void);
#endif

#endif
