/* fj-batch-private.h
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

#include "fj-batch.h"

G_BEGIN_DECLS

/* A new submission of @n_agents agents named @agent_names for @input. */
FjBatch    *_fj_batch_new               (const char         *base_url,
                                         const char         *input,
                                         const char * const *agent_names,
                                         guint               n_agents);
/* The custom_id of agent @index: "a00042-writer" (≤ 64 chars of
 * [A-Za-z0-9_-]). */
char       *_fj_batch_make_custom_id    (guint               index,
                                         const char         *name);
/* The agent index a custom_id of this batch stands for, or -1. */
int         _fj_batch_lookup_custom_id  (FjBatch            *self,
                                         const char         *custom_id);
/* Adds a created batch: its id and the custom_ids it holds (takes them);
 * @object is the create reply (status, counts). */
void        _fj_batch_add               (FjBatch            *self,
                                         const char         *id,
                                         GPtrArray          *custom_ids,
                                         JsonObject         *object);
guint       _fj_batch_get_n_batches     (FjBatch            *self);
const char *_fj_batch_get_nth_id        (FjBatch            *self,
                                         guint               i);
/* custom_ids of batch @i (element-type utf8). */
GPtrArray  *_fj_batch_get_nth_custom_ids (FjBatch           *self,
                                          guint              i);
/* Batch @i's own processing_status and results_url, as last refreshed. */
const char *_fj_batch_get_nth_status    (FjBatch            *self,
                                         guint               i);
const char *_fj_batch_get_nth_results_url (FjBatch          *self,
                                           guint             i);

G_END_DECLS
