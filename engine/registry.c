/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* registry.c — which backends this build has, which one a device setting
 * picks, and how devices are described.  The only engine file outside
 * engine/cpu/ and engine/cuda/ that names a backend.  The CPU backend is
 * linked in; the CUDA one is a module loaded on first use, so that a build
 * made with the CUDA toolkit runs where its libraries are missing. */
#define _GNU_SOURCE /* dladdr */
#include "registry.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_once_t cuda_once = PTHREAD_ONCE_INIT;
static const DecentCudaModule *cuda;   /* NULL: no module; cuda_why says why */
static char cuda_why[768], cuda_auto_why[800];

/* Tries one path; 0 with cuda set, or -1 with the reason in cuda_why. */
static int
try_module (const char *path)
{
  void *h = dlopen (path, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char *e = dlerror ();
    snprintf (cuda_why, sizeof cuda_why, "the CUDA module could not be loaded (%s)",
        e ? e : path);
    return -1;
  }
  const DecentCudaModule *(*entry) (void) =
      (const DecentCudaModule * (*) (void)) dlsym (h, "decent_cuda_module");
  if (!entry) {
    const char *e = dlerror ();
    snprintf (cuda_why, sizeof cuda_why, "%s is not a CUDA module (%s)", path,
        e ? e : "no decent_cuda_module");
    dlclose (h);
    return -1;
  }
  const DecentCudaModule *m = entry ();
  if (!m || m->abi != DECENT_CUDA_MODULE_ABI || m->ops_size != sizeof (DecentBackendOps)
      || m->arch_size != sizeof (DecentArch) || m->error_size != sizeof (DecentError)
      || m->config_size != sizeof (DecentConfig)) {
    snprintf (cuda_why, sizeof cuda_why, "%s is a CUDA module of another build (ABI %d, "
        "want %d); rebuild or reinstall it", path, m ? m->abi : -1, DECENT_CUDA_MODULE_ABI);
    dlclose (h);
    return -1;
  }
  cuda = m; /* kept loaded for the life of the process */
  return 0;
}

static void
load_cuda (void)
{
#ifdef DECENT_CUDA_MODULE
  /* DECENT_CUDA_MODULE in the environment (relocated installs); else the
   * build tree's module for code that runs from the build tree (tests, an
   * uninstalled plugin), the installed one for installed code, and never
   * the other: an installed plugin must not load whatever lies at the
   * packager's build path */
  const char *env = getenv ("DECENT_CUDA_MODULE");
  Dl_info self;
  char *where = dladdr ((void *) load_cuda, &self) && self.dli_fname
      ? realpath (self.dli_fname, NULL) : NULL; /* a program's is argv[0], maybe relative */
  const int in_build = where
      && strncmp (where, DECENT_BUILD_ROOT "/", strlen (DECENT_BUILD_ROOT) + 1) == 0;
  free (where);
  const char *module = in_build ? DECENT_CUDA_MODULE_BUILT : DECENT_CUDA_MODULE;
  if (env && *env)
    try_module (env);
  else if (access (module, F_OK) == 0)
    try_module (module);
  else
    snprintf (cuda_why, sizeof cuda_why, "the CUDA module is missing (%s)", module);
#else
  snprintf (cuda_why, sizeof cuda_why, "this build has no CUDA backend "
      "(configure with -Dcuda=enabled)");
#endif
  snprintf (cuda_auto_why, sizeof cuda_auto_why, "CPU (oneDNN); %s", cuda_why);
}

static const DecentCudaModule *
cuda_module (void)
{
  pthread_once (&cuda_once, load_cuda);
  return cuda;
}

const char *
decent_device_name (DecentDevice device)
{
  switch (device) {
    case DECENT_DEVICE_AUTO: return "auto";
    case DECENT_DEVICE_CPU: return "cpu";
    case DECENT_DEVICE_CUDA: return "cuda";
  }
  return "unknown";
}

int
decent_device_available (DecentDevice device)
{
  switch (device) {
    case DECENT_DEVICE_AUTO:
    case DECENT_DEVICE_CPU:
      return 1;
    case DECENT_DEVICE_CUDA: {
      const DecentCudaModule *m = cuda_module ();
      return m && m->usable ();
    }
  }
  return 0;
}

const char *
decent_device_describe (DecentDevice device)
{
  switch (device) {
    case DECENT_DEVICE_CPU:
      return "CPU (oneDNN)";
    case DECENT_DEVICE_CUDA:
    case DECENT_DEVICE_AUTO: {
      const DecentCudaModule *m = cuda_module ();
      if (!m)
        return device == DECENT_DEVICE_AUTO ? cuda_auto_why : cuda_why;
      return device == DECENT_DEVICE_AUTO ? m->describe_auto () : m->describe ();
    }
  }
  return "unknown device";
}

const DecentBackendOps *
decent_registry_pick (DecentDevice device, DecentError *err)
{
  const DecentCudaModule *m = device != DECENT_DEVICE_CPU ? cuda_module () : NULL;
  if (m && m->usable ())
    return m->ops;
  if (device == DECENT_DEVICE_CUDA) {
    decent_fail (err, "device cuda was asked for, but it cannot be used: %s",
        m ? m->describe () : cuda_why);
    return NULL;
  }
  return &decent_backend_cpu;
}
