/* fj-synthesizer.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fj-synthesizer.h"

#include "fj-error.h"

/**
 * FjSynthesizer:
 *
 * The join step of a fork-join: merges every agent's [class@AgentResult]
 * into one text.
 *
 * An implementation written in any language implements
 * [vfunc@Synthesizer.synthesize], which blocks; the default
 * [vfunc@Synthesizer.synthesize_async] runs it in a worker thread, or in
 * an idle callback on the calling thread's thread-default main context when
 * the object has a boolean `main-thread` property set to %TRUE (for
 * implementations that must not run on another thread, such as gjs ones).
 * An implementation that waits on I/O overrides the async pair instead.
 *
 * Since: 1.0
 */

G_DEFINE_INTERFACE (FjSynthesizer, fj_synthesizer, G_TYPE_OBJECT)

typedef struct
{
  char *input;
  GPtrArray *results;
} SynthesizeData;

static void
synthesize_data_free (SynthesizeData *data)
{
  g_free (data->input);
  g_ptr_array_unref (data->results);
  g_free (data);
}

static gboolean
wants_main_thread (FjSynthesizer *self)
{
  GParamSpec *pspec;
  gboolean main_thread = FALSE;

  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (self), "main-thread");
  if (pspec == NULL || pspec->value_type != G_TYPE_BOOLEAN ||
      (pspec->flags & G_PARAM_READABLE) == 0)
    return FALSE;

  g_object_get (self, "main-thread", &main_thread, NULL);
  return main_thread;
}

static void
synthesize_in_task (GTask *task)
{
  FjSynthesizer *self = g_task_get_source_object (task);
  SynthesizeData *data = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  GError *error = NULL;
  char *text;

  if (g_cancellable_set_error_if_cancelled (cancellable, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  text = fj_synthesizer_synthesize (self, data->input, data->results, cancellable, &error);
  if (text == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, text, g_free);
}

static void
synthesize_thread (GTask        *task,
                   gpointer      source_object,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  synthesize_in_task (task);
}

static gboolean
synthesize_idle_cb (gpointer user_data)
{
  synthesize_in_task (G_TASK (user_data));
  return G_SOURCE_REMOVE;
}

static void
fj_synthesizer_real_synthesize_async (FjSynthesizer       *self,
                                      const char          *input,
                                      GPtrArray           *results,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  SynthesizeData *data;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, fj_synthesizer_real_synthesize_async);

  data = g_new0 (SynthesizeData, 1);
  data->input = g_strdup (input);
  data->results = g_ptr_array_ref (results);
  g_task_set_task_data (task, data, (GDestroyNotify) synthesize_data_free);

  if (wants_main_thread (self))
    {
      g_autoptr(GSource) source = g_idle_source_new ();

      g_source_set_callback (source, synthesize_idle_cb,
                             g_object_ref (task), g_object_unref);
      g_source_set_static_name (source, "[forkjoin] synthesize");
      g_source_attach (source, g_task_get_context (task));
    }
  else
    {
      g_task_run_in_thread (task, synthesize_thread);
    }
}

static char *
fj_synthesizer_real_synthesize_finish (FjSynthesizer  *self,
                                       GAsyncResult   *result,
                                       GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static FjAgentResult *
fj_synthesizer_real_get_result (FjSynthesizer *self)
{
  return NULL;
}

static void
fj_synthesizer_default_init (FjSynthesizerInterface *iface)
{
  iface->synthesize_async = fj_synthesizer_real_synthesize_async;
  iface->synthesize_finish = fj_synthesizer_real_synthesize_finish;
  iface->get_result = fj_synthesizer_real_get_result;
}

/**
 * fj_synthesizer_synthesize:
 * @self: a #FjSynthesizer
 * @input: the fork-join's input
 * @results: (element-type FjAgentResult): every agent's result in agent
 *   order, failed ones included
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Merges @results into one text, blocking. This may be called from any
 * thread.
 *
 * A synthesizer that does not implement [vfunc@Synthesizer.synthesize]
 * fails with %G_IO_ERROR_NOT_SUPPORTED; an implementation that returns
 * %NULL without an error fails with %FJ_ERROR_PLUGIN.
 *
 * Returns: (transfer full): the synthesis, or %NULL with @error set
 *
 * Since: 1.0
 */
char *
fj_synthesizer_synthesize (FjSynthesizer  *self,
                           const char     *input,
                           GPtrArray      *results,
                           GCancellable   *cancellable,
                           GError        **error)
{
  FjSynthesizerInterface *iface;
  GError *local_error = NULL;
  char *text;

  g_return_val_if_fail (FJ_IS_SYNTHESIZER (self), NULL);
  g_return_val_if_fail (input != NULL, NULL);
  g_return_val_if_fail (results != NULL, NULL);
  g_return_val_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  iface = FJ_SYNTHESIZER_GET_IFACE (self);
  if (iface->synthesize == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "%s does not implement FjSynthesizer.synthesize",
                   G_OBJECT_TYPE_NAME (self));
      return NULL;
    }

  text = iface->synthesize (self, input, results, cancellable, &local_error);
  /* Gjs returns NULL with no error when it refuses a call from a worker
   * thread (a JavaScript synthesizer without main-thread). */
  if (text == NULL && local_error == NULL)
    g_set_error (&local_error, FJ_ERROR, FJ_ERROR_PLUGIN,
                 "%s returned neither a synthesis nor an error "
                 "(in Python, raise GLib.Error to fail; in gjs, set main-thread)",
                 G_OBJECT_TYPE_NAME (self));
  if (local_error != NULL)
    {
      g_clear_pointer (&text, g_free);
      g_propagate_error (error, local_error);
    }

  return text;
}

/**
 * fj_synthesizer_synthesize_async:
 * @self: a #FjSynthesizer
 * @input: the fork-join's input
 * @results: (element-type FjAgentResult): every agent's result in agent
 *   order, failed ones included
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called when the synthesis
 *   is done
 * @user_data: data for @callback
 *
 * Merges @results into one text without blocking. @callback is called on
 * the thread-default main context of the calling thread; call
 * [method@Synthesizer.synthesize_finish] from it.
 *
 * Since: 1.0
 */
void
fj_synthesizer_synthesize_async (FjSynthesizer       *self,
                                 const char          *input,
                                 GPtrArray           *results,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_return_if_fail (FJ_IS_SYNTHESIZER (self));
  g_return_if_fail (input != NULL);
  g_return_if_fail (results != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  FJ_SYNTHESIZER_GET_IFACE (self)->synthesize_async (self, input, results,
                                                    cancellable, callback, user_data);
}

/**
 * fj_synthesizer_synthesize_finish:
 * @self: a #FjSynthesizer
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Synthesizer.synthesize_async].
 *
 * Returns: (transfer full): the synthesis, or %NULL with @error set
 *
 * Since: 1.0
 */
char *
fj_synthesizer_synthesize_finish (FjSynthesizer  *self,
                                  GAsyncResult   *result,
                                  GError        **error)
{
  g_return_val_if_fail (FJ_IS_SYNTHESIZER (self), NULL);
  g_return_val_if_fail (G_IS_ASYNC_RESULT (result), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return FJ_SYNTHESIZER_GET_IFACE (self)->synthesize_finish (self, result, error);
}

/**
 * fj_synthesizer_get_result:
 * @self: a #FjSynthesizer
 *
 * Gets the synthesis step's own result after a synthesis that ran a model
 * (its usage, duration and attempts).
 *
 * Returns: (transfer none) (nullable): the synthesis step's result, or
 *   %NULL when it ran no model
 *
 * Since: 1.0
 */
FjAgentResult *
fj_synthesizer_get_result (FjSynthesizer *self)
{
  g_return_val_if_fail (FJ_IS_SYNTHESIZER (self), NULL);

  return FJ_SYNTHESIZER_GET_IFACE (self)->get_result (self);
}
