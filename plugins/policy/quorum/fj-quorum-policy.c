/* fj-quorum-policy.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <forkjoin.h>

/* The `quorum` policy: behaviour around the run's one quorum,
 * FjRunState:min-successes. It stops the run once the quorum is met
 * (early_exit) or once it can no longer be met (fail_fast). */

#define FJ_TYPE_QUORUM_POLICY (fj_quorum_policy_get_type ())

G_DECLARE_FINAL_TYPE (FjQuorumPolicy, fj_quorum_policy, FJ, QUORUM_POLICY, GObject)

struct _FjQuorumPolicy
{
  GObject         parent_instance;

  FjPolicyLosers  losers;
  guint           early_exit : 1;
  guint           fail_fast : 1;
};

static void policy_iface_init (FjPolicyInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (FjQuorumPolicy, fj_quorum_policy, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (FJ_TYPE_POLICY, policy_iface_init))

enum {
  PROP_0,
  PROP_EARLY_EXIT,
  PROP_LOSERS,
  PROP_FAIL_FAST,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static FjPolicyDecision
fj_quorum_policy_settled (FjPolicy      *policy,
                          FjRunState    *state,
                          FjAgentResult *result)
{
  FjQuorumPolicy *self = FJ_QUORUM_POLICY (policy);
  guint quorum = fj_run_state_get_min_successes (state);
  guint succeeded = fj_run_state_get_n_succeeded (state);
  /* Agents that may still succeed. */
  guint open = fj_run_state_get_n_pending (state) + fj_run_state_get_n_running (state);

  if (self->early_exit && succeeded >= quorum)
    return FJ_POLICY_DECISION_STOP_SATISFIED;

  if (self->fail_fast && succeeded + open < quorum)
    return FJ_POLICY_DECISION_STOP_FAILED;

  return FJ_POLICY_DECISION_CONTINUE;
}

static FjPolicyLosers
fj_quorum_policy_get_losers (FjPolicy *policy)
{
  return FJ_QUORUM_POLICY (policy)->losers;
}

static void
policy_iface_init (FjPolicyInterface *iface)
{
  iface->settled = fj_quorum_policy_settled;
  iface->get_losers = fj_quorum_policy_get_losers;
}

static void
fj_quorum_policy_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  FjQuorumPolicy *self = FJ_QUORUM_POLICY (object);

  switch (prop_id)
    {
    case PROP_EARLY_EXIT:
      g_value_set_boolean (value, self->early_exit);
      break;
    case PROP_LOSERS:
      g_value_set_enum (value, self->losers);
      break;
    case PROP_FAIL_FAST:
      g_value_set_boolean (value, self->fail_fast);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fj_quorum_policy_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  FjQuorumPolicy *self = FJ_QUORUM_POLICY (object);

  switch (prop_id)
    {
    case PROP_EARLY_EXIT:
      if (self->early_exit != g_value_get_boolean (value))
        {
          self->early_exit = g_value_get_boolean (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_LOSERS:
      if (self->losers != (FjPolicyLosers) g_value_get_enum (value))
        {
          self->losers = g_value_get_enum (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_FAIL_FAST:
      if (self->fail_fast != g_value_get_boolean (value))
        {
          self->fail_fast = g_value_get_boolean (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fj_quorum_policy_class_init (FjQuorumPolicyClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = fj_quorum_policy_get_property;
  object_class->set_property = fj_quorum_policy_set_property;

  /* The blurbs are what `forkjoin-tool plugins` shows for each option. */
  properties[PROP_EARLY_EXIT] =
    g_param_spec_boolean ("early-exit", NULL,
                          "Stop the run as soon as min_successes agents succeeded",
                          FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_LOSERS] =
    g_param_spec_enum ("losers", NULL,
                       "After an early exit, what happens to agents still running: cancel or finish",
                       FJ_TYPE_POLICY_LOSERS,
                       FJ_POLICY_LOSERS_CANCEL,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_FAIL_FAST] =
    g_param_spec_boolean ("fail-fast", NULL,
                          "Stop the run as soon as min_successes can no longer be met",
                          TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
fj_quorum_policy_init (FjQuorumPolicy *self)
{
  self->losers = FJ_POLICY_LOSERS_CANCEL;
  self->fail_fast = TRUE;
}

FJ_PLUGIN_DEFINE (fj_plugin_registry_add (registry,
                                          FJ_PLUGIN_KIND_POLICY,
                                          "quorum",
                                          FJ_TYPE_QUORUM_POLICY,
                                          "Stops the run once min_successes is met (early_exit) or can no longer be met (fail_fast)"))
