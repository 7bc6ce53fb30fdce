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

/* engine/cpu/backend_cpu.c, linked in */
extern const DecentBackendOps decent_backend_cpu;

/* The CUDA backend is a module of its own (libdecent-cuda.so, built from
 * engine/cuda/ and kernels/), loaded at run time, so that one build runs
 * with and without the CUDA libraries.  It exports decent_cuda_module(). */
#define DECENT_CUDA_MODULE_ABI 1
typedef struct {
  int abi;                          /* DECENT_CUDA_MODULE_ABI */
  /* what the module was built with: a module of another build of the engine
   * has other sizes, and is refused even when the number above agrees */
  size_t ops_size, arch_size, error_size, config_size;
  const DecentBackendOps *ops;
  int (*usable) (void);
  const char *(*describe) (void);      /* the GPU that will be used, or why none can be */
  const char *(*describe_auto) (void); /* what device=auto runs on, and why */
} DecentCudaModule;
const DecentCudaModule *decent_cuda_module (void);

#endif
