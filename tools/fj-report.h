/* fj-report.h — a fork-join result as text, Markdown or JSON
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdio.h>

#include <forkjoin.h>

G_BEGIN_DECLS

typedef struct
{
  const char *spec_path;    /* nullable */
  const char *spec_sha256;  /* nullable */
  const char *synthesis_plugin; /* the spec's short name ("llm"), nullable */
  gboolean    interrupted;  /* Ctrl-C: the results are partial */
  GHashTable *kept;         /* resume: names of the agents kept, or NULL */
} FjReportContext;

/* "complete", "degraded", "failed"; the nick for `_` output. */
const char *fj_report_fork_join_status_nick (FjForkJoinStatus  status);
/* "success", "timed_out", ...: the enum nick with `_` for `-`. */
const char *fj_report_agent_status_nick     (FjAgentStatus     status);

/* Readable text: a headline, each agent's status, duration, attempts,
 * tokens, cost and a short excerpt (or its error), then the synthesis and
 * what is missing from it. */
char       *fj_report_format_text           (FjForkJoinResult       *result,
                                             const FjReportContext  *context);
/* A Markdown report: summary, a table of agents, each agent's full output,
 * the synthesis and the missing perspectives. */
char       *fj_report_format_markdown       (FjForkJoinResult       *result,
                                             const FjReportContext  *context);
/* DESIGN.md's "Output" document: fj_fork_join_result_to_json() with
 * `spec` (`path`, `sha256`) after `input`.  An interrupted run is
 * `failed` with the error code `cancelled`. */
JsonNode   *fj_report_to_json               (FjForkJoinResult       *result,
                                             const FjReportContext  *context);
char       *fj_report_format_json           (FjForkJoinResult       *result,
                                             const FjReportContext  *context);
/* fj_report_format_json() written to @out an agent at a time, so that the
 * whole document is never held as text; FALSE when writing failed. */
gboolean    fj_report_write_json            (FjForkJoinResult       *result,
                                             const FjReportContext  *context,
                                             FILE                   *out);

G_END_DECLS
