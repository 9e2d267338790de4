/* fj-agent-runner-private.h
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fj-agent-runner.h"

G_BEGIN_DECLS

/* Whether the last run ended because a policy stopped it satisfied (an
 * early exit): its cancelled and skipped agents then did not fail. */
gboolean _fj_agent_runner_get_stopped_satisfied (FjAgentRunner *self);

/* fj_agent_runner_run_async() resuming an earlier run: @previous holds
 * one FjAgentResult per agent, in agent order, for the same names (else
 * the task fails with FJ_ERROR_SPEC).  An agent whose earlier result is a
 * success is not run: a copy of that result is in the run from the
 * start, settled and counted (n-succeeded, usage), without signals and
 * without asking the policies' settled hook; every other agent runs as
 * usual.  Finish with fj_agent_runner_run_finish(). */
void     _fj_agent_runner_resume_async          (FjAgentRunner       *self,
                                                 GListModel          *agents,
                                                 const char          *input,
                                                 GPtrArray           *previous,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);

G_END_DECLS
