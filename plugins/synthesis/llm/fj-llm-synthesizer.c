/* fj-llm-synthesizer.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <forkjoin.h>

#include "fj-llm-resources.h"

/* The `llm` synthesizer: a synthesis agent. It gets the question, the
 * successful outputs as sections and, when some agents failed, which ones
 * and why (never their instructions), and is asked to name the gaps and to
 * resolve contradictions by naming the perspectives. The prompts are the
 * templates in templates/, compiled into the module as a GResource.
 *
 * It runs the agent through the public fj_agent_run_async(): the module
 * loads against the shared library, whose private symbols are hidden. That
 * is the same turn loop, and the step gets its own FjAgentResult (usage,
 * duration, attempts), which get_result gives. */

#define TEMPLATE_PREFIX "/org/forkjoin/plugins/synthesis/llm/"

/* How much of a failed agent's error message the prompt quotes. */
#define MAX_ERROR_CHARS 200

#define FJ_TYPE_LLM_SYNTHESIZER (fj_llm_synthesizer_get_type ())

G_DECLARE_FINAL_TYPE (FjLlmSynthesizer, fj_llm_synthesizer, FJ, LLM_SYNTHESIZER, GObject)

struct _FjLlmSynthesizer
{
  GObject        parent_instance;

  char          *model;
  char          *instructions;
  char          *name;
  guint          max_tokens;
  guint          max_turns;
  FjClient      *client;

  /* The last synthesis step's result; set from the thread that ran it. */
  GMutex         mutex;
  FjAgentResult *result;
};

static void synthesizer_iface_init (FjSynthesizerInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (FjLlmSynthesizer, fj_llm_synthesizer, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (FJ_TYPE_SYNTHESIZER, synthesizer_iface_init))

enum {
  PROP_0,
  PROP_MODEL,
  PROP_INSTRUCTIONS,
  PROP_MAX_TOKENS,
  PROP_MAX_TURNS,
  PROP_NAME,
  PROP_CLIENT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The system template: the default of the instructions option. */
static const char *default_instructions;

static char *
load_template (const char *name)
{
  g_autofree char *path = g_strconcat (TEMPLATE_PREFIX, name, NULL);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;

  bytes = g_resource_lookup_data (fj_llm_get_resource (), path,
                                  G_RESOURCE_LOOKUP_FLAGS_NONE, &error);
  /* The templates are compiled in: a missing one is a build error. */
  if (bytes == NULL)
    g_error ("llm synthesizer: %s", error->message);

  return g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

/* Replaces each {{key}} of @template with its value from the NULL-ended
 * key/value pairs; values are not scanned again, so an output that holds
 * "{{" stays as it is. */
static char *
expand_template (const char *template,
                 ...)
{
  GString *out = g_string_new (NULL);
  const char *p = template;

  while (*p != '\0')
    {
      const char *open = strstr (p, "{{");
      const char *close;
      const char *value = NULL;
      va_list args;

      if (open == NULL || (close = strstr (open + 2, "}}")) == NULL)
        {
          g_string_append (out, p);
          break;
        }

      g_string_append_len (out, p, open - p);

      va_start (args, template);
      for (const char *key = va_arg (args, const char *);
           key != NULL;
           key = va_arg (args, const char *))
        {
          const char *candidate = va_arg (args, const char *);

          if (strlen (key) == (gsize) (close - open - 2) &&
              strncmp (key, open + 2, close - open - 2) == 0)
            {
              value = candidate;
              break;
            }
        }
      va_end (args);

      if (value != NULL)
        g_string_append (out, value);
      else
        g_string_append_len (out, open, close + 2 - open);

      p = close + 2;
    }

  return g_string_free (out, FALSE);
}

static const char *
status_nick (FjAgentStatus status)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (FJ_TYPE_AGENT_STATUS);
  GEnumValue *value = g_enum_get_value (klass, status);

  return value ? value->value_nick : "unknown";
}

/* A failed agent's error message, on one line and cut short. */
static char *
short_message (const char *message)
{
  g_autofree char *line = g_strstrip (g_strdelimit (g_strdup (message), "\r\n\t", ' '));

  if (g_utf8_strlen (line, -1) > MAX_ERROR_CHARS)
    {
      char *end = g_utf8_offset_to_pointer (line, MAX_ERROR_CHARS);

      *end = '\0';
      return g_strconcat (line, "…", NULL);
    }

  return g_steal_pointer (&line);
}

/* The user message: the question, one section per successful agent, and
 * the missing ones with why. Only names, statuses and errors of the failed
 * agents go in, never their instructions. */
static char *
build_user_message (const char *input,
                    GPtrArray  *results)
{
  g_autofree char *user_template = load_template ("user.txt");
  g_autoptr(GString) sections = g_string_new (NULL);
  g_autoptr(GString) failures = g_string_new (NULL);
  g_autofree char *missing = NULL;
  guint n_agents = results != NULL ? results->len : 0;
  guint n_missing = 0;

  for (guint i = 0; i < n_agents; i++)
    {
      FjAgentResult *result = g_ptr_array_index (results, i);
      const char *name = fj_agent_result_get_agent_name (result);
      FjAgentStatus status = fj_agent_result_get_status (result);

      if (status == FJ_AGENT_STATUS_SUCCESS)
        {
          g_autofree char *output = g_strstrip (g_strdup (fj_agent_result_get_output (result) ?: ""));

          g_string_append_printf (sections, "## %s\n\n%s\n\n", name, output);
        }
      else
        {
          const char *code = fj_agent_result_get_error_code (result);
          const char *message = fj_agent_result_get_error_message (result);

          n_missing++;
          g_string_append_printf (failures, "- %s: %s", name, status_nick (status));
          if (code != NULL && g_strcmp0 (code, status_nick (status)) != 0)
            g_string_append_printf (failures, " (%s)", code);
          if (message != NULL && *message != '\0')
            {
              g_autofree char *text = short_message (message);

              g_string_append_printf (failures, ": %s", text);
            }
          g_string_append_c (failures, '\n');
        }
    }

  if (sections->len == 0)
    g_string_append (sections, "(no agent answered)\n\n");

  if (n_missing > 0)
    {
      g_autofree char *missing_template = load_template ("missing.txt");
      g_autofree char *n_missing_text = g_strdup_printf ("%u", n_missing);
      g_autofree char *n_agents_text = g_strdup_printf ("%u", n_agents);

      missing = expand_template (missing_template,
                                 "n_missing", n_missing_text,
                                 "n_agents", n_agents_text,
                                 "failures", failures->str,
                                 NULL);
    }

  return expand_template (user_template,
                          "input", input != NULL ? input : "",
                          "sections", sections->str,
                          "missing", missing != NULL ? missing : "",
                          NULL);
}

static FjAgent *
create_agent (FjLlmSynthesizer *self)
{
  FjAgent *agent = fj_agent_new (self->name);

  fj_agent_set_model (agent, self->model);
  fj_agent_set_instructions (agent, self->instructions);
  fj_agent_set_max_tokens (agent, self->max_tokens);
  fj_agent_set_max_turns (agent, self->max_turns);

  return agent;
}

static void
set_result (FjLlmSynthesizer *self,
            FjAgentResult    *result)
{
  g_mutex_lock (&self->mutex);
  g_set_object (&self->result, result);
  g_mutex_unlock (&self->mutex);
}

/* The synthesis text of a settled run, or NULL with the agent's error. */
static char *
output_of (FjLlmSynthesizer  *self,
           FjAgentResult     *result,
           GError           **error)
{
  const GError *agent_error;

  set_result (self, result);

  if (fj_agent_result_get_status (result) == FJ_AGENT_STATUS_SUCCESS)
    return g_strdup (fj_agent_result_get_output (result) ?: "");

  agent_error = fj_agent_result_get_error (result);
  if (agent_error != NULL)
    g_propagate_error (error, g_error_copy (agent_error));
  else
    g_set_error (error, FJ_ERROR, FJ_ERROR_PLUGIN, "%s: the synthesis agent %s",
                 self->name, status_nick (fj_agent_result_get_status (result)));

  return NULL;
}

static char *
fj_llm_synthesizer_synthesize (FjSynthesizer  *synthesizer,
                               const char     *input,
                               GPtrArray      *results,
                               GCancellable   *cancellable,
                               GError        **error)
{
  FjLlmSynthesizer *self = FJ_LLM_SYNTHESIZER (synthesizer);
  g_autoptr(FjAgent) agent = create_agent (self);
  g_autofree char *user = build_user_message (input, results);
  g_autoptr(FjAgentResult) result = NULL;

  set_result (self, NULL);

  /* Runs the async turn loop on a private main context. */
  result = fj_agent_run_sync (agent, self->client, user, cancellable, error);
  if (result == NULL)
    return NULL;

  return output_of (self, result, error);
}

static void
run_cb (GObject      *object,
        GAsyncResult *result,
        gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  FjLlmSynthesizer *self = g_task_get_source_object (task);
  g_autoptr(FjAgentResult) agent_result = NULL;
  g_autoptr(GError) error = NULL;
  char *output;

  agent_result = fj_agent_run_finish (FJ_AGENT (object), result, &error);
  if (agent_result == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  output = output_of (self, agent_result, &error);
  if (output == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, output, g_free);
}

static void
fj_llm_synthesizer_synthesize_async (FjSynthesizer       *synthesizer,
                                     const char          *input,
                                     GPtrArray           *results,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  FjLlmSynthesizer *self = FJ_LLM_SYNTHESIZER (synthesizer);
  g_autoptr(FjAgent) agent = create_agent (self);
  g_autofree char *user = build_user_message (input, results);
  GTask *task;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, fj_llm_synthesizer_synthesize_async);
  /* A cancelled synthesis still gives its step's result and error. */
  g_task_set_check_cancellable (task, FALSE);

  set_result (self, NULL);

  fj_agent_run_async (agent, self->client, user, cancellable, run_cb, task);
}

static char *
fj_llm_synthesizer_synthesize_finish (FjSynthesizer  *synthesizer,
                                      GAsyncResult   *result,
                                      GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, synthesizer), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static FjAgentResult *
fj_llm_synthesizer_get_result (FjSynthesizer *synthesizer)
{
  FjLlmSynthesizer *self = FJ_LLM_SYNTHESIZER (synthesizer);
  FjAgentResult *result;

  /* The reference the synthesizer keeps until the next synthesis. */
  g_mutex_lock (&self->mutex);
  result = self->result;
  g_mutex_unlock (&self->mutex);

  return result;
}

static void
synthesizer_iface_init (FjSynthesizerInterface *iface)
{
  iface->synthesize = fj_llm_synthesizer_synthesize;
  iface->synthesize_async = fj_llm_synthesizer_synthesize_async;
  iface->synthesize_finish = fj_llm_synthesizer_synthesize_finish;
  iface->get_result = fj_llm_synthesizer_get_result;
}

static void
set_string (GObject     *object,
            char       **field,
            const GValue *value,
            GParamSpec  *pspec)
{
  const char *str = g_value_get_string (value);

  /* NULL restores the default. */
  if (str == NULL)
    str = G_PARAM_SPEC_STRING (pspec)->default_value;

  if (g_strcmp0 (*field, str) != 0)
    {
      g_free (*field);
      *field = g_strdup (str);
      g_object_notify_by_pspec (object, pspec);
    }
}

static void
set_uint (GObject      *object,
          guint        *field,
          const GValue *value,
          GParamSpec   *pspec)
{
  if (*field != g_value_get_uint (value))
    {
      *field = g_value_get_uint (value);
      g_object_notify_by_pspec (object, pspec);
    }
}

static void
fj_llm_synthesizer_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  FjLlmSynthesizer *self = FJ_LLM_SYNTHESIZER (object);

  switch (prop_id)
    {
    case PROP_MODEL:
      g_value_set_string (value, self->model);
      break;
    case PROP_INSTRUCTIONS:
      g_value_set_string (value, self->instructions);
      break;
    case PROP_MAX_TOKENS:
      g_value_set_uint (value, self->max_tokens);
      break;
    case PROP_MAX_TURNS:
      g_value_set_uint (value, self->max_turns);
      break;
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_CLIENT:
      g_value_set_object (value, self->client);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fj_llm_synthesizer_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  FjLlmSynthesizer *self = FJ_LLM_SYNTHESIZER (object);

  switch (prop_id)
    {
    case PROP_MODEL:
      set_string (object, &self->model, value, pspec);
      break;
    case PROP_INSTRUCTIONS:
      set_string (object, &self->instructions, value, pspec);
      break;
    case PROP_MAX_TOKENS:
      set_uint (object, &self->max_tokens, value, pspec);
      break;
    case PROP_MAX_TURNS:
      set_uint (object, &self->max_turns, value, pspec);
      break;
    case PROP_NAME:
      set_string (object, &self->name, value, pspec);
      break;
    case PROP_CLIENT:
      if (g_set_object (&self->client, g_value_get_object (value)))
        g_object_notify_by_pspec (object, pspec);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fj_llm_synthesizer_dispose (GObject *object)
{
  FjLlmSynthesizer *self = FJ_LLM_SYNTHESIZER (object);

  g_clear_object (&self->client);
  g_clear_object (&self->result);

  G_OBJECT_CLASS (fj_llm_synthesizer_parent_class)->dispose (object);
}

static void
fj_llm_synthesizer_finalize (GObject *object)
{
  FjLlmSynthesizer *self = FJ_LLM_SYNTHESIZER (object);

  g_free (self->model);
  g_free (self->instructions);
  g_free (self->name);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (fj_llm_synthesizer_parent_class)->finalize (object);
}

static void
fj_llm_synthesizer_class_init (FjLlmSynthesizerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  g_autofree char *system = load_template ("system.txt");

  object_class->get_property = fj_llm_synthesizer_get_property;
  object_class->set_property = fj_llm_synthesizer_set_property;
  object_class->dispose = fj_llm_synthesizer_dispose;
  object_class->finalize = fj_llm_synthesizer_finalize;

  /* A pspec's default must outlive the class: an interned copy. */
  default_instructions = g_intern_string (g_strstrip (system));

  /* The blurbs are what `forkjoin-tool plugins` shows for each option. */
  properties[PROP_MODEL] =
    g_param_spec_string ("model", NULL,
                         "The model of the synthesis agent",
                         FJ_AGENT_DEFAULT_MODEL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_INSTRUCTIONS] =
    g_param_spec_string ("instructions", NULL,
                         "The synthesis agent's system prompt",
                         default_instructions,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_MAX_TOKENS] =
    g_param_spec_uint ("max-tokens", NULL,
                       "The most tokens the synthesis agent writes per turn",
                       1, G_MAXINT, 1024,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_MAX_TURNS] =
    g_param_spec_uint ("max-turns", NULL,
                       "The most turns the synthesis agent takes",
                       1, G_MAXINT, 5,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL,
                         "The synthesis agent's name, in its result and in logs",
                         "synthesizer",
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /* Not an option: a fork-join task sets it to its runner's client when
   * it is unset. */
  properties[PROP_CLIENT] =
    g_param_spec_object ("client", NULL,
                         "The client the synthesis agent sends with",
                         FJ_TYPE_CLIENT,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
fj_llm_synthesizer_init (FjLlmSynthesizer *self)
{
  g_mutex_init (&self->mutex);
}

FJ_PLUGIN_DEFINE (fj_plugin_registry_add (registry,
                                          FJ_PLUGIN_KIND_SYNTHESIZER,
                                          "llm",
                                          FJ_TYPE_LLM_SYNTHESIZER,
                                          "A synthesis agent merges the outputs, naming the gaps and resolving contradictions"))
