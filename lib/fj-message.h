/* fj-message.h
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

#include "fj-usage.h"
#include "fj-version-macros.h"

G_BEGIN_DECLS

#define FJ_TYPE_MESSAGE (fj_message_get_type ())

FJ_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (FjMessage, fj_message, FJ, MESSAGE, GObject)

FJ_AVAILABLE_IN_ALL
FjMessage  *fj_message_new              (JsonObject  *params) G_GNUC_WARN_UNUSED_RESULT;
FJ_AVAILABLE_IN_ALL
FjMessage  *fj_message_new_from_string  (const char  *params_json,
                                         GError     **error) G_GNUC_WARN_UNUSED_RESULT;
FJ_AVAILABLE_IN_ALL
JsonObject *fj_message_get_params       (FjMessage   *self);
FJ_AVAILABLE_IN_ALL
gboolean    fj_message_get_stream       (FjMessage   *self);
FJ_AVAILABLE_IN_ALL
const char *fj_message_get_id           (FjMessage   *self);
FJ_AVAILABLE_IN_ALL
const char *fj_message_get_model        (FjMessage   *self);
FJ_AVAILABLE_IN_ALL
const char *fj_message_get_stop_reason  (FjMessage   *self);
FJ_AVAILABLE_IN_ALL
const char *fj_message_get_stop_sequence (FjMessage  *self);
FJ_AVAILABLE_IN_ALL
const char *fj_message_get_request_id   (FjMessage   *self);
FJ_AVAILABLE_IN_ALL
const char *fj_message_get_text         (FjMessage   *self);
FJ_AVAILABLE_IN_ALL
JsonArray  *fj_message_get_content      (FjMessage   *self);
FJ_AVAILABLE_IN_ALL
guint       fj_message_get_n_tool_uses  (FjMessage   *self);
FJ_AVAILABLE_IN_ALL
FjUsage    *fj_message_get_usage        (FjMessage   *self);
FJ_AVAILABLE_IN_ALL
guint       fj_message_get_status_code  (FjMessage   *self);
FJ_AVAILABLE_IN_ALL
guint       fj_message_get_attempts     (FjMessage   *self);
FJ_AVAILABLE_IN_ALL
JsonNode   *fj_message_to_json          (FjMessage   *self) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
