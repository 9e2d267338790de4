/* fj-fork-join-task.h
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

#include "fj-agent-runner.h"
#include "fj-fork-join-result.h"
#include "fj-prices.h"
#include "fj-synthesizer.h"
#include "fj-version-macros.h"

G_BEGIN_DECLS

#define FJ_TYPE_FORK_JOIN_TASK (fj_fork_join_task_get_type ())

FJ_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (FjForkJoinTask, fj_fork_join_task, FJ, FORK_JOIN_TASK, GObject)

FJ_AVAILABLE_IN_ALL
FjForkJoinTask   *fj_fork_join_task_new               (FjAgentRunner       *runner,
                                                       FjSynthesizer       *synthesizer) G_GNUC_WARN_UNUSED_RESULT;
FJ_AVAILABLE_IN_ALL
FjAgentRunner    *fj_fork_join_task_get_runner        (FjForkJoinTask      *self);
FJ_AVAILABLE_IN_ALL
void              fj_fork_join_task_set_runner        (FjForkJoinTask      *self,
                                                       FjAgentRunner       *runner);
FJ_AVAILABLE_IN_ALL
FjSynthesizer    *fj_fork_join_task_get_synthesizer   (FjForkJoinTask      *self);
FJ_AVAILABLE_IN_ALL
void              fj_fork_join_task_set_synthesizer   (FjForkJoinTask      *self,
                                                       FjSynthesizer       *synthesizer);
FJ_AVAILABLE_IN_ALL
guint             fj_fork_join_task_get_min_successes (FjForkJoinTask      *self);
FJ_AVAILABLE_IN_ALL
void              fj_fork_join_task_set_min_successes (FjForkJoinTask      *self,
                                                       guint                min_successes);
FJ_AVAILABLE_IN_ALL
FjPrices         *fj_fork_join_task_get_prices        (FjForkJoinTask      *self);
FJ_AVAILABLE_IN_ALL
void              fj_fork_join_task_set_prices        (FjForkJoinTask      *self,
                                                       FjPrices            *prices);
FJ_AVAILABLE_IN_ALL
void              fj_fork_join_task_run_async         (FjForkJoinTask      *self,
                                                       GListModel          *agents,
                                                       const char          *input,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
FJ_AVAILABLE_IN_ALL
FjForkJoinResult *fj_fork_join_task_run_finish        (FjForkJoinTask      *self,
                                                       GAsyncResult        *result,
                                                       GError             **error) G_GNUC_WARN_UNUSED_RESULT;
FJ_AVAILABLE_IN_ALL
FjForkJoinResult *fj_fork_join_task_run_sync          (FjForkJoinTask      *self,
                                                       GListModel          *agents,
                                                       const char          *input,
                                                       GCancellable        *cancellable,
                                                       GError             **error) G_GNUC_WARN_UNUSED_RESULT;

FJ_AVAILABLE_IN_ALL
void              fj_fork_join_task_resume_async      (FjForkJoinTask      *self,
                                                       GListModel          *agents,
                                                       const char          *input,
                                                       GPtrArray           *previous,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
FJ_AVAILABLE_IN_ALL
FjForkJoinResult *fj_fork_join_task_resume_finish     (FjForkJoinTask      *self,
                                                       GAsyncResult        *result,
                                                       GError             **error) G_GNUC_WARN_UNUSED_RESULT;
FJ_AVAILABLE_IN_ALL
FjForkJoinResult *fj_fork_join_task_resume_sync       (FjForkJoinTask      *self,
                                                       GListModel          *agents,
                                                       const char          *input,
                                                       GPtrArray           *previous,
                                                       GCancellable        *cancellable,
                                                       GError             **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
