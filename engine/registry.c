/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* registry.c — which backends this build has, which one a device setting
 * picks, and how devices are described.  The only engine file outside
 * engine/cpu/ and engine/cuda/ that names a backend. */
#include "registry.h"

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
    case DECENT_DEVICE_CUDA:
#ifdef DECENT_HAVE_CUDA
      return decent_cuda_usable ();
#else
      return 0;
#endif
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
    case DECENT_DEVICE_AUTO:
#ifdef DECENT_HAVE_CUDA
      return device == DECENT_DEVICE_AUTO ? decent_cuda_describe_auto ()
                                          : decent_cuda_describe ();
#else
      return device == DECENT_DEVICE_AUTO ? "CPU (oneDNN); this build has no CUDA backend"
                                          : "this build has no CUDA backend";
#endif
  }
  return "unknown device";
}

const DecentBackendOps *
decent_registry_pick (DecentDevice device, DecentError *err)
{
#ifdef DECENT_HAVE_CUDA
  if (device != DECENT_DEVICE_CPU && decent_cuda_usable ())
    return &decent_backend_cuda;
#endif
  if (device == DECENT_DEVICE_CUDA) {
#ifdef DECENT_HAVE_CUDA
    decent_fail (err, "device cuda was asked for, but it cannot be used: %s",
        decent_cuda_describe ());
#else
    decent_fail (err, "device cuda was asked for, but this build has no CUDA backend "
                      "(configure with -Dcuda=enabled)");
#endif
    return NULL;
  }
  return &decent_backend_cpu;
}
