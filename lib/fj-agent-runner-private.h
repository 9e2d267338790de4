/* fj-agent-runner-private.h
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fj-agent-runner.h"

G_BEGIN_DECLS

/* Whether the last run ended because a policy stopped it satisfied (an
 * early exit): its cancelled and skipped agents then did not fail. */
gboolean _fj_agent_runner_get_stopped_satisfied (FjAgentRunner *self);

G_END_DECLS
