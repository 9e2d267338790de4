/* fj-agent-result-private.h
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fj-agent-result.h"

G_BEGIN_DECLS

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
/* Back to a fresh pending result, so a runner can run again. */
void _fj_agent_result_reset              (FjAgentResult *self);

G_END_DECLS
