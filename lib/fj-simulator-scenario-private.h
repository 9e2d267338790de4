/* fj-simulator-scenario-private.h — the simulator's scenario format
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef enum
{
  FJ_SIM_FAULT_NONE,
  FJ_SIM_FAULT_DROP,
  FJ_SIM_FAULT_ERROR_EVENT,
  FJ_SIM_FAULT_MALFORMED_JSON,
  FJ_SIM_FAULT_TRICKLE,
  FJ_SIM_FAULT_HANG,
} FjSimFault;

/* One entry of "failures": either an HTTP error status or a fault. */
typedef struct
{
  guint       status;           /* 0 for a fault */
  FjSimFault  fault;
  guint       attempts;         /* 0 = not given */
  gboolean    has_probability;
  double      probability;
  double      retry_after;      /* < 0 = not given */
  double      retry_after_ms;   /* < 0 = not given */
  int         should_retry;     /* -1 = not given, else 0 or 1 */
  int         after_tokens;     /* -1 = not given (half the reply) */
  char       *error_type;       /* NULL = from the status */
  char       *message;          /* NULL = the default for the type */
  double      interval;         /* trickle */
} FjSimFailure;

typedef struct
{
  char     *name;               /* NULL = the first tool of the request */
  JsonNode *input;              /* an object; NULL = {} */
  guint     turns;
} FjSimToolUse;

/* The settings a per-agent override may replace; the scenario's top level
 * has the same ones. */
typedef struct
{
  gboolean      has_latency;
  double        latency_min;
  double        latency_max;
  gboolean      has_output_tokens;
  guint         output_tokens;
  gboolean      has_tokens_per_second;
  double        tokens_per_second;
  gboolean      has_failures;
  GPtrArray    *failures;       /* FjSimFailure */
  gboolean      has_tool_use;
  FjSimToolUse *tool_use;       /* NULL = off */
  gboolean      has_refusal;
  gboolean      refusal;
} FjSimSettings;

typedef struct
{
  char          *name;
  char          *match;
  FjSimSettings  settings;
  gboolean       batch_expired;  /* "batch_outcome": "expired" */
} FjSimAgent;

/* "cache": prompt caching of /v1/messages requests. */
typedef struct
{
  gboolean has_min_tokens;      /* FALSE = by model name */
  guint    min_tokens;
  double   ttl;                 /* seconds of a 5-minute entry */
} FjSimCacheSettings;

/* "batch": the Message Batches endpoints. */
typedef struct
{
  double   processing_time;     /* seconds until the last item is done */
  guint    max_requests;
  guint64  max_bytes;
  gboolean shuffle;             /* results in shuffled order */
} FjSimBatchSettings;

typedef struct
{
  double requests_per_minute;
  double input_tokens_per_minute;
  double output_tokens_per_minute;
  double tokens_per_minute;
} FjSimRateLimits;

typedef struct
{
  gboolean         has_seed;
  guint64          seed;
  FjSimSettings    defaults;
  FjSimRateLimits  rate_limits;
  FjSimCacheSettings cache;
  FjSimBatchSettings batch;
  GPtrArray       *agents;      /* FjSimAgent */
} FjSimScenario;

FjSimScenario *_fj_sim_scenario_new        (void);
FjSimScenario *_fj_sim_scenario_ref        (FjSimScenario *scenario);
void           _fj_sim_scenario_unref      (FjSimScenario *scenario);
FjSimScenario *_fj_sim_scenario_parse      (const char    *name,
                                            const char    *data,
                                            gssize         length,
                                            GError       **error);
FjSimAgent    *_fj_sim_scenario_match      (FjSimScenario *scenario,
                                            const char    *system);
gboolean       _fj_sim_scenario_has_limits (FjSimScenario *scenario);
guint          _fj_sim_scenario_cache_min_tokens (FjSimScenario *scenario,
                                                  const char    *model);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FjSimScenario, _fj_sim_scenario_unref)

G_END_DECLS
