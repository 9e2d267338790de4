/* slow-synthesizer.c: a synthesizer plugin for the CLI tests, "test-slow".
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Like a third-party synthesizer doing long local work, it takes its time in
 * its worker thread and never looks at its cancellable: a cancelled run
 * has to wait for it. test-cli-run.py uses it to hold `run` in the state
 * between the first Ctrl-C and the end of the cancel.
 */

#include <forkjoin.h>

#define TEST_TYPE_SLOW_SYNTH (test_slow_synth_get_type ())
G_DECLARE_FINAL_TYPE (TestSlowSynth, test_slow_synth, TEST, SLOW_SYNTH, GObject)

struct _TestSlowSynth
{
  GObject parent_instance;
  double  seconds;
};

enum { PROP_0, PROP_SECONDS, N_PROPS };

static GParamSpec *properties[N_PROPS];

static char *
test_slow_synth_synthesize (FjSynthesizer  *synthesizer,
                            const char     *input,
                            GPtrArray      *results,
                            GCancellable   *cancellable,
                            GError        **error)
{
  TestSlowSynth *self = TEST_SLOW_SYNTH (synthesizer);

  /* The test sends its first Ctrl-C once this is on stderr: before it, a
   * cancelled run would not start the synthesis at all. */
  g_printerr ("test-slow: synthesizing\n");
  g_usleep ((gulong) (self->seconds * G_USEC_PER_SEC));

  return g_strdup ("slowly synthesized");
}

static void
iface_init (FjSynthesizerInterface *iface)
{
  iface->synthesize = test_slow_synth_synthesize;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestSlowSynth, test_slow_synth, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (FJ_TYPE_SYNTHESIZER, iface_init))

static void
test_slow_synth_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  TestSlowSynth *self = TEST_SLOW_SYNTH (object);

  switch (prop_id)
    {
    case PROP_SECONDS:
      g_value_set_double (value, self->seconds);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
test_slow_synth_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  TestSlowSynth *self = TEST_SLOW_SYNTH (object);

  switch (prop_id)
    {
    case PROP_SECONDS:
      self->seconds = g_value_get_double (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
test_slow_synth_class_init (TestSlowSynthClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = test_slow_synth_get_property;
  object_class->set_property = test_slow_synth_set_property;

  properties[PROP_SECONDS] =
    g_param_spec_double ("seconds", NULL, "How long the synthesis takes", 0, 3600, 60,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
test_slow_synth_init (TestSlowSynth *self)
{
  self->seconds = 60;
}

FJ_PLUGIN_DEFINE (fj_plugin_registry_add (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "test-slow",
                                          TEST_TYPE_SLOW_SYNTH,
                                          "Takes its time and ignores cancellation (CLI tests)"))
