/* fj-agent-result-private.h
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fj-agent-result.h"
#include "fj-prices.h"

G_BEGIN_DECLS

/* Called when the status of @result changes, before the notifications. */
typedef void (*FjAgentResultStatusFunc) (FjAgentResult *result,
                                         gpointer       user_data);

/* The one owner (the run) that counts statuses: a plain callback, as a
 * notify::status handler on each result would make every notification
 * of every result (one per streamed delta) go through signal emission. */
void _fj_agent_result_set_status_func    (FjAgentResult           *self,
                                          FjAgentResultStatusFunc  func,
                                          gpointer                 user_data);

/* Each setter notifies the property it changes, and only when it changes. */
void _fj_agent_result_set_status         (FjAgentResult *self,
                                          FjAgentStatus  status);
void _fj_agent_result_append_output      (FjAgentResult *self,
                                          const char    *text);
void _fj_agent_result_set_output         (FjAgentResult *self,
                                          const char    *output);
void _fj_agent_result_set_partial_output (FjAgentResult *self,
                                          const char    *partial_output);
/* Takes @error. */
void _fj_agent_result_take_error         (FjAgentResult *self,
                                          GError        *error);
void _fj_agent_result_set_duration       (FjAgentResult *self,
                                          double         seconds);
void _fj_agent_result_set_attempts       (FjAgentResult *self,
                                          guint          attempts);
void _fj_agent_result_set_turns          (FjAgentResult *self,
                                          guint          turns);
void _fj_agent_result_set_stop_reason    (FjAgentResult *self,
                                          const char    *stop_reason);
void _fj_agent_result_set_usage          (FjAgentResult *self,
                                          const FjUsage *usage);
void _fj_agent_result_set_cost           (FjAgentResult *self,
                                          double         cost_usd);
void _fj_agent_result_set_model         (FjAgentResult *self,
                                          const char    *model);
/* The table the run that fills the result prices it with when it
 * settles (before its status becomes terminal); NULL for none. */
void _fj_agent_result_set_prices         (FjAgentResult *self,
                                          FjPrices      *prices);
/* What the prompt cache saved, in USD; NAN for unknown. */
void _fj_agent_result_set_cache_saved   (FjAgentResult *self,
                                         double         saved_usd);
gboolean _fj_agent_result_get_cache_saved_known (FjAgentResult *self);
/* The result is a Message Batches item's: every pricing applies the
 * prices' batch discount. */
void _fj_agent_result_set_batch         (FjAgentResult *self,
                                         gboolean       batch);
/* Sets the cost (and the cache saving) from the model and usage with
 * @prices, or with the table set by _fj_agent_result_set_prices() when
 * @prices is NULL; without either it does nothing.  An unknown model
 * gives -1. */
void _fj_agent_result_apply_prices       (FjAgentResult *self,
                                          FjPrices      *prices);
/* A new result with every field of @self (not the prices to apply) at
 * position @index, without notifications. */
FjAgentResult *_fj_agent_result_copy     (FjAgentResult *self,
                                          guint          index);
/* Back to a fresh pending result, so a runner can run again. */
void _fj_agent_result_reset              (FjAgentResult *self);

G_END_DECLS
