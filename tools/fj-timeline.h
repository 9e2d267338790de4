/* fj-timeline.h — a Gantt picture of a run as SVG
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fj-run-recorder.h"

G_BEGIN_DECLS

/* One labelled bar per agent from admission to settling (queue time before
 * it, retries and rate-limit pauses marked), the synthesis after, a time
 * axis; <rect>, <text> and a <title> tooltip per bar.  @result may be NULL
 * (an interrupted run). */
char     *fj_timeline_render (FjRunRecorder     *recorder,
                              FjForkJoinResult  *result);
gboolean  fj_timeline_write  (FjRunRecorder     *recorder,
                              FjForkJoinResult  *result,
                              const char        *path,
                              GError           **error);

G_END_DECLS
