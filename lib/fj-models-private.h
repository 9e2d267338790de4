/* fj-models-private.h
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The shortest prefix the prompt cache stores for @model, in tokens, from
 * the "cache_min_tokens" table of data/models.json: the entry whose name is
 * the longest prefix of @model, else its "default". Thread-safe. */
guint _fj_model_cache_min_tokens (const char *model);

G_END_DECLS
