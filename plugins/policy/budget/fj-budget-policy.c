/* fj-budget-policy.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <forkjoin.h>

/* The `budget` policy: token limits on a run. Once the agents that settled
 * have used a limit up, agents not started yet are skipped with
 * FJ_ERROR_BUDGET; the running ones finish, so a run can end a little
 * over its budget. */

#define FJ_TYPE_BUDGET_POLICY (fj_budget_policy_get_type ())

G_DECLARE_FINAL_TYPE (FjBudgetPolicy, fj_budget_policy, FJ, BUDGET_POLICY, GObject)

struct _FjBudgetPolicy
{
  GObject  parent_instance;

  guint64  max_input_tokens;
  guint64  max_output_tokens;
  guint64  max_total_tokens;
};

static void policy_iface_init (FjPolicyInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (FjBudgetPolicy, fj_budget_policy, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (FJ_TYPE_POLICY, policy_iface_init))

enum {
  PROP_0,
  PROP_MAX_INPUT_TOKENS,
  PROP_MAX_OUTPUT_TOKENS,
  PROP_MAX_TOTAL_TOKENS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* 5120 → "5,120" */
static char *
format_count (guint64 n)
{
  g_autofree char *digits = g_strdup_printf ("%" G_GUINT64_FORMAT, n);
  GString *out = g_string_new (NULL);
  gsize len = strlen (digits);

  for (gsize i = 0; i < len; i++)
    {
      if (i > 0 && (len - i) % 3 == 0)
        g_string_append_c (out, ',');
      g_string_append_c (out, digits[i]);
    }

  return g_string_free (out, FALSE);
}

static gboolean
check_limit (guint64      used,
             guint64      limit,
             const char  *what,
             GError     **error)
{
  g_autofree char *used_text = NULL;
  g_autofree char *limit_text = NULL;

  if (limit == 0 || used < limit)
    return TRUE;

  used_text = format_count (used);
  limit_text = format_count (limit);
  g_set_error (error, FJ_ERROR, FJ_ERROR_BUDGET,
               "budget spent: %s of %s %s tokens", used_text, limit_text, what);

  return FALSE;
}

static gboolean
fj_budget_policy_admit (FjPolicy    *policy,
                        FjRunState  *state,
                        FjAgent     *agent,
                        GError     **error)
{
  FjBudgetPolicy *self = FJ_BUDGET_POLICY (policy);
  FjUsage *usage = fj_run_state_get_usage (state);
  guint64 input = 0;
  guint64 output = 0;

  if (usage != NULL)
    {
      input = (guint64) MAX (0, fj_usage_get_total_input (usage));
      output = (guint64) MAX (0, usage->output_tokens);
    }

  return check_limit (output, self->max_output_tokens, "output", error) &&
         check_limit (input, self->max_input_tokens, "input", error) &&
         check_limit (input + output, self->max_total_tokens, "total", error);
}

static void
policy_iface_init (FjPolicyInterface *iface)
{
  iface->admit = fj_budget_policy_admit;
}

static void
fj_budget_policy_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  FjBudgetPolicy *self = FJ_BUDGET_POLICY (object);

  switch (prop_id)
    {
    case PROP_MAX_INPUT_TOKENS:
      g_value_set_uint64 (value, self->max_input_tokens);
      break;
    case PROP_MAX_OUTPUT_TOKENS:
      g_value_set_uint64 (value, self->max_output_tokens);
      break;
    case PROP_MAX_TOTAL_TOKENS:
      g_value_set_uint64 (value, self->max_total_tokens);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
set_limit (GObject      *object,
           GParamSpec   *pspec,
           guint64      *field,
           const GValue *value)
{
  if (*field != g_value_get_uint64 (value))
    {
      *field = g_value_get_uint64 (value);
      g_object_notify_by_pspec (object, pspec);
    }
}

static void
fj_budget_policy_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  FjBudgetPolicy *self = FJ_BUDGET_POLICY (object);

  switch (prop_id)
    {
    case PROP_MAX_INPUT_TOKENS:
      set_limit (object, pspec, &self->max_input_tokens, value);
      break;
    case PROP_MAX_OUTPUT_TOKENS:
      set_limit (object, pspec, &self->max_output_tokens, value);
      break;
    case PROP_MAX_TOTAL_TOKENS:
      set_limit (object, pspec, &self->max_total_tokens, value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fj_budget_policy_class_init (FjBudgetPolicyClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = fj_budget_policy_get_property;
  object_class->set_property = fj_budget_policy_set_property;

  /* The blurbs are what `forkjoin-tool plugins` shows for each option. */
  properties[PROP_MAX_INPUT_TOKENS] =
    g_param_spec_uint64 ("max-input-tokens", NULL,
                         "Input tokens (cache included) after which no further agent starts; 0 = no limit",
                         0, G_MAXUINT64, 0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_MAX_OUTPUT_TOKENS] =
    g_param_spec_uint64 ("max-output-tokens", NULL,
                         "Output tokens after which no further agent starts; 0 = no limit",
                         0, G_MAXUINT64, 0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_MAX_TOTAL_TOKENS] =
    g_param_spec_uint64 ("max-total-tokens", NULL,
                         "Input plus output tokens after which no further agent starts; 0 = no limit",
                         0, G_MAXUINT64, 0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
fj_budget_policy_init (FjBudgetPolicy *self)
{
}

FJ_PLUGIN_DEFINE (fj_plugin_registry_add (registry,
                                          FJ_PLUGIN_KIND_POLICY,
                                          "budget",
                                          FJ_TYPE_BUDGET_POLICY,
                                          "Skips the agents not started yet once a token budget is spent"))
