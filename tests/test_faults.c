/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fault injection: a full or read-only model folder, a single frame, frames
 * of another channel count than the model, a non-finite loss, many state
 * changes, and a run stopped during training that resumes from its
 * checkpoint.  Every failure must be a clear error, the previous model file
 * must stay byte-identical, and a finished training run is never lost. */
#include <math.h>
#include <glib/gstdio.h>
#include <sys/mount.h>
#include <unistd.h>

#include "decent/decentmeta.h"
#include "plugin_util.h"

/* temp_dir_teardown, after unmounting the tmpfs a test may have put at dir */
static void
teardown (void)
{
  umount2 (dir, MNT_DETACH); /* harmless when nothing is mounted */
  temp_dir_teardown ();
}

static gchar *
train_desc (const gchar *location, guint frames, const gchar *extra)
{
  return g_strdup_printf ("videotestsrc num-buffers=%u ! video/x-raw,width=32,height=32 ! "
      "decent-train min-steps=0 model-location=\"%s\" width=16 height=16 channels=1 epochs=2 "
      "companion=false latent-side=6 %s", frames,
      location, extra ? extra : "");
}

/* pipeline_error, and whether training had started (progress START) before
 * the error: unwritable locations must be found before frames are collected */
static gchar *
pipeline_error_started (const gchar *desc, gboolean *started)
{
  GstElement *pipe = gst_parse_launch (desc, NULL);
  fail_unless (pipe != NULL, "%s", desc);
  GstBus *bus = gst_element_get_bus (pipe);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  gchar *text = NULL;
  *started = FALSE;
  for (;;) {
    GstMessage *msg = gst_bus_timed_pop (bus, 120 * GST_SECOND);
    fail_unless (msg != NULL, "timed out: %s", desc);
    GstMessageType type = GST_MESSAGE_TYPE (msg);
    if (type == GST_MESSAGE_PROGRESS) {
      GstProgressType ptype;
      gst_message_parse_progress (msg, &ptype, NULL, NULL);
      *started |= ptype == GST_PROGRESS_TYPE_START;
    } else if (type == GST_MESSAGE_ERROR) {
      text = message_text (msg);
    }
    gst_message_unref (msg);
    if (type == GST_MESSAGE_ERROR || type == GST_MESSAGE_EOS)
      break;
  }
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipe);
  return text;
}

static gboolean
mount_small_tmpfs (void)
{
  if (mount ("tmpfs", dir, "tmpfs", 0, "size=256k") != 0) {
    GST_WARNING ("cannot mount a tmpfs here (%s): skipping", g_strerror (errno));
    return FALSE;
  }
  return TRUE;
}

static gchar *run_counting_epochs (const gchar *desc, guint *own, guint *companion,
    gchar **warnings);

GST_START_TEST (test_full_disk)
{
  if (!mount_small_tmpfs ())
    return;
  gchar *model = marker ("model.dcnt");
  /* a 16x16 model with the paper's channels (1.6 MB) cannot fit in 256 KiB
   * (an empty probe file at start does): the checkpoint fails (a warning:
   * training goes on, all its epochs), then the model itself, which is
   * kept in the temporary folder; without checkpoints, the model alone */
  const gchar *variants[] = { "base-channels=64 max-channels=512 latent-side=0 epochs=3",
    "base-channels=64 max-channels=512 latent-side=0 epochs=3 checkpoint=false" };
  for (int i = 0; i < 2; i++) {
    gchar *desc = train_desc (model, 20, variants[i]);
    guint own = 0, companion = 0;
    gchar *warnings = NULL;
    gchar *err = run_counting_epochs (desc, &own, &companion, &warnings);
    fail_unless (err && strstr (err, "Could not write the model file")
        && strstr (err, "No space left"), "%s", err);
    fail_unless_equals_int (count_substrings (err, "unchanged"), 1);
    fail_unless_equals_int (own, 3);
    fail_unless_equals_int (count_substrings (warnings, "Could not write the training "
        "checkpoint; training goes on without checkpoints"), i == 0);
    if (i == 0)
      fail_unless (strstr (warnings, "No space left") && strstr (warnings, "after epoch 1"),
          "%s", warnings);
    assert_marker (model);
    /* the finished run was kept in the temporary folder */
    gchar *kept = rescued_path (err);
    fail_unless (kept != NULL, "the trained model was not kept: %s", err);
    DecentInfo info;
    decent_model_free (load_model (kept, &info, NULL));
    fail_unless_equals_int (info.epochs, 3);
    fail_unless (g_unlink (kept) == 0);
    g_free (kept);
    g_free (warnings);
    g_free (err);
    g_free (desc);
  }
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *name;
  while ((name = g_dir_read_name (d)))
    fail_unless (g_str_equal (name, "model.dcnt"), "%s was left behind", name);
  g_dir_close (d);
  g_free (model);
}
GST_END_TEST;

/* A full disk where the run's own checkpoint takes the room the model
 * needs: the checkpoint (older than the model, of no use once it is
 * written) goes, said, and the model is written (helper-78: the finished
 * run was lost).  A 16x16 model of 24 to 96 channels takes 236 KiB: the
 * checkpoint after epoch 1 fits the 256 KiB, the model beside it does not,
 * in its place it does. */
GST_START_TEST (test_full_disk_checkpoint_makes_room)
{
  if (!mount_small_tmpfs ())
    return;
  gchar *model = marker ("model.dcnt");
  gchar *desc = train_desc (model, 20, "base-channels=24 max-channels=96 epochs=2");
  guint own = 0, companion = 0;
  gchar *warnings = NULL;
  gchar *err = run_counting_epochs (desc, &own, &companion, &warnings);
  fail_unless (err == NULL, "%s", err);
  fail_unless_equals_int (own, 2);
  fail_unless (strstr (warnings, "The disk is full: the run's checkpoint was deleted to make "
      "room for the model") && strstr (warnings, "No space left"), "%s", warnings);
  DecentInfo info;
  decent_model_free (load_model (model, &info, NULL));
  fail_unless_equals_int (info.epochs, 2);
  gchar *checkpoint = g_strconcat (model, ".checkpoint", NULL);
  fail_if (g_file_test (checkpoint, G_FILE_TEST_EXISTS), "the checkpoint was left");
  g_free (checkpoint);
  g_free (warnings);
  g_free (desc);
  g_free (model);
}
GST_END_TEST;

/* A symbolic link under the checkpoint's name (to another model) is
 * replaced, not written through: the other model stays as it was
 * (helper-78: it was overwritten by the checkpoint, and the link then
 * deleted). */
GST_START_TEST (test_checkpoint_link_not_written_through)
{
  gchar *other = g_build_filename (dir, "other.dcnt", NULL);
  gchar *desc = train_desc (other, 20, "epochs=1");
  guint own = 0, companion = 0;
  gchar *err = run_counting_epochs (desc, &own, &companion, NULL);
  fail_unless (err == NULL, "%s", err);
  g_free (desc);
  gchar *before = NULL, *after = NULL;
  gsize before_len = 0, after_len = 0;
  fail_unless (g_file_get_contents (other, &before, &before_len, NULL));
  gchar *model = g_build_filename (dir, "m.dcnt", NULL);
  gchar *checkpoint = g_strconcat (model, ".checkpoint", NULL);
  fail_unless (symlink (other, checkpoint) == 0);
  desc = train_desc (model, 20, "epochs=3");
  gchar *warnings = NULL;
  err = run_counting_epochs (desc, &own, &companion, &warnings);
  fail_unless (err == NULL, "%s", err);
  fail_unless (strstr (warnings, "checkpoint exists"), "%s", warnings);
  fail_unless (g_file_get_contents (other, &after, &after_len, NULL));
  fail_unless (after_len == before_len && memcmp (before, after, before_len) == 0,
      "the model the link pointed to was written over");
  struct stat st;
  fail_unless (lstat (checkpoint, &st) != 0, "the checkpoint was left");
  DecentInfo info;
  decent_model_free (load_model (model, &info, NULL));
  fail_unless_equals_int (info.epochs, 3);
  g_free (warnings);
  g_free (before);
  g_free (after);
  g_free (desc);
  g_free (checkpoint);
  g_free (model);
  g_free (other);
}
GST_END_TEST;

/* epochs=0 without held-out frames is refused at start with resume=true
 * too, where it trains (helper-78: only after the whole collection). */
GST_START_TEST (test_untimed_resume_refused_at_start)
{
  gchar *model = g_build_filename (dir, "m.dcnt", NULL);
  gchar *desc = train_desc (model, 20, "epochs=0 holdout=0 resume=true");
  gboolean started;
  gchar *err = pipeline_error_started (desc, &started);
  fail_unless (err && strstr (err, "without held-out frames"), "%s", err);
  fail_if (started, "frames were collected before the error: %s", err);
  g_free (err);
  g_free (desc);
  g_free (model);
}
GST_END_TEST;

GST_START_TEST (test_read_only_folder)
{
  if (!mount_small_tmpfs ())
    return;
  gchar *model = marker ("model.dcnt");
  fail_unless (mount ("tmpfs", dir, "tmpfs", MS_REMOUNT | MS_RDONLY, "size=256k") == 0,
      "remount read-only: %s", g_strerror (errno));
  gchar *desc = train_desc (model, 20, "checkpoint=false");
  gboolean started;
  gchar *err = pipeline_error_started (desc, &started);
  fail_unless (err && strstr (err, model) && strstr (err, "Read-only file system"), "%s", err);
  fail_if (started, "frames were collected and trained before the error: %s", err);
  assert_marker (model);
  g_free (err);
  g_free (desc);
  g_free (model);
}
GST_END_TEST;

/* calibrate-only writes no checkpoint: a model reached through a link in a
 * read-only folder, its target's folder writable, is calibrated (it was
 * refused: the checkpoint's probe could not be made beside the link) */
GST_START_TEST (test_calibrate_through_read_only_link)
{
  if (!mount_small_tmpfs ())
    return;
  gchar *elsewhere = g_dir_make_tmp ("decent-target-XXXXXX", NULL);
  gchar *target = g_build_filename (elsewhere, "target.dcnt", NULL);
  gchar *desc = train_desc (target, 20, NULL);
  gchar *err = pipeline_error (desc);
  fail_unless (err == NULL, "%s", err);
  g_free (desc);
  gchar *link = g_build_filename (dir, "link.dcnt", NULL);
  fail_unless (symlink (target, link) == 0, "%s", g_strerror (errno));
  fail_unless (mount ("tmpfs", dir, "tmpfs", MS_REMOUNT | MS_RDONLY, "size=256k") == 0,
      "remount read-only: %s", g_strerror (errno));
  desc = g_strdup_printf ("videotestsrc num-buffers=30 pattern=snow ! "
      "video/x-raw,width=32,height=32 ! decent-train model-location=\"%s\" "
      "calibrate-only=true", link);
  err = pipeline_error (desc);
  fail_unless (err == NULL, "%s", err);
  g_free (desc);
  g_unlink (target);
  g_rmdir (elsewhere);
  g_free (link);
  g_free (target);
  g_free (elsewhere);
}
GST_END_TEST;

/* A folder where the checkpoint goes is refused at start (it was taken
 * for an interrupted run's checkpoint, and every epoch failed to write). */
GST_START_TEST (test_checkpoint_folder_refused)
{
  gchar *model = marker ("model.dcnt");
  gchar *folder = g_strconcat (model, ".checkpoint", NULL);
  fail_unless (g_mkdir (folder, 0755) == 0);
  gchar *desc = train_desc (model, 20, NULL);
  gboolean started;
  gchar *err = pipeline_error_started (desc, &started);
  fail_unless (err && strstr (err, "is not a regular file") && strstr (err, "checkpoint"),
      "%s", err);
  fail_if (started, "frames were trained before the error");
  assert_marker (model);
  g_rmdir (folder);
  g_free (err);
  g_free (desc);
  g_free (folder);
  g_free (model);
}
GST_END_TEST;

GST_START_TEST (test_one_frame)
{
  gchar *model = marker ("model.dcnt");
  gchar *desc = train_desc (model, 1, NULL);
  gchar *err = pipeline_error (desc);
  fail_unless (err && strstr (err, "Too few frames")
      && strstr (err, "the stream was that short"), "%s", err);
  assert_marker (model);
  g_free (err);
  g_free (desc);
  g_free (model);
}
GST_END_TEST;

GST_START_TEST (test_nan_loss)
{
  gchar *model = marker ("model.dcnt");
  g_setenv ("DECENT_FAULT_NAN_STEP", "1", TRUE);
  gchar *desc = train_desc (model, 20, NULL);
  gchar *err = pipeline_error (desc);
  g_unsetenv ("DECENT_FAULT_NAN_STEP");
  fail_unless (err && strstr (err, "Training failed") && strstr (err, "not finite"), "%s", err);
  assert_marker (model);
  g_free (err);
  g_free (desc);
  g_free (model);
}
GST_END_TEST;

GST_START_TEST (test_other_channel_counts)
{
  /* grey frames into a colour model and colour frames into a grey one */
  const gchar *cases[][2] = { { "3", "GRAY8" }, { "1", "RGB" } };
  for (int i = 0; i < 2; i++) {
    gchar *model = g_build_filename (dir, "m.dcnt", NULL);
    gchar *desc = g_strdup_printf ("videotestsrc num-buffers=20 ! video/x-raw,format=%s,"
        "width=32,height=32 ! decent-train min-steps=0 model-location=\"%s\" width=16 height=16 "
        "channels=%s epochs=1", cases[i][1], model, cases[i][0]);
    gchar *err = pipeline_error (desc);
    fail_unless (err == NULL, "%s", err);
    g_free (desc);
    const gchar *other = i == 0 ? "RGB" : "GRAY8";
    desc = g_strdup_printf ("videotestsrc num-buffers=5 ! video/x-raw,format=%s,width=40,"
        "height=30 ! decentanomaly model-location=\"%s\" ! fakesink", other, model);
    err = pipeline_error (desc);
    fail_unless (err == NULL, "%s", err);
    g_free (desc);
    g_free (model);
  }
}
GST_END_TEST;

GST_START_TEST (test_state_cycles)
{
  TestModel cycled = { g_strdup (dir), NULL, 0, 0, 0 };
  test_model_make (&cycled, "cycle.dcnt", 1.0f);
  gchar *desc = g_strdup_printf ("videotestsrc is-live=true ! video/x-raw,width=64,height=48,"
      "framerate=100/1 ! decentanomaly model-location=\"%s\" mode=overlay ! fakesink", cycled.path);
  GstElement *pipe = gst_parse_launch (desc, NULL);
  g_free (desc);
  for (int i = 0; i < 20; i++) {
    fail_unless (gst_element_set_state (pipe, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
    fail_unless (gst_element_get_state (pipe, NULL, NULL, 10 * GST_SECOND)
        == GST_STATE_CHANGE_SUCCESS);
    g_usleep (20000);
    fail_unless (gst_element_set_state (pipe, GST_STATE_NULL) == GST_STATE_CHANGE_SUCCESS);
  }
  GstBus *bus = gst_element_get_bus (pipe);
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg == NULL, "an error during state cycles");
  gst_object_unref (bus);
  gst_object_unref (pipe);

  /* decent-train stopped while collecting */
  gchar *model = g_build_filename (dir, "never.dcnt", NULL);
  desc = g_strdup_printf ("videotestsrc is-live=true ! video/x-raw,width=32,height=32,"
      "framerate=100/1 ! decent-train min-steps=0 model-location=\"%s\" width=16 height=16 channels=1",
      model);
  pipe = gst_parse_launch (desc, NULL);
  for (int i = 0; i < 10; i++) {
    gst_element_set_state (pipe, GST_STATE_PLAYING);
    g_usleep (30000);
    fail_unless (gst_element_set_state (pipe, GST_STATE_NULL) == GST_STATE_CHANGE_SUCCESS);
  }
  fail_if (g_file_test (model, G_FILE_TEST_EXISTS), "a model was written without EOS");
  gst_object_unref (pipe);
  g_free (desc);
  g_free (model);
  g_free (cycled.dir);
  g_free (cycled.path);
}
GST_END_TEST;

/* Plays until decent-train reports epoch `stop_after` (then stops it), or to
 * the end; returns the first_epoch and last_epoch epoch reported. */
static gboolean
train_until (const gchar *desc, guint stop_after, guint *first_epoch, guint *last_epoch)
{
  GstElement *pipe = gst_parse_launch (desc, NULL);
  GstBus *bus = gst_element_get_bus (pipe);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  gboolean finished = FALSE;
  *first_epoch = *last_epoch = 0;
  for (;;) {
    GstMessage *msg = gst_bus_timed_pop (bus, 120 * GST_SECOND);
    fail_unless (msg != NULL);
    GstMessageType type = GST_MESSAGE_TYPE (msg);
    const GstStructure *s = gst_message_get_structure (msg);
    guint epoch = 0;
    if (type == GST_MESSAGE_ELEMENT && gst_structure_has_name (s, "decent-train")
        && gst_structure_get_uint (s, "epoch", &epoch)) {
      if (!*first_epoch)
        *first_epoch = epoch;
      *last_epoch = epoch;
    }
    fail_if (type == GST_MESSAGE_ERROR, "error while training");
    finished = type == GST_MESSAGE_EOS;
    gst_message_unref (msg);
    if (finished || (stop_after && epoch >= stop_after))
      break;
  }
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipe);
  return finished;
}

/* Runs desc (a decent-train pair) and sets it to READY at the companion's
 * first epoch; returns the model's last epoch reported and the warnings,
 * one per line (caller frees).  No error may come. */
static gchar *
stop_at_companion (const gchar *desc, guint *model_epochs)
{
  GstElement *pipe = gst_parse_launch (desc, NULL);
  GstBus *bus = gst_element_get_bus (pipe);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  *model_epochs = 0;
  gboolean stopped = FALSE;
  while (!stopped) {
    GstMessage *msg = gst_bus_timed_pop (bus, 120 * GST_SECOND);
    fail_unless (msg != NULL, "timed out");
    fail_if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR || GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS,
        "the run ended before the companion trained");
    const GstStructure *st = gst_message_get_structure (msg);
    guint epoch;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT && gst_structure_has_name (st, "decent-train")
        && gst_structure_get_uint (st, "epoch", &epoch)) {
      if (g_strcmp0 (gst_structure_get_string (st, "model"), "companion") == 0) {
        /* the companion's first epoch: stop; the state change waits for the end */
        gst_element_set_state (pipe, GST_STATE_READY);
        stopped = TRUE;
      } else {
        *model_epochs = epoch;
      }
    }
    gst_message_unref (msg);
  }
  GString *warnings = g_string_new (NULL);
  GstMessage *msg;
  while ((msg = gst_bus_pop (bus))) {
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING) {
      gchar *text = message_text (msg);
      g_string_append_printf (warnings, "%s\n", text);
      g_free (text);
    }
    fail_if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR, "an error after the stop");
    gst_message_unref (msg);
  }
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipe);
  return g_string_free (warnings, FALSE);
}

/* Runs desc to its end, counting the epochs reported by the model and by
 * its companion, the warnings in *warnings (one per line; caller frees;
 * may be NULL); the error's text (caller frees) or NULL. */
/* the frames and held-out frames of run_counting_epochs's last "written"
 * message (G_MAXUINT: none) */
static guint written_frames, written_held_out;

/* A file that run_counting_epochs's next run moves away (to itself with
 * ".moved") once decent-train has started collecting (its checks at start
 * are done); NULL: none. */
static const gchar *move_after_start;

static GstBusSyncReply
move_when_collecting (GstBus *bus, GstMessage *msg, gpointer data)
{
  GstState new_state;
  if (move_after_start && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_STATE_CHANGED
      && g_str_has_prefix (GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), "decenttrain")) {
    gst_message_parse_state_changed (msg, NULL, &new_state, NULL);
    if (new_state == GST_STATE_PAUSED) { /* (a streaming thread: no check here) */
      gchar *to = g_strconcat (move_after_start, ".moved", NULL);
      if (g_rename (move_after_start, to) == 0)
        move_after_start = NULL; /* the test checks that it was moved */
      g_free (to);
    }
  }
  return GST_BUS_PASS;
}

static gchar *
run_counting_epochs (const gchar *desc, guint *own, guint *companion, gchar **warnings)
{
  written_frames = written_held_out = G_MAXUINT;
  GstElement *pipe = gst_parse_launch (desc, NULL);
  GstBus *bus = gst_element_get_bus (pipe);
  if (move_after_start)
    gst_bus_set_sync_handler (bus, move_when_collecting, NULL, NULL);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  gchar *error = NULL;
  GString *warned = g_string_new (NULL);
  for (;;) {
    GstMessage *msg = gst_bus_timed_pop (bus, 120 * GST_SECOND);
    fail_unless (msg != NULL, "timed out");
    const GstMessageType type = GST_MESSAGE_TYPE (msg);
    const GstStructure *st = gst_message_get_structure (msg);
    guint epoch;
    if (type == GST_MESSAGE_ELEMENT && gst_structure_has_name (st, "decent-train")
        && gst_structure_get_uint (st, "epoch", &epoch))
      (*(g_strcmp0 (gst_structure_get_string (st, "model"), "companion") == 0
          ? companion : own))++;
    if (type == GST_MESSAGE_ELEMENT && gst_structure_has_name (st, "decent-train")
        && g_strcmp0 (gst_structure_get_string (st, "status"), "written") == 0)
      fail_unless (gst_structure_get (st, "frames", G_TYPE_UINT, &written_frames, "held-out",
          G_TYPE_UINT, &written_held_out, NULL));
    if (type == GST_MESSAGE_ERROR)
      error = message_text (msg);
    if (type == GST_MESSAGE_WARNING) {
      gchar *text = message_text (msg);
      g_string_append_printf (warned, "%s\n", text);
      g_free (text);
    }
    gst_message_unref (msg);
    if (type == GST_MESSAGE_ERROR || type == GST_MESSAGE_EOS)
      break;
  }
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipe);
  gchar *all = g_string_free (warned, FALSE);
  if (warnings)
    *warnings = all;
  else
    g_free (all);
  return error;
}

/* Stopped while the companion trains (decent-train's default pair), as
 * stopped while the model trains: nothing is written (an existing file
 * stays as it was), and the finished model, calibrated, waits in
 * <model>.finished (the epochs' checkpoint gone); resume=true then trains
 * the companion only and writes both.  resume=false says it discards the
 * waiting model, and does once it writes its own.  With checkpoint=false
 * the finished model is written alone, with a warning, all its epochs in
 * it, no companion and nothing left beside it. */
/* A flushing seek while the companion trains parks the finished model as a
 * stop does; the new collection then says what a start says of it: with
 * resume=false, that this run trains anew and discards it (helper-66: it
 * was deleted without a word). */
GST_START_TEST (test_flush_during_companion_said)
{
  gchar *model = g_build_filename (dir, "pair-flushed.dcnt", NULL);
  gchar *desc = g_strdup_printf ("videotestsrc pattern=ball ! "
      "video/x-raw,width=32,height=32,framerate=10/1 ! decent-train min-steps=0 "
      "model-location=\"%s\" width=16 height=16 channels=1 epochs=30 batch-size=8 "
      "latent-side=6 still-lag=3 companion=true companion-width=16 companion-height=16", model);
  GstElement *pipe = gst_parse_launch (desc, NULL);
  fail_unless (pipe != NULL);
  GstBus *bus = gst_element_get_bus (pipe);
  /* 40 frames: 4 s of the endless source */
  gst_element_set_state (pipe, GST_STATE_PAUSED);
  fail_unless (gst_element_get_state (pipe, NULL, NULL, 10 * GST_SECOND)
      == GST_STATE_CHANGE_SUCCESS);
  const GstSeekFlags flush = GST_SEEK_FLAG_FLUSH;
  fail_unless (gst_element_seek (pipe, 1.0, GST_FORMAT_TIME, flush, GST_SEEK_TYPE_SET, 0,
          GST_SEEK_TYPE_SET, 4 * GST_SECOND));
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  gboolean flushed = FALSE, written = FALSE;
  GString *warnings = g_string_new (NULL);
  for (;;) {
    GstMessage *msg = gst_bus_timed_pop (bus, 120 * GST_SECOND);
    fail_unless (msg != NULL, "timed out");
    const GstMessageType type = GST_MESSAGE_TYPE (msg);
    fail_if (type == GST_MESSAGE_ERROR, "an error");
    const GstStructure *st = gst_message_get_structure (msg);
    guint epoch;
    if (type == GST_MESSAGE_WARNING) {
      gchar *text = message_text (msg);
      g_string_append_printf (warnings, "%s\n", text);
      g_free (text);
    } else if (type == GST_MESSAGE_ELEMENT && gst_structure_has_name (st, "decent-train")) {
      const gchar *status = gst_structure_get_string (st, "status");
      written |= status && g_str_equal (status, "written");
      if (!flushed && gst_structure_get_uint (st, "epoch", &epoch)
          && g_strcmp0 (gst_structure_get_string (st, "model"), "companion") == 0) {
        /* returns once the training has stopped and the collection begun again */
        fail_unless (gst_element_seek (pipe, 1.0, GST_FORMAT_TIME, flush, GST_SEEK_TYPE_SET, 0,
                GST_SEEK_TYPE_SET, 4 * GST_SECOND));
        flushed = TRUE;
      }
    }
    const gboolean eos = type == GST_MESSAGE_EOS;
    gst_message_unref (msg);
    if (eos)
      break;
  }
  gst_element_set_state (pipe, GST_STATE_NULL);
  fail_unless (flushed && written, "flushed %d, written %d", flushed, written);
  fail_unless (strstr (warnings->str, "resume=true trains the companion only")
      && strstr (warnings->str, "A finished model from a stopped run is waiting; this run "
          "trains anew and discards it"), "%s", warnings->str);
  DecentError err;
  DecentModel *m = decent_model_load (model, DECENT_DEVICE_CPU, &err);
  fail_unless (m != NULL && decent_model_has_companion (m) == 1, "%s", err.message);
  decent_model_free (m);
  gchar *finished = g_strconcat (model, ".finished", NULL);
  fail_if (g_file_test (finished, G_FILE_TEST_EXISTS), "the discarded model was left");
  g_free (finished);
  g_string_free (warnings, TRUE);
  gst_object_unref (bus);
  gst_object_unref (pipe);
  g_free (desc);
  g_free (model);
}
GST_END_TEST;

/* A stop while the trained model is calibrated (after its last epoch)
 * writes nothing, as a stop while it trains: the finished model waits in
 * <model>.finished and resume=true writes it as it is (helper-78: with
 * companion=false the existing file was replaced, unsaid, since
 * gst-launch prints nothing while it stops).  The warning calibration
 * posts about few held-out frames holds the streaming thread while
 * another thread sets the pipeline to READY. */
static GstElement *stopping_pipe;

static gpointer
stop_pipeline (gpointer data)
{
  gst_element_set_state (stopping_pipe, GST_STATE_READY);
  return NULL;
}

static GstBusSyncReply
stop_at_calibration (GstBus *bus, GstMessage *msg, gpointer data)
{
  GThread **stopper = data;
  if (!g_atomic_pointer_get (stopper) && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING) {
    gchar *text = message_text (msg);
    if (strstr (text, "Calibrated on few frames")) {
      g_atomic_pointer_set (stopper, g_thread_new ("stopper", stop_pipeline, NULL));
      g_usleep (G_USEC_PER_SEC / 2); /* the stop is seen before the model is written */
    }
    g_free (text);
  }
  return GST_BUS_PASS;
}

GST_START_TEST (test_stop_during_calibration)
{
  gchar *model = marker ("calibrating.dcnt");
  gchar *finished = g_strconcat (model, ".finished", NULL);
  gchar *desc = train_desc (model, 40, "epochs=3 holdout=0.25");
  stopping_pipe = gst_parse_launch (desc, NULL);
  GstBus *bus = gst_element_get_bus (stopping_pipe);
  GThread *stopper = NULL;
  gst_bus_set_sync_handler (bus, stop_at_calibration, &stopper, NULL);
  gst_element_set_state (stopping_pipe, GST_STATE_PLAYING);
  const gint64 deadline = g_get_monotonic_time () + 120 * G_TIME_SPAN_SECOND;
  while (!g_atomic_pointer_get (&stopper) && g_get_monotonic_time () < deadline)
    g_usleep (10000);
  fail_unless (stopper != NULL, "no calibration warning came");
  g_thread_join (stopper);
  GString *warnings = g_string_new (NULL);
  GstMessage *msg;
  while ((msg = gst_bus_pop (bus))) {
    fail_if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR, "an error");
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING) {
      gchar *text = message_text (msg);
      g_string_append_printf (warnings, "%s\n", text);
      g_free (text);
    }
    gst_message_unref (msg);
  }
  gst_element_set_state (stopping_pipe, GST_STATE_NULL);
  gst_bus_set_sync_handler (bus, NULL, NULL, NULL);
  gst_object_unref (bus);
  gst_object_unref (stopping_pipe);
  g_free (desc);
  fail_unless (strstr (warnings->str, "Stopped while calibrating the trained model; nothing was "
      "written") && strstr (warnings->str, "resume=true writes it"), "%s", warnings->str);
  g_string_free (warnings, TRUE);
  assert_marker (model);
  DecentInfo info;
  DecentCalibration cal;
  decent_model_free (load_model (finished, &info, &cal));
  fail_unless (info.epochs == 3 && cal.threshold > 0, "%u epochs, threshold %g", info.epochs,
      cal.threshold);
  /* resumed: written as it is, nothing trained */
  desc = train_desc (model, 40, "epochs=3 holdout=0.25 resume=true");
  guint own = 0, companion = 0;
  gchar *err = run_counting_epochs (desc, &own, &companion, NULL);
  fail_unless (err == NULL, "%s", err);
  fail_unless_equals_int (own, 0);
  decent_model_free (load_model (model, &info, NULL));
  fail_unless_equals_int (info.epochs, 3);
  fail_if (g_file_test (finished, G_FILE_TEST_EXISTS), "the finished model was left");
  g_free (desc);
  g_free (finished);
  g_free (model);
}
GST_END_TEST;

/* A checkpoint that carries a companion (a model file copied there to
 * train further), resumed with companion=false: the model is written
 * without it, said (helper-78: the companion of other footage was kept,
 * and the messages said "a 0x0 companion"). */
GST_START_TEST (test_checkpoint_companion_left_out)
{
  gchar *model = g_build_filename (dir, "further.dcnt", NULL);
  gchar *checkpoint = g_strconcat (model, ".checkpoint", NULL);
  gchar *desc = train_desc (checkpoint, 20, "epochs=1 companion=true companion-width=16 "
      "companion-height=16");
  guint own = 0, companion = 0;
  gchar *err = run_counting_epochs (desc, &own, &companion, NULL);
  fail_unless (err == NULL, "%s", err);
  g_free (desc);
  DecentError e = { { 0 } };
  DecentModel *m = decent_model_load (checkpoint, DECENT_DEVICE_CPU, &e);
  fail_unless (m && decent_model_has_companion (m) == 1, "%s", e.message);
  decent_model_free (m);
  desc = train_desc (model, 20, "epochs=2 resume=true");
  gchar *warnings = NULL;
  own = companion = 0;
  err = run_counting_epochs (desc, &own, &companion, &warnings);
  fail_unless (err == NULL, "%s", err);
  fail_unless (own == 1 && companion == 0, "%u epochs, %u of a companion", own, companion);
  fail_unless (strstr (warnings, "The checkpoint carries a companion model; it is left out"),
      "%s", warnings);
  m = decent_model_load (model, DECENT_DEVICE_CPU, &e);
  fail_unless (m && decent_model_has_companion (m) == 0, "%s", e.message);
  decent_model_free (m);
  g_free (warnings);
  g_free (desc);
  g_free (checkpoint);
  g_free (model);
}
GST_END_TEST;

/* Runs pipeline (a format of model and extra properties) without extra
 * ones and stops it while the companion trains: model.finished waits. */
static void
leave_a_finished_model (const gchar *pipeline, const gchar *model)
{
  gchar *desc = g_strdup_printf (pipeline, model, "");
  guint model_epochs;
  g_free (stop_at_companion (desc, &model_epochs));
  g_free (desc);
}

GST_START_TEST (test_stop_during_companion)
{
  gchar *model = g_build_filename (dir, "pair-stopped.dcnt", NULL);
  gchar *checkpoint = g_strconcat (model, ".checkpoint", NULL);
  gchar *finished = g_strconcat (model, ".finished", NULL);
  const gchar *before = "DECENTAE an older model file";
  fail_unless (g_file_set_contents (model, before, -1, NULL));
  const gchar *pipeline = "videotestsrc num-buffers=40 pattern=ball ! video/x-raw,width=32,height=32 "
      "! decent-train min-steps=0 model-location=\"%s\" width=16 height=16 channels=1 "
      "epochs=30 batch-size=8 latent-side=6 still-lag=3 companion=true companion-width=16 "
      "companion-height=16 %s";
  gchar *desc = g_strdup_printf (pipeline, model, "");
  guint model_epochs;
  gchar *warnings = stop_at_companion (desc, &model_epochs);
  g_free (desc);
  fail_unless (model_epochs == 30, "the model reported %u epochs", model_epochs);
  fail_unless (strstr (warnings, "Stopped while training the companion model; nothing was "
      "written") && strstr (warnings, "resume=true trains the companion only"), "%s", warnings);
  g_free (warnings);
  gchar *text = NULL;
  fail_unless (g_file_get_contents (model, &text, NULL, NULL) && g_str_equal (text, before),
      "the existing file was replaced");
  g_free (text);
  DecentError err;
  fail_if (g_file_test (checkpoint, G_FILE_TEST_EXISTS), "the epochs' checkpoint was left");
  DecentModel *m = decent_model_load (finished, DECENT_DEVICE_CPU, &err);
  fail_unless (m != NULL, "the finished model was not kept: %s", err.message);
  DecentInfo info;
  DecentCalibration cal;
  decent_model_describe (m, &info);
  fail_unless (info.epochs == 30 && decent_model_has_companion (m) == 0
      && decent_model_get_mode_calibration (m, DECENT_SCORE_LOCAL, &cal) == 0
      && cal.threshold > 0, "checkpoint: %u epochs, companion %d, threshold %g", info.epochs,
      decent_model_has_companion (m), cal.threshold);
  const float threshold = cal.threshold;
  decent_model_free (m);

  /* resumed with checkpoint=false and stopped again: the model waits where
   * it was, and the file stays as it was */
  desc = g_strdup_printf (pipeline, model, "resume=true checkpoint=false");
  warnings = stop_at_companion (desc, &model_epochs);
  g_free (desc);
  fail_unless (model_epochs == 0 && strstr (warnings, "nothing was written"), "%u epochs: %s",
      model_epochs, warnings);
  g_free (warnings);
  fail_unless (g_file_get_contents (model, &text, NULL, NULL) && g_str_equal (text, before),
      "the existing file was replaced by a stop of a resumed run");
  g_free (text);
  fail_unless (g_file_test (finished, G_FILE_TEST_IS_REGULAR), "the finished model went");

  /* resumed at another framerate: the model is not trained again, the
   * companion is, its still gate paced by this run's frames */
  const gchar *tenth = "videotestsrc num-buffers=40 pattern=ball ! video/x-raw,width=32,height=32,"
      "framerate=10/1 ! decent-train min-steps=0 model-location=\"%s\" width=16 height=16 "
      "channels=1 epochs=30 batch-size=8 latent-side=6 still-lag=3 companion=true "
      "companion-width=16 companion-height=16 %s";
  desc = g_strdup_printf (tenth, model, "resume=true still-lag=4");
  guint own = 0, companion = 0;
  gchar *error = run_counting_epochs (desc, &own, &companion, &warnings);
  g_free (desc);
  fail_unless (error == NULL, "%s", error);
  /* (its gate takes the model's lag, 3, not this run's 4: said) */
  fail_unless (strstr (warnings, "The companion takes the finished model's still-gate settings")
      && strstr (warnings, "still-lag=3") && strstr (warnings, "still-lag=4"), "%s", warnings);
  g_free (warnings);
  fail_unless (own == 0 && companion > 0, "resumed: %u epochs of the model, %u of the "
      "companion", own, companion);
  /* the frames this run trained on: the companion's */
  fail_unless (written_frames == 32 && written_held_out == 8, "written: %u frames, %u held out",
      written_frames, written_held_out);
  m = decent_model_load (model, DECENT_DEVICE_CPU, &err);
  fail_unless (m != NULL, "the pair was not written: %s", err.message);
  decent_model_describe (m, &info);
  decent_model_get_mode_calibration (m, DECENT_SCORE_LOCAL, &cal);
  fail_unless (info.epochs == 30 && decent_model_has_companion (m) == 1
      && cal.threshold == threshold, "written: %u epochs, companion %d, threshold %g (was %g)",
      info.epochs, decent_model_has_companion (m), cal.threshold, threshold);
  DecentStillSettings own_gate, its_gate;
  DecentModel *c = decent_model_companion_new (m, DECENT_DEVICE_CPU, &err);
  fail_unless (c != NULL, "%s", err.message);
  fail_unless (decent_model_get_still (m, &own_gate, NULL) == 1
      && decent_model_get_still (c, &its_gate, NULL) == 1
      && fabsf (own_gate.frame_seconds - 1.0f / 30) < 1e-6f
      && fabsf (its_gate.frame_seconds - 0.1f) < 1e-6f && its_gate.lag == own_gate.lag,
      "gates: the model's %g s (lag %d), the companion's %g s (lag %d)",
      own_gate.frame_seconds, own_gate.lag, its_gate.frame_seconds, its_gate.lag);
  decent_model_free (c);
  decent_model_free (m);
  fail_if (g_file_test (checkpoint, G_FILE_TEST_EXISTS)
      || g_file_test (finished, G_FILE_TEST_EXISTS), "a checkpoint or finished model was left");

  /* stopped again; then resume=false: said, and the waiting model goes */
  desc = g_strdup_printf (pipeline, model, "");
  warnings = stop_at_companion (desc, &model_epochs);
  g_free (warnings);
  fail_unless (g_file_test (finished, G_FILE_TEST_EXISTS), "no finished model kept");
  own = companion = 0;
  error = run_counting_epochs (desc, &own, &companion, &warnings);
  g_free (desc);
  fail_unless (error == NULL, "%s", error);
  const gboolean said = strstr (warnings, "A finished model from a stopped run is waiting")
                        && strstr (warnings, "resume=true");
  g_free (warnings);
  fail_unless (said, "resume=false did not say it discards the finished model");
  fail_if (g_file_test (finished, G_FILE_TEST_EXISTS), "the discarded model was left");

  /* stopped again, then resumed with companion=false: the finished model
   * is written as it was, and the message says this run trained on no
   * frame (its threshold keeps its own count of calibration frames) */
  leave_a_finished_model (pipeline, model);
  desc = g_strdup_printf (pipeline, model, "resume=true companion=false");
  own = companion = 0;
  error = run_counting_epochs (desc, &own, &companion, NULL);
  g_free (desc);
  fail_unless (error == NULL, "%s", error);
  fail_unless (own == 0 && companion == 0 && written_frames == 0 && written_held_out == 0,
      "%u and %u epochs; written: %u frames, %u held out", own, companion, written_frames,
      written_held_out);
  m = decent_model_load (model, DECENT_DEVICE_CPU, &err);
  fail_unless (m != NULL, "%s", err.message);
  decent_model_describe (m, &info);
  decent_model_get_mode_calibration (m, DECENT_SCORE_LOCAL, &cal);
  fail_unless (info.epochs == 30 && decent_model_has_companion (m) == 0 && cal.count == 8,
      "%u epochs, companion %d, %u calibration frames", info.epochs,
      decent_model_has_companion (m), cal.count);
  decent_model_free (m);
  fail_if (g_file_test (finished, G_FILE_TEST_EXISTS), "the finished model was left");

  /* stopped again; a checkpoint beside the finished model (a later run,
   * stopped while training anew): resume=true says it takes the finished
   * model and deletes the checkpoint; resumed with companion=false on a
   * single frame, the finished model is written as it is (it needs no more
   * frames: "Too few frames" before) */
  leave_a_finished_model (pipeline, model);
  fail_unless (g_file_set_contents (checkpoint, "DECENTAE a later run's epochs", -1, NULL));
  const gchar *single = "videotestsrc num-buffers=1 pattern=ball ! video/x-raw,width=32,height=32 "
      "! decent-train min-steps=0 model-location=\"%s\" width=16 height=16 channels=1 "
      "epochs=30 batch-size=8 latent-side=6 still-lag=3 resume=true companion=false";
  desc = g_strdup_printf (single, model);
  own = companion = 0;
  error = run_counting_epochs (desc, &own, &companion, &warnings);
  g_free (desc);
  fail_unless (error == NULL, "%s", error);
  fail_unless (strstr (warnings, "A checkpoint is beside the finished model"), "%s", warnings);
  g_free (warnings);
  m = decent_model_load (model, DECENT_DEVICE_CPU, &err);
  fail_unless (m != NULL && written_frames == 0, "%s", err.message);
  decent_model_describe (m, &info);
  fail_unless (info.epochs == 30, "%u epochs", info.epochs);
  decent_model_free (m);
  fail_if (g_file_test (checkpoint, G_FILE_TEST_EXISTS)
      || g_file_test (finished, G_FILE_TEST_EXISTS), "a checkpoint or finished model was left");

  /* stopped again; the finished model found at start is gone when the
   * frames are collected (another run resumed from it): said, and this
   * run trains anew (it did so silently) */
  leave_a_finished_model (pipeline, model);
  desc = g_strdup_printf (pipeline, model, "resume=true");
  move_after_start = finished;
  own = companion = 0;
  error = run_counting_epochs (desc, &own, &companion, &warnings);
  g_free (desc);
  fail_unless (error == NULL && move_after_start == NULL, "%s", error);
  fail_unless (strstr (warnings, "The finished model to resume from is gone; training anew"),
      "%s", warnings);
  fail_unless (own == 30, "%u epochs of a new model", own);
  g_free (warnings);
  gchar *moved = g_strconcat (finished, ".moved", NULL);
  g_unlink (moved);
  g_free (moved);

  /* checkpoint=false: nowhere to keep it, so it is written alone */
  desc = g_strdup_printf (pipeline, model, "checkpoint=false");
  warnings = stop_at_companion (desc, &model_epochs);
  g_free (desc);
  fail_unless (strstr (warnings, "the model is written without it") != NULL, "%s", warnings);
  g_free (warnings);
  m = decent_model_load (model, DECENT_DEVICE_CPU, &err);
  fail_unless (m != NULL, "the finished model was not written: %s", err.message);
  decent_model_describe (m, &info);
  fail_unless (info.epochs == 30 && decent_model_has_companion (m) == 0,
      "%u epochs, companion %d", info.epochs, decent_model_has_companion (m));
  decent_model_free (m);
  fail_if (g_file_test (checkpoint, G_FILE_TEST_EXISTS)
      || g_file_test (finished, G_FILE_TEST_EXISTS), "a checkpoint or finished model was left");
  g_free (finished);
  g_free (checkpoint);
  g_free (model);
}
GST_END_TEST;

/* Stopped while training, the checkpoint holds the epoch at the stop (it
 * is written then, whenever the last one was), and resume=true goes on
 * from there.  An epoch here takes a few milliseconds: enough of them that
 * training cannot end before the stop reaches it on a loaded machine (with
 * 6, it had 4 epochs, about 10 ms, to do so). */
#define RESUME_EPOCHS 300
GST_START_TEST (test_stop_and_resume)
{
  gchar *model = g_build_filename (dir, "resume.dcnt", NULL);
  gchar *checkpoint = g_strconcat (model, ".checkpoint", NULL);
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=60 ! video/x-raw,width=32,height=32 "
      "! decent-train min-steps=0 model-location=\"%s\" width=16 height=16 channels=1 epochs=%d "
      "batch-size=8 resume=true companion=false latent-side=6", model, RESUME_EPOCHS);
  guint first_epoch, last_epoch;
  fail_if (train_until (desc, 2, &first_epoch, &last_epoch), "training ended before it was stopped");
  fail_unless (first_epoch == 1 && last_epoch >= 2);
  fail_if (g_file_test (model, G_FILE_TEST_EXISTS), "a stopped run wrote the model");
  DecentError err;
  DecentModel *m = decent_model_load (checkpoint, DECENT_DEVICE_CPU, &err);
  fail_unless (m != NULL, "no usable checkpoint: %s", err.message);
  DecentInfo info;
  decent_model_describe (m, &info);
  guint stopped_at = info.epochs;
  fail_unless (stopped_at >= 2 && stopped_at < RESUME_EPOCHS, "checkpoint after epoch %u",
      stopped_at);
  decent_model_free (m);

  /* the same pipeline again continues where it stopped */
  fail_unless (train_until (desc, 0, &first_epoch, &last_epoch));
  fail_unless_equals_int (first_epoch, stopped_at + 1);
  fail_unless_equals_int (last_epoch, RESUME_EPOCHS);
  fail_if (g_file_test (checkpoint, G_FILE_TEST_EXISTS), "checkpoint left after success");
  decent_model_free (load_model (model, &info, NULL));
  fail_unless_equals_int (info.epochs, RESUME_EPOCHS);
  g_free (desc);
  g_free (checkpoint);
  g_free (model);
}
GST_END_TEST;

static Suite *
faults_suite (void)
{
  Suite *s = suite_create ("faults");
  TCase *tc = suite_add_case (s, "general", 300, temp_dir_setup, teardown);
  tcase_add_test (tc, test_full_disk);
  tcase_add_test (tc, test_full_disk_checkpoint_makes_room);
  tcase_add_test (tc, test_checkpoint_link_not_written_through);
  tcase_add_test (tc, test_untimed_resume_refused_at_start);
  tcase_add_test (tc, test_read_only_folder);
  tcase_add_test (tc, test_calibrate_through_read_only_link);
  tcase_add_test (tc, test_checkpoint_folder_refused);
  tcase_add_test (tc, test_one_frame);
  tcase_add_test (tc, test_nan_loss);
  tcase_add_test (tc, test_other_channel_counts);
  tcase_add_test (tc, test_state_cycles);
  tcase_add_test (tc, test_stop_and_resume);
  tcase_add_test (tc, test_flush_during_companion_said);
  tcase_add_test (tc, test_stop_during_companion);
  tcase_add_test (tc, test_stop_during_calibration);
  tcase_add_test (tc, test_checkpoint_companion_left_out);
  return s;
}

GST_CHECK_MAIN (faults);
