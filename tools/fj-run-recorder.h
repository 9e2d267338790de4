/* fj-run-recorder.h — what happened when, for --events and --timeline
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdio.h>

#include <forkjoin.h>

G_BEGIN_DECLS

/* Times are seconds since the recorder's run started (monotonic clock). */

typedef struct
{
  double time;     /* when the retry was announced */
  double delay;    /* how long it waits before the next attempt */
  guint  attempt;  /* the attempt about to be made (2 = first retry) */
  guint  status;   /* HTTP status that caused it: 429, 529, 5xx; 0 = connection */
} FjRecordedRetry;

typedef struct
{
  char          *name;
  guint          index;
  double         queued;      /* 0: every agent is queued when the run starts */
  double         started;     /* admission; < 0 when never admitted */
  double         first_token; /* < 0 when none */
  double         finished;    /* settled; < 0 while not settled */
  FjAgentStatus  status;
  GArray        *retries;     /* FjRecordedRetry */
} FjRecordedAgent;

typedef struct
{
  double  from;
  double  until;
  char   *reason;             /* the client's paused signal reason */
} FjRecordedPause;

typedef struct _FjRunRecorder FjRunRecorder;

/* Watches @task's runner (agent-* signals), @client (paused) and the task's
 * synthesis-started/-finished signals.  When @events is not NULL, writes one
 * JSON line per event to it as it happens (DESIGN.md / issue 5: queued,
 * started, first_token, delta, retrying, paused, finished,
 * synthesis_started, synthesis_finished, done), flushing each line. */
FjRunRecorder         *fj_run_recorder_new                 (FjForkJoinTask *task,
                                                            FjClient       *client,
                                                            FILE           *events);
void                   fj_run_recorder_free                (FjRunRecorder  *self);

/* Call right before fj_fork_join_task_run_async(): starts the clock and
 * records (and emits) every agent as queued. */
void                   fj_run_recorder_start               (FjRunRecorder  *self,
                                                            GListModel     *agents);
/* Instead of fj_run_recorder_start() for a resumed run: agents whose
 * result in @previous_results (FjAgentResult) succeeded are kept, neither
 * queued nor watched; the others are queued as usual. */
void                   fj_run_recorder_start_resume        (FjRunRecorder  *self,
                                                            GListModel     *agents,
                                                            GPtrArray      *previous_results);
/* Call when the run is over (emits `done` with the final status; @result
 * may be NULL when there is none, which reports "failed"). */
void                   fj_run_recorder_finish              (FjRunRecorder  *self,
                                                            FjForkJoinResult *result);

guint                  fj_run_recorder_get_n_agents        (FjRunRecorder  *self);
const FjRecordedAgent *fj_run_recorder_get_agent           (FjRunRecorder  *self,
                                                            guint           index);
/* TRUE for an agent kept from the earlier run by fj_run_recorder_start_resume() */
gboolean               fj_run_recorder_get_agent_kept      (FjRunRecorder  *self,
                                                            guint           index);
/* FjRecordedPause */
GArray                *fj_run_recorder_get_pauses          (FjRunRecorder  *self);
/* < 0 when there was no synthesis */
double                 fj_run_recorder_get_synthesis_start (FjRunRecorder  *self);
double                 fj_run_recorder_get_synthesis_end   (FjRunRecorder  *self);
/* when fj_run_recorder_finish() was called */
double                 fj_run_recorder_get_end             (FjRunRecorder  *self);
/* seconds since the run started, now */
double                 fj_run_recorder_get_elapsed         (FjRunRecorder  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FjRunRecorder, fj_run_recorder_free)

G_END_DECLS
