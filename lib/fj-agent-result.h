/* fj-agent-result.h
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

/**
 * FjAgentStatus:
 * @FJ_AGENT_STATUS_PENDING: not started yet
 * @FJ_AGENT_STATUS_RUNNING: admitted and running
 * @FJ_AGENT_STATUS_SUCCESS: finished with an answer
 * @FJ_AGENT_STATUS_FAILED: finished with an error
 * @FJ_AGENT_STATUS_TIMED_OUT: its time limit or the run's deadline ran out
 * @FJ_AGENT_STATUS_CANCELLED: cancelled while running
 * @FJ_AGENT_STATUS_SKIPPED: never started (the run ended first)
 *
 * Where an agent is, or how it ended. In JSON output the nick is written
 * with `_` for `-` (`timed_out`).
 *
 * Since: 1.0
 */
typedef enum
{
  FJ_AGENT_STATUS_PENDING,
  FJ_AGENT_STATUS_RUNNING,
  FJ_AGENT_STATUS_SUCCESS,
  FJ_AGENT_STATUS_FAILED,
  FJ_AGENT_STATUS_TIMED_OUT,
  FJ_AGENT_STATUS_CANCELLED,
  FJ_AGENT_STATUS_SKIPPED,
} FjAgentStatus;

#define FJ_TYPE_AGENT_RESULT (fj_agent_result_get_type ())

FJ_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (FjAgentResult, fj_agent_result, FJ, AGENT_RESULT, GObject)

FJ_AVAILABLE_IN_ALL
FjAgentResult *fj_agent_result_new                (const char     *agent_name,
                                                   guint           index) G_GNUC_WARN_UNUSED_RESULT;
FJ_AVAILABLE_IN_ALL
const char    *fj_agent_result_get_agent_name     (FjAgentResult  *self);
FJ_AVAILABLE_IN_ALL
guint          fj_agent_result_get_index          (FjAgentResult  *self);
FJ_AVAILABLE_IN_ALL
FjAgentStatus  fj_agent_result_get_status         (FjAgentResult  *self);
FJ_AVAILABLE_IN_ALL
gboolean       fj_agent_result_get_finished       (FjAgentResult  *self);
FJ_AVAILABLE_IN_ALL
const char    *fj_agent_result_get_output         (FjAgentResult  *self);
FJ_AVAILABLE_IN_ALL
const char    *fj_agent_result_get_partial_output (FjAgentResult  *self);
FJ_AVAILABLE_IN_ALL
const GError  *fj_agent_result_get_error          (FjAgentResult  *self);
FJ_AVAILABLE_IN_ALL
const char    *fj_agent_result_get_error_code     (FjAgentResult  *self);
FJ_AVAILABLE_IN_ALL
const char    *fj_agent_result_get_error_message  (FjAgentResult  *self);
FJ_AVAILABLE_IN_ALL
double         fj_agent_result_get_duration       (FjAgentResult  *self);
FJ_AVAILABLE_IN_ALL
guint          fj_agent_result_get_attempts       (FjAgentResult  *self);
FJ_AVAILABLE_IN_ALL
guint          fj_agent_result_get_turns          (FjAgentResult  *self);
FJ_AVAILABLE_IN_ALL
const char    *fj_agent_result_get_stop_reason    (FjAgentResult  *self);
FJ_AVAILABLE_IN_ALL
FjUsage       *fj_agent_result_get_usage          (FjAgentResult  *self);
FJ_AVAILABLE_IN_ALL
double         fj_agent_result_get_cost           (FjAgentResult  *self);
FJ_AVAILABLE_IN_ALL
const char    *fj_agent_result_get_model          (FjAgentResult  *self);
FJ_AVAILABLE_IN_ALL
double         fj_agent_result_get_cache_hit_ratio (FjAgentResult *self);
FJ_AVAILABLE_IN_ALL
double         fj_agent_result_get_cache_saved_usd (FjAgentResult *self);
FJ_AVAILABLE_IN_ALL
FjAgentResult *fj_agent_result_new_from_json      (JsonNode       *node,
                                                   guint           index,
                                                   GError        **error) G_GNUC_WARN_UNUSED_RESULT;
FJ_AVAILABLE_IN_ALL
JsonNode      *fj_agent_result_to_json            (FjAgentResult  *self) G_GNUC_WARN_UNUSED_RESULT;
FJ_AVAILABLE_IN_ALL
char          *fj_agent_result_to_json_string     (FjAgentResult  *self,
                                                   gboolean        pretty) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
