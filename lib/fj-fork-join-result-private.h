/* fj-fork-join-result-private.h
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fj-agent-runner.h"
#include "fj-fork-join-result.h"

G_BEGIN_DECLS

/* Takes @error. @results holds every agent's FjAgentResult in agent order.
 * @synthesizer_name is NULL when no synthesis ran. */
FjForkJoinResult *_fj_fork_join_result_new (FjForkJoinStatus  status,
                                            GError           *error,
                                            const char       *input,
                                            GPtrArray        *results,
                                            const char       *synthesizer_name,
                                            const char       *output,
                                            FjAgentResult    *synthesis_result,
                                            double            wall_time);
/* The runner's cache mode and note, for the document's "cache" member. */
void              _fj_fork_join_result_set_cache (FjForkJoinResult *self,
                                                  FjCacheMode       mode,
                                                  const char       *note);
/* The batch ids when the agents ran in batch mode (NULL: they ran live). */
void              _fj_fork_join_result_set_batch_ids (FjForkJoinResult   *self,
                                                      const char * const *ids);

G_END_DECLS
