/* fj-agent.h
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

#include "fj-agent-result.h"
#include "fj-client.h"
#include "fj-tool.h"
#include "fj-version-macros.h"

G_BEGIN_DECLS

/**
 * FJ_AGENT_DEFAULT_MODEL:
 *
 * The model an [class@Agent] uses when none is set.
 *
 * Since: 1.0
 */
#define FJ_AGENT_DEFAULT_MODEL "claude-haiku-5-5"

#define FJ_TYPE_AGENT (fj_agent_get_type ())

FJ_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (FjAgent, fj_agent, FJ, AGENT, GObject)

FJ_AVAILABLE_IN_ALL
FjAgent       *fj_agent_new              (const char     *name) G_GNUC_WARN_UNUSED_RESULT;
FJ_AVAILABLE_IN_ALL
const char    *fj_agent_get_name         (FjAgent        *self);
FJ_AVAILABLE_IN_ALL
void           fj_agent_set_name         (FjAgent        *self,
                                          const char     *name);
FJ_AVAILABLE_IN_ALL
const char    *fj_agent_get_model        (FjAgent        *self);
FJ_AVAILABLE_IN_ALL
void           fj_agent_set_model        (FjAgent        *self,
                                          const char     *model);
FJ_AVAILABLE_IN_ALL
const char    *fj_agent_get_instructions (FjAgent        *self);
FJ_AVAILABLE_IN_ALL
void           fj_agent_set_instructions (FjAgent        *self,
                                          const char     *instructions);
FJ_AVAILABLE_IN_ALL
guint          fj_agent_get_max_tokens   (FjAgent        *self);
FJ_AVAILABLE_IN_ALL
void           fj_agent_set_max_tokens   (FjAgent        *self,
                                          guint           max_tokens);
FJ_AVAILABLE_IN_ALL
double         fj_agent_get_temperature  (FjAgent        *self);
FJ_AVAILABLE_IN_ALL
void           fj_agent_set_temperature  (FjAgent        *self,
                                          double          temperature);
FJ_AVAILABLE_IN_ALL
double         fj_agent_get_timeout      (FjAgent        *self);
FJ_AVAILABLE_IN_ALL
void           fj_agent_set_timeout      (FjAgent        *self,
                                          double          seconds);
FJ_AVAILABLE_IN_ALL
guint          fj_agent_get_max_turns    (FjAgent        *self);
FJ_AVAILABLE_IN_ALL
void           fj_agent_set_max_turns    (FjAgent        *self,
                                          guint           max_turns);
FJ_AVAILABLE_IN_ALL
gboolean       fj_agent_get_stream       (FjAgent        *self);
FJ_AVAILABLE_IN_ALL
void           fj_agent_set_stream       (FjAgent        *self,
                                          gboolean        stream);
FJ_AVAILABLE_IN_ALL
FjClient      *fj_agent_get_client       (FjAgent        *self);
FJ_AVAILABLE_IN_ALL
void           fj_agent_set_client       (FjAgent        *self,
                                          FjClient       *client);
FJ_AVAILABLE_IN_ALL
GListModel    *fj_agent_get_tools        (FjAgent        *self);
FJ_AVAILABLE_IN_ALL
void           fj_agent_add_tool         (FjAgent        *self,
                                          FjTool         *tool);
FJ_AVAILABLE_IN_ALL
FjTool        *fj_agent_find_tool        (FjAgent        *self,
                                          const char     *name);
FJ_AVAILABLE_IN_ALL
void           fj_agent_run_async        (FjAgent        *self,
                                          FjClient       *client,
                                          const char     *input,
                                          GCancellable   *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer        user_data);
FJ_AVAILABLE_IN_ALL
FjAgentResult *fj_agent_run_finish       (FjAgent        *self,
                                          GAsyncResult   *result,
                                          GError        **error) G_GNUC_WARN_UNUSED_RESULT;
FJ_AVAILABLE_IN_ALL
FjAgentResult *fj_agent_run_sync         (FjAgent        *self,
                                          FjClient       *client,
                                          const char     *input,
                                          GCancellable   *cancellable,
                                          GError        **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
