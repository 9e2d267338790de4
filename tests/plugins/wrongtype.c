/* wrongtype.c: registers a type that is no synthesizer as one.
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <forkjoin.h>

#define TEST_TYPE_NOT_SYNTH (test_not_synth_get_type ())
G_DECLARE_FINAL_TYPE (TestNotSynth, test_not_synth, TEST, NOT_SYNTH, GObject)

struct _TestNotSynth { GObject parent_instance; };

G_DEFINE_FINAL_TYPE (TestNotSynth, test_not_synth, G_TYPE_OBJECT)

static void test_not_synth_class_init (TestNotSynthClass *klass) { }
static void test_not_synth_init (TestNotSynth *self) { }

FJ_PLUGIN_DEFINE (fj_plugin_registry_add (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "test-wrong",
                                          TEST_TYPE_NOT_SYNTH, "Not a synthesizer"))
