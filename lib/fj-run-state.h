/* fj-run-state.h
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

#include "fj-agent-result.h"
#include "fj-usage.h"
#include "fj-version-macros.h"

G_BEGIN_DECLS

#define FJ_TYPE_RUN_STATE (fj_run_state_get_type ())

FJ_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (FjRunState, fj_run_state, FJ, RUN_STATE, GObject)

FJ_AVAILABLE_IN_ALL
guint          fj_run_state_get_n_agents      (FjRunState *self);
FJ_AVAILABLE_IN_ALL
guint          fj_run_state_get_n_pending     (FjRunState *self);
FJ_AVAILABLE_IN_ALL
guint          fj_run_state_get_n_running     (FjRunState *self);
FJ_AVAILABLE_IN_ALL
guint          fj_run_state_get_n_succeeded   (FjRunState *self);
FJ_AVAILABLE_IN_ALL
guint          fj_run_state_get_n_failed      (FjRunState *self);
FJ_AVAILABLE_IN_ALL
guint          fj_run_state_get_n_cancelled   (FjRunState *self);
FJ_AVAILABLE_IN_ALL
guint          fj_run_state_get_n_skipped     (FjRunState *self);
FJ_AVAILABLE_IN_ALL
guint          fj_run_state_get_min_successes (FjRunState *self);
FJ_AVAILABLE_IN_ALL
FjUsage       *fj_run_state_get_usage         (FjRunState *self);
FJ_AVAILABLE_IN_ALL
double         fj_run_state_get_elapsed       (FjRunState *self);
FJ_AVAILABLE_IN_ALL
gboolean       fj_run_state_get_finished      (FjRunState *self);
FJ_AVAILABLE_IN_ALL
FjAgentResult *fj_run_state_get_result        (FjRunState *self,
                                               guint       index);
FJ_AVAILABLE_IN_ALL
GPtrArray     *fj_run_state_get_results       (FjRunState *self);

G_END_DECLS
