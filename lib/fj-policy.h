/* fj-policy.h
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

#include "fj-agent.h"
#include "fj-agent-result.h"
#include "fj-run-state.h"
#include "fj-version-macros.h"

G_BEGIN_DECLS

/**
 * FjPolicyDecision:
 * @FJ_POLICY_DECISION_CONTINUE: go on with the run
 * @FJ_POLICY_DECISION_STOP_SATISFIED: stop, the run has what it needs
 *   (e.g. the quorum was met): agents not started yet are skipped, running
 *   ones are cancelled or left to finish as [method@Policy.get_losers]
 *   says
 * @FJ_POLICY_DECISION_STOP_FAILED: stop, the run cannot succeed any more
 *   (e.g. the quorum can no longer be met): agents not started yet are
 *   skipped and running ones cancelled
 *
 * What a [iface@Policy] decides after an agent's result settled.
 *
 * Since: 1.0
 */
typedef enum
{
  FJ_POLICY_DECISION_CONTINUE,
  FJ_POLICY_DECISION_STOP_SATISFIED,
  FJ_POLICY_DECISION_STOP_FAILED,
} FjPolicyDecision;

/**
 * FjPolicyLosers:
 * @FJ_POLICY_LOSERS_CANCEL: running agents are cancelled (status
 *   cancelled)
 * @FJ_POLICY_LOSERS_FINISH: running agents are left to finish; only
 *   agents not started yet are skipped
 *
 * What happens to the agents still running when a [iface@Policy] stops a
 * run with %FJ_POLICY_DECISION_STOP_SATISFIED.
 *
 * Since: 1.0
 */
typedef enum
{
  FJ_POLICY_LOSERS_CANCEL,
  FJ_POLICY_LOSERS_FINISH,
} FjPolicyLosers;

#define FJ_TYPE_POLICY (fj_policy_get_type ())

FJ_AVAILABLE_IN_ALL
G_DECLARE_INTERFACE (FjPolicy, fj_policy, FJ, POLICY, GObject)

/**
 * FjPolicyInterface:
 * @parent_iface: the parent interface
 * @admit: whether an agent may start now; %FALSE with an error skips the
 *   agent with that error, %FALSE without one holds it (and the agents
 *   after it) until another agent settles
 * @settled: called after each agent's result settled; decides whether the
 *   run goes on
 * @get_losers: what happens to running agents when @settled returned
 *   %FJ_POLICY_DECISION_STOP_SATISFIED
 *
 * The interface of [iface@Policy]. Every vfunc is synchronous and called
 * on the run's main context, so C, Python and gjs can implement it; each
 * has a default (admit everything, continue, cancel the losers).
 *
 * Since: 1.0
 */
struct _FjPolicyInterface
{
  GTypeInterface parent_iface;

  gboolean         (*admit)      (FjPolicy       *self,
                                  FjRunState     *state,
                                  FjAgent        *agent,
                                  GError        **error);
  FjPolicyDecision (*settled)    (FjPolicy       *self,
                                  FjRunState     *state,
                                  FjAgentResult  *result);
  FjPolicyLosers   (*get_losers) (FjPolicy       *self);

  /*< private >*/
  gpointer _reserved[8];
};

FJ_AVAILABLE_IN_ALL
gboolean         fj_policy_admit      (FjPolicy       *self,
                                       FjRunState     *state,
                                       FjAgent        *agent,
                                       GError        **error);
FJ_AVAILABLE_IN_ALL
FjPolicyDecision fj_policy_settled    (FjPolicy       *self,
                                       FjRunState     *state,
                                       FjAgentResult  *result);
FJ_AVAILABLE_IN_ALL
FjPolicyLosers   fj_policy_get_losers (FjPolicy       *self);

G_END_DECLS
