/* fj-batch.h
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (FORKJOIN_INSIDE) && !defined (FORKJOIN_COMPILATION)
# error "Only <forkjoin.h> can be included directly."
#endif

#include <gio/gio.h>

#include "fj-client.h"
#include "fj-version-macros.h"

G_BEGIN_DECLS

#define FJ_TYPE_BATCH (fj_batch_get_type ())

FJ_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (FjBatch, fj_batch, FJ, BATCH, GObject)

FJ_AVAILABLE_IN_ALL
FjBatch            *fj_batch_new_from_file          (const char           *path,
                                                     GError              **error) G_GNUC_WARN_UNUSED_RESULT;
FJ_AVAILABLE_IN_ALL
gboolean            fj_batch_save                   (FjBatch              *self,
                                                     const char           *path,
                                                     GError              **error);
FJ_AVAILABLE_IN_ALL
const char * const *fj_batch_get_ids                (FjBatch              *self);
FJ_AVAILABLE_IN_ALL
const char         *fj_batch_get_input              (FjBatch              *self);
FJ_AVAILABLE_IN_ALL
guint               fj_batch_get_n_agents           (FjBatch              *self);
FJ_AVAILABLE_IN_ALL
const char         *fj_batch_get_agent_name         (FjBatch              *self,
                                                     guint                 i);
FJ_AVAILABLE_IN_ALL
const char         *fj_batch_get_base_url           (FjBatch              *self);
FJ_AVAILABLE_IN_ALL
GDateTime          *fj_batch_get_created_at         (FjBatch              *self);
FJ_AVAILABLE_IN_ALL
const char         *fj_batch_get_metadata           (FjBatch              *self,
                                                     const char           *key);
FJ_AVAILABLE_IN_ALL
void                fj_batch_set_metadata           (FjBatch              *self,
                                                     const char           *key,
                                                     const char           *value);
FJ_AVAILABLE_IN_ALL
const char         *fj_batch_get_processing_status  (FjBatch              *self);
FJ_AVAILABLE_IN_ALL
void                fj_batch_get_request_counts     (FjBatch              *self,
                                                     guint                *processing,
                                                     guint                *succeeded,
                                                     guint                *errored,
                                                     guint                *canceled,
                                                     guint                *expired);
FJ_AVAILABLE_IN_ALL
void                fj_batch_refresh_async          (FjBatch              *self,
                                                     FjClient             *client,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
FJ_AVAILABLE_IN_ALL
gboolean            fj_batch_refresh_finish         (FjBatch              *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);
FJ_AVAILABLE_IN_ALL
void                fj_batch_cancel_async           (FjBatch              *self,
                                                     FjClient             *client,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
FJ_AVAILABLE_IN_ALL
gboolean            fj_batch_cancel_finish          (FjBatch              *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);

G_END_DECLS
