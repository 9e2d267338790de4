/* fj-usage.h
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (FORKJOIN_INSIDE) && !defined (FORKJOIN_COMPILATION)
# error "Only <forkjoin.h> can be included directly."
#endif

#include <glib-object.h>
#include <json-glib/json-glib.h>

#include "fj-version-macros.h"

G_BEGIN_DECLS

#define FJ_TYPE_USAGE (fj_usage_get_type ())

typedef struct _FjUsage FjUsage;

/**
 * FjUsage:
 * @input_tokens: input tokens not read from or written to the cache
 * @output_tokens: output tokens
 * @cache_creation_input_tokens: input tokens written to the prompt cache
 * @cache_read_input_tokens: input tokens read from the prompt cache
 *
 * Token counts of one reply, one agent or a whole run, named as the
 * Messages API names them.
 *
 * Since: 1.0
 */
struct _FjUsage
{
  gint64 input_tokens;
  gint64 output_tokens;
  gint64 cache_creation_input_tokens;
  gint64 cache_read_input_tokens;
};

FJ_AVAILABLE_IN_ALL
GType     fj_usage_get_type         (void) G_GNUC_CONST;
FJ_AVAILABLE_IN_ALL
FjUsage  *fj_usage_new              (void) G_GNUC_WARN_UNUSED_RESULT;
FJ_AVAILABLE_IN_ALL
FjUsage  *fj_usage_copy             (const FjUsage *self) G_GNUC_WARN_UNUSED_RESULT;
FJ_AVAILABLE_IN_ALL
void      fj_usage_free             (FjUsage       *self);
FJ_AVAILABLE_IN_ALL
void      fj_usage_add              (FjUsage       *self,
                                     const FjUsage *other);
FJ_AVAILABLE_IN_ALL
gboolean  fj_usage_equal            (const FjUsage *a,
                                     const FjUsage *b);
FJ_AVAILABLE_IN_ALL
gint64    fj_usage_get_total_input  (const FjUsage *self);
FJ_AVAILABLE_IN_ALL
JsonNode *fj_usage_to_json          (const FjUsage *self) G_GNUC_WARN_UNUSED_RESULT;
FJ_AVAILABLE_IN_ALL
void      fj_usage_update_from_json (FjUsage       *self,
                                     JsonObject    *object);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FjUsage, fj_usage_free)

G_END_DECLS
