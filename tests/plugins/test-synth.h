/* test-synth.h
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <forkjoin.h>

/* A minimal synthesizer for the test modules: each module defines its own
 * type name with TEST_SYNTH_DEFINE so two modules never clash. */
#define TEST_SYNTH_DEFINE(TypeName, type_name, TEXT) \
  G_DECLARE_FINAL_TYPE (TypeName, type_name, TEST, SYNTH_##TypeName, GObject) \
  struct _##TypeName { GObject parent_instance; }; \
  static char * \
  type_name##_synthesize (FjSynthesizer  *self, \
                          const char     *input, \
                          GPtrArray      *results, \
                          GCancellable   *cancellable, \
                          GError        **error) \
  { \
    return g_strdup (TEXT); \
  } \
  static void \
  type_name##_iface_init (FjSynthesizerInterface *iface) \
  { \
    iface->synthesize = type_name##_synthesize; \
  } \
  G_DEFINE_FINAL_TYPE_WITH_CODE (TypeName, type_name, G_TYPE_OBJECT, \
                                 G_IMPLEMENT_INTERFACE (FJ_TYPE_SYNTHESIZER, type_name##_iface_init)) \
  static void type_name##_class_init (TypeName##Class *klass) { } \
  static void type_name##_init (TypeName *self) { }
