/* good.c: a plugin module that loads: "test-good" with three options.
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <forkjoin.h>

#define TEST_TYPE_GOOD_SYNTH (test_good_synth_get_type ())
G_DECLARE_FINAL_TYPE (TestGoodSynth, test_good_synth, TEST, GOOD_SYNTH, GObject)

struct _TestGoodSynth
{
  GObject  parent_instance;
  guint    max_tokens;
  char    *label;
  gboolean verbose;
};

enum { PROP_0, PROP_MAX_TOKENS, PROP_LABEL, PROP_VERBOSE, N_PROPS };

static char *
test_good_synth_synthesize (FjSynthesizer  *synthesizer,
                            const char     *input,
                            GPtrArray      *results,
                            GCancellable   *cancellable,
                            GError        **error)
{
  TestGoodSynth *self = TEST_GOOD_SYNTH (synthesizer);

  return g_strdup_printf ("%s:%u:%d", self->label, self->max_tokens, self->verbose);
}

static void
iface_init (FjSynthesizerInterface *iface)
{
  iface->synthesize = test_good_synth_synthesize;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestGoodSynth, test_good_synth, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (FJ_TYPE_SYNTHESIZER, iface_init))

static void
test_good_synth_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  TestGoodSynth *self = TEST_GOOD_SYNTH (object);

  switch (prop_id)
    {
    case PROP_MAX_TOKENS: g_value_set_uint (value, self->max_tokens); break;
    case PROP_LABEL: g_value_set_string (value, self->label); break;
    case PROP_VERBOSE: g_value_set_boolean (value, self->verbose); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
test_good_synth_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  TestGoodSynth *self = TEST_GOOD_SYNTH (object);

  switch (prop_id)
    {
    case PROP_MAX_TOKENS: self->max_tokens = g_value_get_uint (value); break;
    case PROP_LABEL: g_free (self->label); self->label = g_value_dup_string (value); break;
    case PROP_VERBOSE: self->verbose = g_value_get_boolean (value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
test_good_synth_finalize (GObject *object)
{
  g_free (TEST_GOOD_SYNTH (object)->label);
  G_OBJECT_CLASS (test_good_synth_parent_class)->finalize (object);
}

static void
test_good_synth_class_init (TestGoodSynthClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = test_good_synth_get_property;
  object_class->set_property = test_good_synth_set_property;
  object_class->finalize = test_good_synth_finalize;

  g_object_class_install_property (object_class, PROP_MAX_TOKENS,
    g_param_spec_uint ("max-tokens", NULL, "Most tokens", 1, 100000, 1024,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (object_class, PROP_LABEL,
    g_param_spec_string ("label", NULL, "A label", "plain",
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (object_class, PROP_VERBOSE,
    g_param_spec_boolean ("verbose", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
}

static void
test_good_synth_init (TestGoodSynth *self)
{
}

FJ_PLUGIN_DEFINE (fj_plugin_registry_add (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "test-good",
                                          TEST_TYPE_GOOD_SYNTH, "A good test plugin"))
