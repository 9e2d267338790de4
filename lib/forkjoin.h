/* forkjoin.h
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define FORKJOIN_INSIDE
# include "fj-version.h"
# include "fj-version-macros.h"
# include "fj-enums.h"
# include "fj-error.h"
# include "fj-usage.h"
# include "fj-message.h"
# include "fj-client.h"
# include "fj-tool.h"
# include "fj-agent-result.h"
# include "fj-agent.h"
# include "fj-run-state.h"
# include "fj-policy.h"
# include "fj-batch.h"
# include "fj-agent-runner.h"
# include "fj-synthesizer.h"
# include "fj-fork-join-result.h"
# include "fj-fork-join-task.h"
# include "fj-plugin.h"
# include "fj-plugin-info.h"
# include "fj-plugin-registry.h"
# include "fj-prices.h"
# include "fj-simulator.h"
# include "fj-spec.h"
#undef FORKJOIN_INSIDE

G_END_DECLS
