/* second/dup.c: another file providing "test-good" (not added: the first
 * dir wins) and "test-second", which is added.
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "../test-synth.h"

#define TEST_TYPE_DUP_SYNTH (test_dup_synth_get_type ())
TEST_SYNTH_DEFINE (TestDupSynth, test_dup_synth, "dup")

#define TEST_TYPE_SECOND_SYNTH (test_second_synth_get_type ())
TEST_SYNTH_DEFINE (TestSecondSynth, test_second_synth, "second")

FJ_PLUGIN_DEFINE (fj_plugin_registry_add (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "test-good",
                                          TEST_TYPE_DUP_SYNTH, "A duplicate");
                  fj_plugin_registry_add (registry, FJ_PLUGIN_KIND_SYNTHESIZER, "test-second",
                                          TEST_TYPE_SECOND_SYNTH, "Only in the second dir"))
