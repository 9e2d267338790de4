/* fj-fork-join-result.h
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

#include "fj-agent-result.h"
#include "fj-usage.h"
#include "fj-version-macros.h"

G_BEGIN_DECLS

/**
 * FjForkJoinStatus:
 * @FJ_FORK_JOIN_STATUS_COMPLETE: every agent succeeded (or was stopped by
 *   an early exit) and the synthesis, if any, succeeded
 * @FJ_FORK_JOIN_STATUS_DEGRADED: some agents failed but the quorum held and
 *   the synthesis, if any, succeeded
 * @FJ_FORK_JOIN_STATUS_FAILED: the quorum was not met, the synthesis failed
 *   or the run was cancelled
 *
 * How a fork-join ended.
 *
 * Since: 1.0
 */
typedef enum
{
  FJ_FORK_JOIN_STATUS_COMPLETE,
  FJ_FORK_JOIN_STATUS_DEGRADED,
  FJ_FORK_JOIN_STATUS_FAILED,
} FjForkJoinStatus;

#define FJ_TYPE_FORK_JOIN_RESULT (fj_fork_join_result_get_type ())

FJ_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (FjForkJoinResult, fj_fork_join_result, FJ, FORK_JOIN_RESULT, GObject)

FJ_AVAILABLE_IN_ALL
FjForkJoinStatus  fj_fork_join_result_get_status           (FjForkJoinResult *self);
FJ_AVAILABLE_IN_ALL
const GError     *fj_fork_join_result_get_error            (FjForkJoinResult *self);
FJ_AVAILABLE_IN_ALL
const char       *fj_fork_join_result_get_input            (FjForkJoinResult *self);
FJ_AVAILABLE_IN_ALL
GPtrArray        *fj_fork_join_result_get_results          (FjForkJoinResult *self);
FJ_AVAILABLE_IN_ALL
const char       *fj_fork_join_result_get_output           (FjForkJoinResult *self);
FJ_AVAILABLE_IN_ALL
FjAgentResult    *fj_fork_join_result_get_synthesis_result (FjForkJoinResult *self);
FJ_AVAILABLE_IN_ALL
FjUsage          *fj_fork_join_result_get_usage            (FjForkJoinResult *self);
FJ_AVAILABLE_IN_ALL
double            fj_fork_join_result_get_wall_time        (FjForkJoinResult *self);
FJ_AVAILABLE_IN_ALL
double            fj_fork_join_result_get_cost             (FjForkJoinResult *self);
FJ_AVAILABLE_IN_ALL
const char * const *fj_fork_join_result_get_batch_ids      (FjForkJoinResult *self);
FJ_AVAILABLE_IN_ALL
JsonNode         *fj_fork_join_result_to_json              (FjForkJoinResult *self) G_GNUC_WARN_UNUSED_RESULT;
FJ_AVAILABLE_IN_ALL
JsonNode         *fj_fork_join_result_to_json_outline      (FjForkJoinResult *self) G_GNUC_WARN_UNUSED_RESULT;
FJ_AVAILABLE_IN_ALL
char             *fj_fork_join_result_to_json_string       (FjForkJoinResult *self,
                                                            gboolean          pretty) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
