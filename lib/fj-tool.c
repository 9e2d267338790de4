/* fj-tool.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fj-tool.h"

#include "fj-agent-private.h"
#include "fj-error.h"

/**
 * FjTool:
 *
 * A tool an [class@Agent] offers the model.
 *
 * A tool has a [property@Tool:name] the model calls it by, a
 * [property@Tool:description] telling the model what it does, and a JSON
 * Schema of its input ([property@Tool:input-schema]). When the model asks
 * for it, the agent calls the [vfunc@Tool.invoke] virtual function with the
 * model's input as a JSON object in a string, and sends back the text it
 * returns, or the message of the error it sets (flagged `is_error`).
 *
 * Tools are invoked in a worker thread, so [vfunc@Tool.invoke] may block.
 * A tool that must run on the thread that started the agent (anything
 * written in gjs) sets [property@Tool:main-thread].
 *
 * Subclass it in C, Python or JavaScript:
 *
 * ```python
 * class Clock(Forkjoin.Tool):
 *     def do_invoke(self, input_json, cancellable):
 *         return datetime.datetime.now().isoformat()
 *
 * clock = Clock(name="clock", description="The current time")
 * ```
 *
 * Since: 1.0
 */

#define DEFAULT_INPUT_SCHEMA "{\"type\":\"object\",\"properties\":{}}"

typedef struct
{
  char *name;
  char *description;
  char *input_schema;
  guint main_thread : 1;
} FjToolPrivate;

enum {
  PROP_0,
  PROP_NAME,
  PROP_DESCRIPTION,
  PROP_INPUT_SCHEMA,
  PROP_MAIN_THREAD,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_TYPE_WITH_PRIVATE (FjTool, fj_tool, G_TYPE_OBJECT)

typedef struct
{
  GTask *task;
  GTaskThreadFunc func;
} PoolJob;

static void
pool_job_run (gpointer data,
              gpointer user_data)
{
  PoolJob *job = data;

  job->func (job->task,
             g_task_get_source_object (job->task),
             g_task_get_task_data (job->task),
             g_task_get_cancellable (job->task));
  g_object_unref (job->task);
  g_free (job);
}

GThreadPool *
_fj_thread_pool_new (int      max_threads,
                     GError **error)
{
  return g_thread_pool_new (pool_job_run, NULL, max_threads, FALSE, error);
}

void
_fj_thread_pool_run_task (GThreadPool     *pool,
                          GTask           *task,
                          GTaskThreadFunc  func)
{
  g_autoptr(GError) error = NULL;
  PoolJob *job;

  g_assert (G_IS_TASK (task));
  g_assert (func != NULL);

  if (pool == NULL)
    {
      g_task_run_in_thread (task, func);
      return;
    }

  job = g_new0 (PoolJob, 1);
  job->task = g_object_ref (task);
  job->func = func;

  if (!g_thread_pool_push (pool, job, &error))
    {
      g_object_unref (job->task);
      g_free (job);
      g_task_return_error (task, g_steal_pointer (&error));
    }
}

static gboolean
is_valid_name (const char *name)
{
  gsize len = 0;

  if (name == NULL)
    return FALSE;

  for (const char *p = name; *p; p++, len++)
    {
      if (!g_ascii_isalnum (*p) && *p != '_' && *p != '-')
        return FALSE;
    }

  return len >= 1 && len <= 64;
}

static char *
fj_tool_real_invoke (FjTool        *self,
                     const char    *input_json,
                     GCancellable  *cancellable,
                     GError       **error)
{
  FjToolPrivate *priv = fj_tool_get_instance_private (self);

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
               "Tool '%s' (%s) does not implement invoke",
               priv->name ? priv->name : "", G_OBJECT_TYPE_NAME (self));
  return NULL;
}

static void
fj_tool_finalize (GObject *object)
{
  FjTool *self = FJ_TOOL (object);
  FjToolPrivate *priv = fj_tool_get_instance_private (self);

  g_clear_pointer (&priv->name, g_free);
  g_clear_pointer (&priv->description, g_free);
  g_clear_pointer (&priv->input_schema, g_free);

  G_OBJECT_CLASS (fj_tool_parent_class)->finalize (object);
}

static void
fj_tool_get_property (GObject    *object,
                      guint       prop_id,
                      GValue     *value,
                      GParamSpec *pspec)
{
  FjTool *self = FJ_TOOL (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, fj_tool_get_name (self));
      break;

    case PROP_DESCRIPTION:
      g_value_set_string (value, fj_tool_get_description (self));
      break;

    case PROP_INPUT_SCHEMA:
      g_value_set_string (value, fj_tool_get_input_schema (self));
      break;

    case PROP_MAIN_THREAD:
      g_value_set_boolean (value, fj_tool_get_main_thread (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fj_tool_set_property (GObject      *object,
                      guint         prop_id,
                      const GValue *value,
                      GParamSpec   *pspec)
{
  FjTool *self = FJ_TOOL (object);

  switch (prop_id)
    {
    case PROP_NAME:
      fj_tool_set_name (self, g_value_get_string (value));
      break;

    case PROP_DESCRIPTION:
      fj_tool_set_description (self, g_value_get_string (value));
      break;

    case PROP_INPUT_SCHEMA:
      fj_tool_set_input_schema (self, g_value_get_string (value));
      break;

    case PROP_MAIN_THREAD:
      fj_tool_set_main_thread (self, g_value_get_boolean (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fj_tool_class_init (FjToolClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = fj_tool_finalize;
  object_class->get_property = fj_tool_get_property;
  object_class->set_property = fj_tool_set_property;

  klass->invoke = fj_tool_real_invoke;

  /**
   * FjTool:name:
   *
   * The name the model calls the tool by: 1 to 64 ASCII letters, digits,
   * `_` or `-`.
   *
   * Since: 1.0
   */
  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, "The tool's name as the model sees it",
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjTool:description:
   *
   * What the tool does and when to use it, for the model to read.
   *
   * Since: 1.0
   */
  properties[PROP_DESCRIPTION] =
    g_param_spec_string ("description", NULL, "What the model is told the tool does",
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjTool:input-schema:
   *
   * The JSON Schema of the tool's input, as a JSON object in a string.
   * Setting %NULL restores the default, an object without properties
   * (`{"type":"object","properties":{}}`).
   *
   * Since: 1.0
   */
  properties[PROP_INPUT_SCHEMA] =
    g_param_spec_string ("input-schema", NULL, NULL,
                         DEFAULT_INPUT_SCHEMA,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjTool:main-thread:
   *
   * Whether [vfunc@Tool.invoke] must run on the thread that started the
   * agent (from an idle callback of its thread-default main context)
   * instead of a worker thread. Tools written in gjs need this.
   *
   * Since: 1.0
   */
  properties[PROP_MAIN_THREAD] =
    g_param_spec_boolean ("main-thread", NULL, NULL,
                          FALSE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
fj_tool_init (FjTool *self)
{
  FjToolPrivate *priv = fj_tool_get_instance_private (self);

  priv->input_schema = g_strdup (DEFAULT_INPUT_SCHEMA);
}

/**
 * fj_tool_get_name:
 * @self: a #FjTool
 *
 * Gets the name the model calls the tool by.
 *
 * Returns: (transfer none) (nullable): the name
 *
 * Since: 1.0
 */
const char *
fj_tool_get_name (FjTool *self)
{
  FjToolPrivate *priv = fj_tool_get_instance_private (self);

  g_return_val_if_fail (FJ_IS_TOOL (self), NULL);

  return priv->name;
}

/**
 * fj_tool_set_name:
 * @self: a #FjTool
 * @name: (nullable): the name
 *
 * Sets the name the model calls the tool by. It is checked by
 * [method@Tool.to_json].
 *
 * Since: 1.0
 */
void
fj_tool_set_name (FjTool     *self,
                  const char *name)
{
  FjToolPrivate *priv = fj_tool_get_instance_private (self);

  g_return_if_fail (FJ_IS_TOOL (self));

  if (g_strcmp0 (priv->name, name) == 0)
    return;

  g_free (priv->name);
  priv->name = g_strdup (name);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NAME]);
}

/**
 * fj_tool_get_description:
 * @self: a #FjTool
 *
 * Gets the description the model reads.
 *
 * Returns: (transfer none) (nullable): the description
 *
 * Since: 1.0
 */
const char *
fj_tool_get_description (FjTool *self)
{
  FjToolPrivate *priv = fj_tool_get_instance_private (self);

  g_return_val_if_fail (FJ_IS_TOOL (self), NULL);

  return priv->description;
}

/**
 * fj_tool_set_description:
 * @self: a #FjTool
 * @description: (nullable): the description
 *
 * Sets what the tool does, for the model to read.
 *
 * Since: 1.0
 */
void
fj_tool_set_description (FjTool     *self,
                         const char *description)
{
  FjToolPrivate *priv = fj_tool_get_instance_private (self);

  g_return_if_fail (FJ_IS_TOOL (self));

  if (g_strcmp0 (priv->description, description) == 0)
    return;

  g_free (priv->description);
  priv->description = g_strdup (description);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DESCRIPTION]);
}

/**
 * fj_tool_get_input_schema:
 * @self: a #FjTool
 *
 * Gets the JSON Schema of the tool's input.
 *
 * Returns: (transfer none): the schema, a JSON object in a string
 *
 * Since: 1.0
 */
const char *
fj_tool_get_input_schema (FjTool *self)
{
  FjToolPrivate *priv = fj_tool_get_instance_private (self);

  g_return_val_if_fail (FJ_IS_TOOL (self), NULL);

  return priv->input_schema;
}

/**
 * fj_tool_set_input_schema:
 * @self: a #FjTool
 * @input_schema: (nullable): a JSON Schema object in a string, or %NULL
 *   for an object without properties
 *
 * Sets the JSON Schema of the tool's input. It is parsed by
 * [method@Tool.to_json].
 *
 * Since: 1.0
 */
void
fj_tool_set_input_schema (FjTool     *self,
                          const char *input_schema)
{
  FjToolPrivate *priv = fj_tool_get_instance_private (self);

  g_return_if_fail (FJ_IS_TOOL (self));

  if (input_schema == NULL)
    input_schema = DEFAULT_INPUT_SCHEMA;

  if (g_strcmp0 (priv->input_schema, input_schema) == 0)
    return;

  g_free (priv->input_schema);
  priv->input_schema = g_strdup (input_schema);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_INPUT_SCHEMA]);
}

/**
 * fj_tool_get_main_thread:
 * @self: a #FjTool
 *
 * Gets whether the tool runs on the main thread.
 *
 * Returns: %TRUE if [vfunc@Tool.invoke] runs on the main thread
 *
 * Since: 1.0
 */
gboolean
fj_tool_get_main_thread (FjTool *self)
{
  FjToolPrivate *priv = fj_tool_get_instance_private (self);

  g_return_val_if_fail (FJ_IS_TOOL (self), FALSE);

  return priv->main_thread;
}

/**
 * fj_tool_set_main_thread:
 * @self: a #FjTool
 * @main_thread: whether to run on the main thread
 *
 * Sets whether [vfunc@Tool.invoke] runs on the thread that started the
 * agent rather than in a worker thread.
 *
 * Since: 1.0
 */
void
fj_tool_set_main_thread (FjTool   *self,
                         gboolean  main_thread)
{
  FjToolPrivate *priv = fj_tool_get_instance_private (self);

  g_return_if_fail (FJ_IS_TOOL (self));

  main_thread = !!main_thread;
  if (priv->main_thread == main_thread)
    return;

  priv->main_thread = main_thread;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAIN_THREAD]);
}

/**
 * fj_tool_to_json:
 * @self: a #FjTool
 * @error: return location for a #GError
 *
 * Builds the tool's definition as the Messages API takes it in `tools`:
 * `{"name": ..., "description": ..., "input_schema": {...}}`.
 *
 * Fails with %FJ_ERROR_INVALID_REQUEST, naming the tool, when the name is
 * not 1 to 64 letters, digits, `_` or `-`, or when the input schema is not
 * a JSON object.
 *
 * Returns: (transfer full): a JSON object node, or %NULL with @error set
 *
 * Since: 1.0
 */
JsonNode *
fj_tool_to_json (FjTool  *self,
                 GError **error)
{
  FjToolPrivate *priv = fj_tool_get_instance_private (self);
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local_error = NULL;
  JsonNode *schema;
  JsonObject *object;
  JsonNode *node;

  g_return_val_if_fail (FJ_IS_TOOL (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!is_valid_name (priv->name))
    {
      g_set_error (error, FJ_ERROR, FJ_ERROR_INVALID_REQUEST,
                   "Tool '%s' (%s): a tool name must be 1 to 64 letters, digits, '_' or '-'",
                   priv->name ? priv->name : "", G_OBJECT_TYPE_NAME (self));
      return NULL;
    }

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, priv->input_schema, -1, &local_error))
    {
      g_set_error (error, FJ_ERROR, FJ_ERROR_INVALID_REQUEST,
                   "Tool '%s': its input schema is not valid JSON: %s",
                   priv->name, local_error->message);
      return NULL;
    }

  schema = json_parser_get_root (parser);
  if (schema == NULL || !JSON_NODE_HOLDS_OBJECT (schema))
    {
      g_set_error (error, FJ_ERROR, FJ_ERROR_INVALID_REQUEST,
                   "Tool '%s': its input schema is not a JSON object",
                   priv->name);
      return NULL;
    }

  object = json_object_new ();
  json_object_set_string_member (object, "name", priv->name);
  if (priv->description != NULL)
    json_object_set_string_member (object, "description", priv->description);
  json_object_set_member (object, "input_schema", json_node_ref (schema));

  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, object);
  return node;
}

/**
 * fj_tool_invoke:
 * @self: a #FjTool
 * @input_json: the model's input, a JSON object in a string
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Runs the tool in the calling thread through [vfunc@Tool.invoke]. A tool
 * that does not implement it fails with %G_IO_ERROR_NOT_SUPPORTED. An
 * implementation that returns %NULL without an error fails with
 * %FJ_ERROR_PLUGIN: that is what gjs does when a JavaScript tool without
 * [property@Tool:main-thread] is called from a worker thread. A tool with
 * nothing to say returns an empty string.
 *
 * For more details, see [method@Tool.invoke_async], which is the
 * asynchronous version of this call.
 *
 * Returns: (transfer full): the result text, or %NULL with @error set
 *
 * Since: 1.0
 */
char *
fj_tool_invoke (FjTool        *self,
                const char    *input_json,
                GCancellable  *cancellable,
                GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  char *ret;

  g_return_val_if_fail (FJ_IS_TOOL (self), NULL);
  g_return_val_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (input_json == NULL)
    input_json = "{}";

  ret = FJ_TOOL_GET_CLASS (self)->invoke (self, input_json, cancellable, &local_error);
  if (ret == NULL && local_error == NULL)
    g_set_error (&local_error, FJ_ERROR, FJ_ERROR_PLUGIN,
                 "tool %s returned neither a result nor an error "
                 "(in Python, raise GLib.Error to fail; in gjs, set main-thread)",
                 fj_tool_get_name (self) != NULL ? fj_tool_get_name (self) : G_OBJECT_TYPE_NAME (self));

  if (local_error != NULL)
    {
      g_free (ret);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  return ret;
}

static void
invoke_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  FjTool *self = source_object;
  const char *input_json = task_data;
  GError *error = NULL;
  char *ret;

  g_assert (FJ_IS_TOOL (self));

  if (g_task_return_error_if_cancelled (task))
    return;

  ret = fj_tool_invoke (self, input_json, cancellable, &error);
  if (ret == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, ret, g_free);
}

static gboolean
invoke_idle_cb (gpointer user_data)
{
  GTask *task = user_data;

  invoke_thread (task,
                 g_task_get_source_object (task),
                 g_task_get_task_data (task),
                 g_task_get_cancellable (task));

  return G_SOURCE_REMOVE;
}

void
_fj_tool_invoke_async (FjTool              *self,
                       const char          *input_json,
                       GThreadPool         *pool,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_assert (FJ_IS_TOOL (self));
  g_assert (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, fj_tool_invoke_async);
  g_task_set_task_data (task, g_strdup (input_json ? input_json : "{}"), g_free);

  if (fj_tool_get_main_thread (self))
    {
      g_autoptr(GSource) source = g_idle_source_new ();

      /* Attached to the context the task was created in: the caller's
       * thread-default context. */
      g_task_attach_source (task, source, invoke_idle_cb);
    }
  else
    {
      _fj_thread_pool_run_task (pool, task, invoke_thread);
    }
}

/**
 * fj_tool_invoke_async:
 * @self: a #FjTool
 * @input_json: the model's input, a JSON object in a string
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): a #GAsyncReadyCallback to
 *   call when the tool has run
 * @user_data: data for @callback
 *
 * Runs the tool without blocking the caller: in a worker thread, or, for
 * a tool with [property@Tool:main-thread], from an idle callback of the
 * thread-default main context current at this call.
 *
 * For more details, see [method@Tool.invoke], which is the synchronous
 * version of this call.
 *
 * When the operation is finished, @callback will be called. You should
 * then call [method@Tool.invoke_finish] to get the result.
 *
 * Since: 1.0
 */
void
fj_tool_invoke_async (FjTool              *self,
                      const char          *input_json,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_return_if_fail (FJ_IS_TOOL (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  _fj_tool_invoke_async (self, input_json, NULL, cancellable, callback, user_data);
}

/**
 * fj_tool_invoke_finish:
 * @self: a #FjTool
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Tool.invoke_async].
 *
 * Returns: (transfer full): the result text, or %NULL with @error set
 *
 * Since: 1.0
 */
char *
fj_tool_invoke_finish (FjTool        *self,
                       GAsyncResult  *result,
                       GError       **error)
{
  g_return_val_if_fail (FJ_IS_TOOL (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
