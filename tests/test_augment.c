/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* decent_augment_zoom: zoom 1 copies, a zoom enlarges what is in the frame,
 * the same state gives the same frames, bad arguments are refused. */
#include "decent.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#define W 40
#define H 30

/* the longest run of dark pixels in row y */
static int
dark_run (const uint8_t *f, int y)
{
  int best = 0, n = 0;
  for (int x = 0; x < W; x++) {
    n = f[(y * W + x) * 3] < 128 ? n + 1 : 0;
    best = n > best ? n : best;
  }
  return best;
}

int
main (void)
{
  DecentError err = { { 0 } };
  static uint8_t src[4 * W * H * 3], dst[4 * W * H * 3], again[4 * W * H * 3];
  /* vertical stripes, 2 pixels dark and 2 light, over the whole frame */
  for (size_t p = 0; p < 4 * W * H; p++)
    memset (src + p * 3, (p % W) % 4 < 2 ? 20 : 220, 3);

  uint64_t state = 5;
  REQUIRE (decent_augment_zoom (src, dst, 4, W, H, 3, 1.0f, &state, &err) == 0, "%s",
      err.message);
  CHECK (memcmp (src, dst, sizeof src) == 0, "zoom 1 copies the frames");

  /* zooms of up to 8: every frame's stripes widen with its zoom */
  state = 9;
  REQUIRE (decent_augment_zoom (src, dst, 4, W, H, 3, 8.0f, &state, &err) == 0, "%s",
      err.message);
  int wider = 0;
  for (int i = 0; i < 4; i++)
    wider += dark_run (dst + (size_t) i * W * H * 3, H / 2) > 2;
  CHECK (wider >= 3, "stripes 2 pixels wide are wider in %d of 4 zoomed frames", wider);
  CHECK (memcmp (src, dst, sizeof src) != 0, "zoomed frames differ from the originals");

  state = 9;
  REQUIRE (decent_augment_zoom (src, again, 4, W, H, 3, 8.0f, &state, &err) == 0, "%s",
      err.message);
  CHECK (memcmp (dst, again, sizeof dst) == 0, "the same state gives the same frames");

  CHECK (decent_augment_zoom (src, src, 4, W, H, 3, 2.0f, &state, &err) < 0, "in place refused");
  CHECK (decent_augment_zoom (src, dst, 4, W, H, 3, 0.5f, &state, &err) < 0
             && strstr (err.message, "zoom"), "zoom below 1 refused: %s", err.message);
  CHECK (decent_augment_zoom (src, dst, 4, W, H, 2, 2.0f, &state, &err) < 0,
      "2 channels refused");
  CHECK (decent_augment_zoom (src, dst, 4, W, H, 3, 2.0f, NULL, &err) < 0, "no state refused");
  return tu_finish ("augment");
}
