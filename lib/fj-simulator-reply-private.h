/* fj-simulator-reply-private.h — what the simulator reads from a request
 * and the deterministic replies it writes
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The parts of a Messages API request body the simulator uses. */
typedef struct
{
  char     *model;
  gint64    max_tokens;
  gboolean  stream;
  char     *system;            /* the system prompt's text, "" when absent */
  char     *last_user_text;    /* text blocks of the last user message */
  char     *question;          /* the last non-empty user text */
  guint     n_messages;
  guint     tool_rounds;       /* user messages holding tool_result blocks */
  char     *tool_result;       /* text of the last user message's first tool_result */
  char     *tool_result_name;  /* the tool that produced it, when known */
  char     *first_tool;        /* name of the request's first tool */
  gboolean  include_usage;     /* OpenAI: stream_options.include_usage */
  char     *cache_key;         /* SHA-256 of the cached prefix; NULL = no breakpoint */
  gint64    cache_prefix_tokens;
  gboolean  cache_ttl_long;    /* the breakpoint's cache_control.ttl is "1h" */
} FjSimRequest;

/* The max_tokens of an OpenAI request that sets neither max_tokens nor
 * max_completion_tokens. */
#define FJ_SIM_OPENAI_DEFAULT_MAX_TOKENS 4096

void       _fj_sim_request_clear    (FjSimRequest  *request);
gboolean   _fj_sim_request_parse    (FjSimRequest  *request,
                                     const char    *data,
                                     gsize          length,
                                     char         **error_message);
gboolean   _fj_sim_request_parse_openai (FjSimRequest  *request,
                                         const char    *data,
                                         gsize          length,
                                         char         **error_message);

guint64    _fj_sim_hash             (guint64        seed,
                                     const char    *first,
                                     ...) G_GNUC_NULL_TERMINATED;
guint64    _fj_sim_rng_next         (guint64       *state);
double     _fj_sim_rng_double       (guint64       *state);
char      *_fj_sim_make_id          (const char    *prefix,
                                     guint64        hash);
char      *_fj_sim_short_hash       (const char    *text);
char      *_fj_sim_extract_role     (const char    *system);
GPtrArray *_fj_sim_reply_tokens     (guint64        hash,
                                     const char    *opening,
                                     guint          n_tokens);
char      *_fj_sim_reply_opening    (const char    *role,
                                     const char    *agent,
                                     const char    *question,
                                     const char    *tool_name,
                                     const char    *tool_result);

G_END_DECLS
