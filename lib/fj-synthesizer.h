/* fj-synthesizer.h
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

#include "fj-agent-result.h"
#include "fj-version-macros.h"

G_BEGIN_DECLS

#define FJ_TYPE_SYNTHESIZER (fj_synthesizer_get_type ())

FJ_AVAILABLE_IN_ALL
G_DECLARE_INTERFACE (FjSynthesizer, fj_synthesizer, FJ, SYNTHESIZER, GObject)

/**
 * FjSynthesizerInterface:
 * @parent_iface: the parent interface
 * @synthesize: merges the results into one text, blocking; what Python and
 *   gjs implement. @results holds every agent's [class@AgentResult], failed
 *   ones included (their status and error code say why)
 * @synthesize_async: the asynchronous version; the default runs
 *   @synthesize in a worker thread, or on the calling thread's main context
 *   when the object has a boolean `main-thread` property set to %TRUE
 * @synthesize_finish: finishes @synthesize_async
 * @get_result: the synthesis step's own [class@AgentResult] after a
 *   synthesis that ran a model (usage, duration, attempts), or %NULL
 *
 * The join step of a fork-join. Implement @synthesize (any language), or
 * the async pair when the work waits on I/O (the LLM synthesizer).
 *
 * Since: 1.0
 */
struct _FjSynthesizerInterface
{
  GTypeInterface parent_iface;

  char          *(*synthesize)        (FjSynthesizer        *self,
                                       const char           *input,
                                       GPtrArray            *results,
                                       GCancellable         *cancellable,
                                       GError              **error);
  void           (*synthesize_async)  (FjSynthesizer        *self,
                                       const char           *input,
                                       GPtrArray            *results,
                                       GCancellable         *cancellable,
                                       GAsyncReadyCallback   callback,
                                       gpointer              user_data);
  char          *(*synthesize_finish) (FjSynthesizer        *self,
                                       GAsyncResult         *result,
                                       GError              **error);
  FjAgentResult *(*get_result)        (FjSynthesizer        *self);

  /*< private >*/
  gpointer _reserved[8];
};

FJ_AVAILABLE_IN_ALL
char          *fj_synthesizer_synthesize        (FjSynthesizer        *self,
                                                 const char           *input,
                                                 GPtrArray            *results,
                                                 GCancellable         *cancellable,
                                                 GError              **error) G_GNUC_WARN_UNUSED_RESULT;
FJ_AVAILABLE_IN_ALL
void           fj_synthesizer_synthesize_async  (FjSynthesizer        *self,
                                                 const char           *input,
                                                 GPtrArray            *results,
                                                 GCancellable         *cancellable,
                                                 GAsyncReadyCallback   callback,
                                                 gpointer              user_data);
FJ_AVAILABLE_IN_ALL
char          *fj_synthesizer_synthesize_finish (FjSynthesizer        *self,
                                                 GAsyncResult         *result,
                                                 GError              **error) G_GNUC_WARN_UNUSED_RESULT;
FJ_AVAILABLE_IN_ALL
FjAgentResult *fj_synthesizer_get_result        (FjSynthesizer        *self);

G_END_DECLS
