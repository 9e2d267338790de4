/* fj-tool.h
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
#include <json-glib/json-glib.h>

#include "fj-version-macros.h"

G_BEGIN_DECLS

#define FJ_TYPE_TOOL (fj_tool_get_type ())

FJ_AVAILABLE_IN_ALL
G_DECLARE_DERIVABLE_TYPE (FjTool, fj_tool, FJ, TOOL, GObject)

/**
 * FjToolClass:
 * @parent_class: the parent class
 * @invoke: runs the tool: takes the model's input as a JSON object in a
 *   string and returns the result text the model will read, or sets an
 *   error whose message the model reads instead (with `is_error`)
 *
 * The class structure of [class@Tool]. Subclasses (in C, Python or gjs)
 * implement @invoke.
 *
 * Since: 1.0
 */
struct _FjToolClass
{
  GObjectClass parent_class;

  char *(*invoke) (FjTool        *self,
                   const char    *input_json,
                   GCancellable  *cancellable,
                   GError       **error);

  /*< private >*/
  gpointer _reserved[8];
};

FJ_AVAILABLE_IN_ALL
const char *fj_tool_get_name          (FjTool        *self);
FJ_AVAILABLE_IN_ALL
void        fj_tool_set_name          (FjTool        *self,
                                       const char    *name);
FJ_AVAILABLE_IN_ALL
const char *fj_tool_get_description   (FjTool        *self);
FJ_AVAILABLE_IN_ALL
void        fj_tool_set_description   (FjTool        *self,
                                       const char    *description);
FJ_AVAILABLE_IN_ALL
const char *fj_tool_get_input_schema  (FjTool        *self);
FJ_AVAILABLE_IN_ALL
void        fj_tool_set_input_schema  (FjTool        *self,
                                       const char    *input_schema);
FJ_AVAILABLE_IN_ALL
gboolean    fj_tool_get_main_thread   (FjTool        *self);
FJ_AVAILABLE_IN_ALL
void        fj_tool_set_main_thread   (FjTool        *self,
                                       gboolean       main_thread);
FJ_AVAILABLE_IN_ALL
JsonNode   *fj_tool_to_json           (FjTool        *self,
                                       GError       **error) G_GNUC_WARN_UNUSED_RESULT;
FJ_AVAILABLE_IN_ALL
char       *fj_tool_invoke            (FjTool        *self,
                                       const char    *input_json,
                                       GCancellable  *cancellable,
                                       GError       **error) G_GNUC_WARN_UNUSED_RESULT;
FJ_AVAILABLE_IN_ALL
void        fj_tool_invoke_async      (FjTool        *self,
                                       const char    *input_json,
                                       GCancellable  *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer       user_data);
FJ_AVAILABLE_IN_ALL
char       *fj_tool_invoke_finish     (FjTool        *self,
                                       GAsyncResult  *result,
                                       GError       **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
