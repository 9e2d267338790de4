/* fj-concat-synthesizer.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <forkjoin.h>

/* The `concat` synthesizer: no model call. The successful outputs as
 * Markdown sections, then the agents that failed and why. */

#define FJ_TYPE_CONCAT_SYNTHESIZER (fj_concat_synthesizer_get_type ())

G_DECLARE_FINAL_TYPE (FjConcatSynthesizer, fj_concat_synthesizer, FJ, CONCAT_SYNTHESIZER, GObject)

struct _FjConcatSynthesizer
{
  GObject parent_instance;

  guint   heading_level;
  guint   include_failed : 1;
};

static void synthesizer_iface_init (FjSynthesizerInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (FjConcatSynthesizer, fj_concat_synthesizer, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (FJ_TYPE_SYNTHESIZER, synthesizer_iface_init))

enum {
  PROP_0,
  PROP_HEADING_LEVEL,
  PROP_INCLUDE_FAILED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
append_heading (GString    *out,
                guint       level,
                const char *text)
{
  for (guint i = 0; i < level; i++)
    g_string_append_c (out, '#');
  g_string_append_c (out, ' ');
  g_string_append (out, text);
  g_string_append (out, "\n\n");
}

static void
append_block (GString    *out,
              const char *text)
{
  g_autofree char *stripped = g_strstrip (g_strdup (text ? text : ""));

  g_string_append (out, stripped);
  g_string_append (out, "\n\n");
}

static const char *
status_nick (FjAgentStatus status)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (FJ_TYPE_AGENT_STATUS);
  GEnumValue *value = g_enum_get_value (klass, status);

  return value ? value->value_nick : "unknown";
}

static char *
fj_concat_synthesizer_synthesize (FjSynthesizer  *synthesizer,
                                  const char     *input,
                                  GPtrArray      *results,
                                  GCancellable   *cancellable,
                                  GError        **error)
{
  FjConcatSynthesizer *self = FJ_CONCAT_SYNTHESIZER (synthesizer);
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GString) missing = g_string_new (NULL);
  g_autofree char *heading = NULL;
  /* The agents' sections sit one level below the input's heading. */
  guint level = MAX (1, self->heading_level - 1);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  /* A heading is one line. */
  heading = g_strstrip (g_strdelimit (g_strdup (input ? input : ""), "\r\n", ' '));
  append_heading (out, level, *heading ? heading : "Results");

  for (guint i = 0; results != NULL && i < results->len; i++)
    {
      FjAgentResult *result = g_ptr_array_index (results, i);
      const char *name = fj_agent_result_get_agent_name (result);
      FjAgentStatus status = fj_agent_result_get_status (result);

      if (status == FJ_AGENT_STATUS_SUCCESS)
        {
          append_heading (out, self->heading_level, name);
          append_block (out, fj_agent_result_get_output (result));
        }
      else if (self->include_failed)
        {
          const char *code = fj_agent_result_get_error_code (result);
          const char *message = fj_agent_result_get_error_message (result);

          g_string_append_printf (missing, "- %s: %s", name, status_nick (status));
          if (code != NULL)
            g_string_append_printf (missing, " (%s)", code);
          if (message != NULL)
            g_string_append_printf (missing, ": %s", message);
          g_string_append_c (missing, '\n');
        }
    }

  if (missing->len > 0)
    {
      append_heading (out, self->heading_level, "Missing");
      g_string_append (out, missing->str);
    }
  else
    {
      /* one trailing newline, not a blank line */
      while (out->len > 0 && out->str[out->len - 1] == '\n')
        g_string_truncate (out, out->len - 1);
      g_string_append_c (out, '\n');
    }

  return g_strdup (out->str);
}

static void
synthesizer_iface_init (FjSynthesizerInterface *iface)
{
  iface->synthesize = fj_concat_synthesizer_synthesize;
}

static void
fj_concat_synthesizer_get_property (GObject    *object,
                                    guint       prop_id,
                                    GValue     *value,
                                    GParamSpec *pspec)
{
  FjConcatSynthesizer *self = FJ_CONCAT_SYNTHESIZER (object);

  switch (prop_id)
    {
    case PROP_HEADING_LEVEL:
      g_value_set_uint (value, self->heading_level);
      break;
    case PROP_INCLUDE_FAILED:
      g_value_set_boolean (value, self->include_failed);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fj_concat_synthesizer_set_property (GObject      *object,
                                    guint         prop_id,
                                    const GValue *value,
                                    GParamSpec   *pspec)
{
  FjConcatSynthesizer *self = FJ_CONCAT_SYNTHESIZER (object);

  switch (prop_id)
    {
    case PROP_HEADING_LEVEL:
      if (self->heading_level != g_value_get_uint (value))
        {
          self->heading_level = g_value_get_uint (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_INCLUDE_FAILED:
      if (self->include_failed != g_value_get_boolean (value))
        {
          self->include_failed = g_value_get_boolean (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fj_concat_synthesizer_class_init (FjConcatSynthesizerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = fj_concat_synthesizer_get_property;
  object_class->set_property = fj_concat_synthesizer_set_property;

  /* The blurbs are what `forkjoin-tool plugins` shows for each option. */
  properties[PROP_HEADING_LEVEL] =
    g_param_spec_uint ("heading-level", NULL,
                       "Markdown level of each agent's heading; the input's heading is one above",
                       1, 6, 2,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_INCLUDE_FAILED] =
    g_param_spec_boolean ("include-failed", NULL,
                          "List the agents that failed, and why, in a closing Missing section",
                          TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
fj_concat_synthesizer_init (FjConcatSynthesizer *self)
{
  self->heading_level = 2;
  self->include_failed = TRUE;
}

FJ_PLUGIN_DEFINE (fj_plugin_registry_add (registry,
                                          FJ_PLUGIN_KIND_SYNTHESIZER,
                                          "concat",
                                          FJ_TYPE_CONCAT_SYNTHESIZER,
                                          "Joins the successful outputs as Markdown sections and lists the missing ones"))
