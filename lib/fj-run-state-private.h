/* fj-run-state-private.h
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fj-run-state.h"

G_BEGIN_DECLS

/* The counters, one per group of FjAgentStatus. */
typedef enum
{
  FJ_RUN_COUNT_PENDING,
  FJ_RUN_COUNT_RUNNING,
  FJ_RUN_COUNT_SUCCEEDED,
  FJ_RUN_COUNT_FAILED,          /* failed and timed-out */
  FJ_RUN_COUNT_CANCELLED,
  FJ_RUN_COUNT_SKIPPED,
  FJ_RUN_N_COUNTS
} FjRunCount;

FjRunCount  _fj_run_count_for_status  (FjAgentStatus  status);

/* A run of the results in @results (FjAgentResult, in agent order; the
 * array is referenced), all counted pending; elapsed starts now. */
FjRunState *_fj_run_state_new         (GPtrArray     *results,
                                       guint          min_successes);
/* An agent's result moved from status @from to @to: moves one count
 * between the counters, notifying both. */
void        _fj_run_state_move        (FjRunState    *self,
                                       FjAgentStatus  from,
                                       FjAgentStatus  to);
guint       _fj_run_state_get_count   (FjRunState    *self,
                                       FjRunCount     count);
/* Returns whether the usage changed (and was notified). */
gboolean    _fj_run_state_add_usage   (FjRunState    *self,
                                       const FjUsage *usage);
/* The run has ended: elapsed stops and finished becomes TRUE. */
void        _fj_run_state_finish      (FjRunState    *self);

G_END_DECLS
