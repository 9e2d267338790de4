/* fj-policy.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fj-policy.h"

/**
 * FjPolicy:
 *
 * Hooks an [class@AgentRunner] calls as it runs agents, to decide which
 * agents start and when a run stops early.
 *
 * Before it starts each agent, the runner asks every policy
 * [method@Policy.admit] (a budget policy refuses once the budget is
 * spent); after each agent's result settled it asks every policy
 * [method@Policy.settled], which may stop the run because it has what it
 * needs (a quorum met early) or because it can no longer succeed (a quorum
 * out of reach). Both read the run's [class@RunState]: its counters, usage,
 * [property@RunState:min-successes] and elapsed time.
 *
 * The vfuncs are synchronous and run on the runner's main context, so a
 * policy may be written in C, Python or JavaScript. Every vfunc has a
 * default: admit every agent, continue, and cancel the agents still
 * running when a run stops satisfied.
 *
 * Since: 1.0
 */

G_DEFINE_INTERFACE (FjPolicy, fj_policy, G_TYPE_OBJECT)

static gboolean
fj_policy_real_admit (FjPolicy    *self,
                      FjRunState  *state,
                      FjAgent     *agent,
                      GError     **error)
{
  return TRUE;
}

static FjPolicyDecision
fj_policy_real_settled (FjPolicy      *self,
                        FjRunState    *state,
                        FjAgentResult *result)
{
  return FJ_POLICY_DECISION_CONTINUE;
}

static FjPolicyLosers
fj_policy_real_get_losers (FjPolicy *self)
{
  return FJ_POLICY_LOSERS_CANCEL;
}

static void
fj_policy_default_init (FjPolicyInterface *iface)
{
  iface->admit = fj_policy_real_admit;
  iface->settled = fj_policy_real_settled;
  iface->get_losers = fj_policy_real_get_losers;
}

/**
 * fj_policy_admit:
 * @self: a #FjPolicy
 * @state: the run's state
 * @agent: the agent about to start
 * @error: return location for a #GError
 *
 * Asks whether @agent may start now. The runner asks before starting each
 * agent, in agent order.
 *
 * Returning %FALSE with @error set skips the agent with that error (for
 * example %FJ_ERROR_BUDGET once a budget is spent); the runner goes on with
 * the next one. Returning %FALSE without an error holds the agent, and the
 * agents queued after it, until another agent settles, when the runner
 * asks again; if no agent is running then, the agent is skipped.
 *
 * Returns: %TRUE to start the agent now
 *
 * Since: 1.0
 */
gboolean
fj_policy_admit (FjPolicy    *self,
                 FjRunState  *state,
                 FjAgent     *agent,
                 GError     **error)
{
  FjPolicyInterface *iface;

  g_return_val_if_fail (FJ_IS_POLICY (self), FALSE);
  g_return_val_if_fail (FJ_IS_RUN_STATE (state), FALSE);
  g_return_val_if_fail (FJ_IS_AGENT (agent), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  iface = FJ_POLICY_GET_IFACE (self);
  if (iface->admit == NULL)
    return TRUE;

  return iface->admit (self, state, agent, error);
}

/**
 * fj_policy_settled:
 * @self: a #FjPolicy
 * @state: the run's state, counting @result already
 * @result: the result that settled
 *
 * Tells the policy that an agent's result settled (succeeded, failed,
 * timed out, was cancelled or skipped) and asks whether the run goes on.
 * The runner calls it for every agent, also after a stop, when its
 * decision no longer matters.
 *
 * Returns: the policy's decision
 *
 * Since: 1.0
 */
FjPolicyDecision
fj_policy_settled (FjPolicy      *self,
                   FjRunState    *state,
                   FjAgentResult *result)
{
  FjPolicyInterface *iface;

  g_return_val_if_fail (FJ_IS_POLICY (self), FJ_POLICY_DECISION_CONTINUE);
  g_return_val_if_fail (FJ_IS_RUN_STATE (state), FJ_POLICY_DECISION_CONTINUE);
  g_return_val_if_fail (FJ_IS_AGENT_RESULT (result), FJ_POLICY_DECISION_CONTINUE);

  iface = FJ_POLICY_GET_IFACE (self);
  if (iface->settled == NULL)
    return FJ_POLICY_DECISION_CONTINUE;

  return iface->settled (self, state, result);
}

/**
 * fj_policy_get_losers:
 * @self: a #FjPolicy
 *
 * Asks what happens to the agents still running when this policy stops a
 * run with %FJ_POLICY_DECISION_STOP_SATISFIED: cancelled (the default) or
 * left to finish.
 *
 * Returns: what happens to the running agents
 *
 * Since: 1.0
 */
FjPolicyLosers
fj_policy_get_losers (FjPolicy *self)
{
  FjPolicyInterface *iface;

  g_return_val_if_fail (FJ_IS_POLICY (self), FJ_POLICY_LOSERS_CANCEL);

  iface = FJ_POLICY_GET_IFACE (self);
  if (iface->get_losers == NULL)
    return FJ_POLICY_LOSERS_CANCEL;

  return iface->get_losers (self);
}
