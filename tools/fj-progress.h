/* fj-progress.h — live progress of a fork-join on stderr
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <forkjoin.h>

G_BEGIN_DECLS

typedef struct _FjProgress FjProgress;

/* Whether to show progress at all: stderr is a terminal (and not "dumb"),
 * and, when @events_on_stdout, stdout is not that terminal too (event lines
 * and redrawn lines would tear each other apart). */
gboolean    fj_progress_wanted (gboolean         events_on_stdout);

/* One line per agent of @agents (spinner, status, elapsed, tokens) and an
 * overall bar, redrawn on stderr about ten times a second while started.
 * @kept: names of the agents a resumed run keeps (shown as done), or NULL. */
FjProgress *fj_progress_new    (FjForkJoinTask  *task,
                                GListModel      *agents,
                                GHashTable      *kept);
void        fj_progress_start  (FjProgress      *self);
/* Draws the final state once and stops redrawing. */
void        fj_progress_stop   (FjProgress      *self);
void        fj_progress_free   (FjProgress      *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FjProgress, fj_progress_free)

G_END_DECLS
