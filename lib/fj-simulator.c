/* fj-simulator.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fj-simulator.h"

#include <math.h>
#include <string.h>
#include <libsoup/soup.h>
#ifdef __linux__
# include <poll.h>
# include <sys/epoll.h>
# include <sys/socket.h>
# include <sys/timerfd.h>
# include <unistd.h>
#endif

#include "fj-simulator-reply-private.h"
#include "fj-simulator-scenario-private.h"

/* POLLRDHUP is behind _GNU_SOURCE, which must come before the first system
 * header; its value is fixed by the Linux ABI. */
#if defined(__linux__) && !defined(POLLRDHUP)
# define POLLRDHUP 0x2000
#endif

#define MAX_BODY_BYTES (32 * 1024 * 1024)
#define MIN_TICK_SECONDS 0.005
#define REFUSAL_TEXT "I can't help with that request."
/* The "created" time of OpenAI replies: fixed, so that replies stay a pure
 * function of the request (2026-01-01T00:00:00Z). */
#define OPENAI_CREATED 1767225600

/**
 * FjSimulator:
 *
 * An HTTP server on 127.0.0.1 that answers like the Anthropic Messages API
 * and like OpenAI-compatible Chat Completions servers, with scripted
 * latency, streaming speed, errors, rate limits, faults and per-agent
 * overrides, deterministic replies and statistics.
 *
 * It is the test double of forkjoin's own test suites, the engine of
 * `forkjoin-tool --simulate` and a way to try a pipeline offline:
 *
 * ```c
 * g_autoptr(FjSimulator) sim = fj_simulator_new ();
 * g_autofree char *url = NULL;
 *
 * fj_simulator_set_api_key (sim, key);
 * fj_simulator_load_scenario_from_file (sim, "faults.json", &error);
 * fj_simulator_start (sim, &error);
 * url = fj_simulator_dup_base_url (sim);   // http://127.0.0.1:PORT
 * ```
 *
 * ## Endpoints
 *
 * - `POST /v1/messages`: a Messages API request, answered as JSON or, with
 *   `"stream": true`, as server-sent events shaped like the real API's.
 * - `POST /v1/chat/completions`: an OpenAI Chat Completions request, as
 *   OpenAI-compatible servers (Ollama, llama.cpp, vLLM) answer it: a
 *   `chat.completion` object, or with `"stream": true` `data:` chunks
 *   ending in `data: [DONE]`, with a usage chunk when the request sets
 *   `stream_options.include_usage`. The system prompt is the first
 *   `system` message, tool calls stream in pieces by index and tool
 *   results come back as `role: tool` messages; `max_tokens` (or
 *   `max_completion_tokens`) defaults to 4096. It takes the same scenario
 *   controls; errors have the OpenAI shape
 *   `{"error": {"message", "type", "param", "code"}}`, and a key is needed
 *   (as `Authorization: Bearer`) only when [property@Simulator:api-key] is
 *   set. An OpenAI client's base URL is the simulator's
 *   ([method@Simulator.dup_base_url]) followed by `/v1`.
 * - `GET /__stats`: the statistics of [method@Simulator.get_stats] as JSON
 *   (no credentials needed).
 *
 * Other paths answer 404 `not_found_error`, other methods 405. Requests
 * are checked like the API checks them: a missing key (neither
 * `x-api-key` nor `Authorization: Bearer`) or a wrong one gives 401
 * `authentication_error`, a missing or unknown `anthropic-version` (the
 * accepted ones are `2023-06-01` and `2026-10-21`) and a body without
 * `model`, `max_tokens` or `messages` give 400 `invalid_request_error`.
 * Every response carries a `request-id` header.
 * (These checks are for `/v1/messages`; `/v1/chat/completions` needs no
 * version header and requires only `model` and `messages`.)
 *
 * ## Agents and determinism
 *
 * An agent is identified by its system prompt. A scenario's per-agent
 * override applies when its `match` text occurs in the system prompt, and
 * statistics name that agent by the override's `name`; other agents are
 * named by the first 8 hex digits of the SHA-256 of their system prompt.
 *
 * A reply is a pure function of the seed, the system prompt, the last user
 * message and the attempt number: requests that repeat the same
 * conversation (retries) are attempts 1, 2, 3, ... of it. A reply opens
 * with the agent's role (from "You are a ..." in the system prompt) and
 * the question, then goes on with generated words, one token each.
 *
 * ## Scenarios
 *
 * A scenario (JSON, described by `simulator-scenario.schema.json`) sets the
 * defaults (`seed`, `latency`, `output_tokens`, `tokens_per_second`, which
 * are also properties), `failures` (HTTP errors and faults such as a
 * dropped stream, an error event, a malformed body, a trickle or a hang),
 * `rate_limits` (token buckets with the `anthropic-ratelimit-*` headers),
 * `tool_use`, `refusal`, and per-agent overrides in `agents`.
 *
 * Prompt caching is modelled as the API does it: the prefix (tools, system,
 * messages) up to the last block with `cache_control` is written by the
 * first request, becomes readable once that request's response has
 * started, and expires after a TTL; `usage` reports the cache write and
 * read tokens. The scenario's `cache` sets the minimum length and TTL.
 *
 * The Message Batches endpoints (`/v1/messages/batches`: create, retrieve,
 * list, cancel, delete, results) run each item with the same scenario
 * controls as a live request (plus the per-agent `batch_outcome`); the
 * scenario's `batch` sets the processing time, the limits and whether
 * results come back shuffled.
 *
 * The server runs on the thread-default main context that was current when
 * [method@Simulator.start] was called; call its methods from that thread,
 * except the statistics getters, which may be called from any thread.
 *
 * Since: 1.0
 */

typedef enum
{
  BUCKET_REQUESTS,
  BUCKET_INPUT,
  BUCKET_OUTPUT,
  BUCKET_TOKENS,
  N_BUCKETS
} BucketKind;

typedef struct
{
  double capacity;              /* one minute's worth; 0 = no limit */
  double level;
  gint64 updated;               /* monotonic µs */
} Bucket;

typedef struct
{
  char     *id;
  char     *agent;
  guint     attempt;
  double    arrival_ms;
  double    first_byte_ms;      /* < 0 = not yet */
  double    finish_ms;          /* < 0 = not yet */
  guint     status;             /* 0 = nothing sent */
  char     *outcome;
  char     *fault;
  gboolean  stream;
  char     *auth;
  char     *version;
  char     *model;
  gint64    input_tokens;
  gint64    output_tokens;
  gint64    cache_creation_input_tokens;
  gint64    cache_read_input_tokens;
  char     *system;
  char     *user;
  const char *api;              /* static: "anthropic", "openai" or NULL */
} LogEntry;

typedef struct
{
  char     *text;
  guint     tokens;             /* paced units carry tokens */
  gboolean  drop;               /* the stream breaks here */
} Unit;

typedef struct
{
  FjSimulator       *self;
  SoupServerMessage *msg;
  LogEntry          *entry;
  GList             *link;
  GSourceFunc        timer_func;        /* NULL = no timer */
  gint64             timer_deadline;    /* monotonic µs */
  gint64             arrived_at;        /* monotonic µs: see request_arrival_time() */
  guint64            timer_seq;
  guint              timer_index;       /* in self->timers */
  GSource           *watch;
  int                watch_fd;          /* >= 0 while in self->epoll_fd */
  guint64            watch_id;

  char              *request_id;        /* NULL until set or needed */
  gboolean           openai;            /* POST /v1/chat/completions */
  char              *completion_id;     /* OpenAI: NULL until needed */
  guint64            serial;
  guint              status;
  gboolean           paused;
  gboolean           complete;
  gboolean           finished;

  /* The plan, fixed when the request arrives. */
  FjSimScenario     *scenario;
  FjSimRequest       parsed;
  char              *agent;
  char              *role;
  guint              attempt;
  guint64            hash;
  double             latency;
  guint              planned_tokens;
  double             tokens_per_second;
  const FjSimFailure *failure;
  const FjSimToolUse *tool_use;
  gboolean           refusal;
  gint64             input_tokens;
  gint64             cache_creation_tokens;
  gint64             cache_read_tokens;
  gboolean           cache_pending;     /* writes an entry not readable yet */
  gboolean           limited;
  gint64             reserved_output;
  gboolean           output_settled;  /* reserved_output given back */
  guint              output_sent;

  /* The reply. */
  GPtrArray         *text_tokens;
  char              *tool_id;
  char              *tool_name;
  GPtrArray         *tool_pieces;
  const char        *stop_reason;
  guint              output_tokens;

  /* Streaming. */
  GArray            *units;
  guint              next_unit;
  gint64             stream_start;
  guint              ticks;
  guint              per_tick;
  double             tick_seconds;
  guint              chunks_appended;
  guint              chunks_written;
  gboolean           drop_pending;
  char              *drop_text;
} Request;

/* A keep-alive connection waiting for its next request. */
typedef struct
{
  GIOStream      *stream;               /* the connection's own stream */
  GSocket        *socket;
  GSocketAddress *local;
  GSocketAddress *remote;
  guint64         watch_id;
} IdleConnection;

static void
idle_connection_free (gpointer data)
{
  IdleConnection *idle = data;

  g_clear_object (&idle->stream);
  g_clear_object (&idle->socket);
  g_clear_object (&idle->local);
  g_clear_object (&idle->remote);
  g_free (idle);
}

struct _FjSimulator
{
  GObject          parent_instance;

  guint            port;
  char            *api_key;
  GTlsCertificate *tls_certificate;
  gboolean         record_prompts;

  GMainContext    *context;
  SoupServer      *server;
  GSocket         *listener;
  gboolean         tls;
  guint            bound_port;
  gint64           started_at;
  GQueue           requests;
  gboolean         stopping;

  /* The requests' timers: one source and a binary heap ordered by deadline
   * then scheduling order, rather than a GSource each. */
  GSource         *timer_source;
  GPtrArray       *timers;              /* Request */
  guint64          timer_seq;
  int              timer_fd;            /* Linux: wakes reply timers on time */
  gpointer         timer_fd_tag;
  gint64           timer_fd_deadline;   /* what it is set to; -1: disarmed */
  gboolean         firing_timers;       /* in timers_dispatch(), which sets both at its end */

  /* On Linux, the sockets of requests that wait are watched with epoll
   * behind one source, rather than one GSource (and poll fd) each. */
  int              epoll_fd;
  gboolean         kernel_arrivals;     /* connections have SO_TIMESTAMPNS */
  gint64           adopted_arrival;     /* the kernel's arrival time of the request of a
                                         * connection being handed back to libsoup; 0: none */
  GSource         *watch_source;
  GHashTable      *watched;             /* watch id → Request */
  guint64          watch_seq;

  /* Keep-alive connections between two requests, held by the simulator
   * rather than libsoup (see take_idle_connection()). */
  gboolean         hold_idle;
  GHashTable      *idle;                /* watch id → IdleConnection */
  GHashTable      *adopted;             /* remote port → GSocket */

  /* Guards what follows: the statistics getters may run on another thread
   * than the server. */
  GMutex           lock;
  guint64          seed;
  double           latency;
  double           latency_max;
  guint            output_tokens;
  double           tokens_per_second;
  FjSimScenario   *scenario;
  Bucket           buckets[N_BUCKETS];

  guint            n_requests;
  guint            n_connections;
  guint            n_in_flight;
  guint            max_in_flight;
  guint            n_disconnects;
  guint            n_anthropic;         /* requests to /v1/messages */
  guint            n_openai;            /* requests to /v1/chat/completions */
  guint            n_batch_requests;    /* requests to /v1/messages/batches... */
  guint            n_batches_created;
  GPtrArray       *batches;             /* SimBatch, oldest first */
  guint64          serial;
  GHashTable      *status_counts;       /* GUINT_TO_POINTER (status) → count */
  GHashTable      *agent_attempts;      /* agent → count */
  GHashTable      *attempt_counters;    /* agent + user text + n messages → count */
  GPtrArray       *log;                 /* LogEntry */

  /* Pure functions of a request's text, cached off the hot path. */
  GHashTable      *system_cache;        /* system prompt → SystemInfo */

  /* Prompt caching. */
  GHashTable      *prompt_cache;        /* key (model + prefix hash) → CacheEntry */
  char            *last_user_text;
  char            *last_user_hash;      /* SHA-256 hex of last_user_text */
};

typedef struct
{
  char *short_hash;
  char *role;                           /* nullable */
} SystemInfo;

typedef struct _SimBatch SimBatch;
static void sim_batch_free (gpointer data);

typedef struct
{
  gboolean readable;                    /* a writer's response has started */
  gint64   expires;                     /* monotonic µs; valid once readable */
  double   ttl;                         /* seconds */
} CacheEntry;

/* Entries kept at most before expired ones are dropped. */
#define MAX_PROMPT_CACHE 4096

/* Distinct system prompts cached at most; past it the cache starts over. */
#define MAX_SYSTEM_CACHE 16384

enum {
  PROP_0,
  PROP_PORT,
  PROP_API_KEY,
  PROP_TLS_CERTIFICATE,
  PROP_SEED,
  PROP_LATENCY,
  PROP_LATENCY_MAX,
  PROP_OUTPUT_TOKENS,
  PROP_TOKENS_PER_SECOND,
  PROP_RECORD_PROMPTS,
  PROP_RUNNING,
  PROP_N_REQUESTS,
  PROP_N_CONNECTIONS,
  PROP_N_IN_FLIGHT,
  PROP_MAX_IN_FLIGHT,
  PROP_N_DISCONNECTS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (FjSimulator, fj_simulator, G_TYPE_OBJECT)

static void request_finish (Request    *req,
                            const char *outcome);
static void request_ensure_id (Request *req);

/* Log entries */

static LogEntry *
log_entry_new (void)
{
  LogEntry *entry = g_atomic_rc_box_new0 (LogEntry);

  entry->first_byte_ms = -1;
  entry->finish_ms = -1;
  return entry;
}

static void
log_entry_clear (gpointer data)
{
  LogEntry *entry = data;

  g_free (entry->id);
  g_free (entry->agent);
  g_free (entry->outcome);
  g_free (entry->fault);
  g_free (entry->auth);
  g_free (entry->version);
  g_free (entry->model);
  g_free (entry->system);
  g_free (entry->user);
}

static void
log_entry_unref (gpointer data)
{
  g_atomic_rc_box_release_full (data, log_entry_clear);
}

/* Log entries become JSON only here, member by member: a JsonBuilder
 * costs several times more with a log of thousands of entries. */
static void
set_nullable_string (JsonObject *object,
                     const char *name,
                     const char *value)
{
  if (value != NULL)
    json_object_set_string_member (object, name, value);
  else
    json_object_set_null_member (object, name);
}

static void
set_ms (JsonObject *object,
        const char *name,
        double      value)
{
  if (value >= 0)
    json_object_set_double_member (object, name, round (value * 1000) / 1000);
  else
    json_object_set_null_member (object, name);
}

static void
set_positive_int (JsonObject *object,
                  const char *name,
                  guint       value)
{
  if (value > 0)
    json_object_set_int_member (object, name, value);
  else
    json_object_set_null_member (object, name);
}

static JsonObject *
log_entry_to_object (LogEntry *entry)
{
  JsonObject *object = json_object_new ();

  set_nullable_string (object, "id", entry->id);
  set_nullable_string (object, "agent", entry->agent);
  set_positive_int (object, "attempt", entry->attempt);
  set_ms (object, "arrival_ms", entry->arrival_ms);
  set_ms (object, "first_byte_ms", entry->first_byte_ms);
  set_ms (object, "finish_ms", entry->finish_ms);
  set_positive_int (object, "status", entry->status);
  set_nullable_string (object, "outcome", entry->outcome);
  if (entry->fault != NULL)
    json_object_set_string_member (object, "fault", entry->fault);
  json_object_set_boolean_member (object, "stream", entry->stream);
  set_nullable_string (object, "auth", entry->auth);
  set_nullable_string (object, "version", entry->version);
  set_nullable_string (object, "model", entry->model);
  json_object_set_int_member (object, "input_tokens", entry->input_tokens);
  json_object_set_int_member (object, "output_tokens", entry->output_tokens);
  json_object_set_int_member (object, "cache_creation_input_tokens", entry->cache_creation_input_tokens);
  json_object_set_int_member (object, "cache_read_input_tokens", entry->cache_read_input_tokens);
  if (entry->system != NULL)
    json_object_set_string_member (object, "system", entry->system);
  if (entry->user != NULL)
    json_object_set_string_member (object, "user", entry->user);
  set_nullable_string (object, "api", entry->api);

  return object;
}

/* The time of the poll whose dispatch is running (monotonic µs). */
static gint64
poll_time (void)
{
  GSource *source = g_main_current_source ();

  return source != NULL ? g_source_get_time (source) : g_get_monotonic_time ();
}

static double
elapsed_ms (FjSimulator *self)
{
  return (g_get_monotonic_time () - self->started_at) / 1000.0;
}

/* Rate limits */

static void
bucket_refill (Bucket *bucket,
               gint64  now)
{
  double rate = bucket->capacity / 60.0;

  bucket->level = MIN (bucket->capacity, bucket->level + rate * (now - bucket->updated) / G_USEC_PER_SEC);
  bucket->updated = now;
}

static void
buckets_init (FjSimulator *self)
{
  const FjSimRateLimits *limits = &self->scenario->rate_limits;
  gint64 now = g_get_monotonic_time ();

  self->buckets[BUCKET_REQUESTS].capacity = limits->requests_per_minute;
  self->buckets[BUCKET_INPUT].capacity = limits->input_tokens_per_minute;
  self->buckets[BUCKET_OUTPUT].capacity = limits->output_tokens_per_minute;
  self->buckets[BUCKET_TOKENS].capacity = limits->tokens_per_minute;

  for (guint i = 0; i < N_BUCKETS; i++)
    {
      self->buckets[i].level = self->buckets[i].capacity;
      self->buckets[i].updated = now;
    }
}

static char *
format_reset (const Bucket *bucket)
{
  double rate = bucket->capacity / 60.0;
  double seconds = rate > 0 ? MAX (0, bucket->capacity - bucket->level) / rate : 0;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) reset = g_date_time_add_seconds (now, ceil (seconds));

  return g_date_time_format (reset, "%Y-%m-%dT%H:%M:%SZ");
}

static void
set_limit_headers (SoupMessageHeaders *headers,
                   const char         *kind,
                   double              limit,
                   double              remaining,
                   const char         *reset)
{
  g_autofree char *name = NULL;
  g_autofree char *value = NULL;

  name = g_strdup_printf ("anthropic-ratelimit-%s-limit", kind);
  value = g_strdup_printf ("%.0f", floor (limit));
  soup_message_headers_replace (headers, name, value);
  g_free (name);
  g_free (value);

  name = g_strdup_printf ("anthropic-ratelimit-%s-remaining", kind);
  value = g_strdup_printf ("%.0f", floor (MAX (0, remaining)));
  soup_message_headers_replace (headers, name, value);
  g_free (name);

  name = g_strdup_printf ("anthropic-ratelimit-%s-reset", kind);
  soup_message_headers_replace (headers, name, reset);
}

/* Called with the lock held. */
static void
add_rate_limit_headers (FjSimulator        *self,
                        SoupMessageHeaders *headers)
{
  static const char * const kinds[] = { "requests", "input-tokens", "output-tokens", "tokens" };
  const Bucket *input = &self->buckets[BUCKET_INPUT];
  const Bucket *output = &self->buckets[BUCKET_OUTPUT];

  for (guint i = 0; i < N_BUCKETS; i++)
    {
      const Bucket *bucket = &self->buckets[i];
      g_autofree char *reset = NULL;

      if (bucket->capacity <= 0)
        continue;
      reset = format_reset (bucket);
      set_limit_headers (headers, kinds[i], bucket->capacity, bucket->level, reset);
    }

  /* Without a combined limit the tokens headers show input plus output, as
   * the API does when no workspace limit applies. */
  if (self->buckets[BUCKET_TOKENS].capacity <= 0 && (input->capacity > 0 || output->capacity > 0))
    {
      g_autofree char *input_reset = input->capacity > 0 ? format_reset (input) : NULL;
      g_autofree char *output_reset = output->capacity > 0 ? format_reset (output) : NULL;
      const char *reset = input_reset;

      if (reset == NULL || (output_reset != NULL && strcmp (output_reset, reset) > 0))
        reset = output_reset;
      set_limit_headers (headers, "tokens",
                         input->capacity + output->capacity,
                         MAX (0, input->level) + MAX (0, output->level),
                         reset);
    }
}

/* Takes what the request needs from every bucket, or returns the whole
 * seconds to wait until they all hold enough. Called with the lock held. */
static guint
admit_request (FjSimulator *self,
               gint64       input_tokens,
               gint64       max_tokens)
{
  double needs[N_BUCKETS];
  gint64 now = g_get_monotonic_time ();
  double wait = 0;

  needs[BUCKET_REQUESTS] = 1;
  needs[BUCKET_INPUT] = input_tokens;
  needs[BUCKET_OUTPUT] = max_tokens;
  needs[BUCKET_TOKENS] = input_tokens + max_tokens;

  for (guint i = 0; i < N_BUCKETS; i++)
    {
      Bucket *bucket = &self->buckets[i];
      double need;

      if (bucket->capacity <= 0)
        continue;

      bucket_refill (bucket, now);
      /* A request larger than a whole minute's worth goes through once
       * the bucket is full, leaving it in debt. */
      need = MIN (needs[i], bucket->capacity);
      if (bucket->level < need)
        wait = MAX (wait, (need - bucket->level) / (bucket->capacity / 60.0));
    }

  if (wait > 0)
    return MAX (1, (guint) ceil (wait));

  for (guint i = 0; i < N_BUCKETS; i++)
    if (self->buckets[i].capacity > 0)
      self->buckets[i].level -= needs[i];

  return 0;
}

/* Responses */

static char *
node_to_string (JsonNode *node)
{
  return json_to_string (node, FALSE);
}

static char *
builder_to_string (JsonBuilder *builder)
{
  g_autoptr(JsonNode) root = json_builder_get_root (builder);

  return node_to_string (root);
}

static const char *
error_type_for_status (guint status)
{
  switch (status)
    {
    case 401: return "authentication_error";
    case 402: return "billing_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    case 429: return "rate_limit_error";
    case 504: return "timeout_error";
    case 529: return "overloaded_error";
    default:
      return status >= 500 ? "api_error" : "invalid_request_error";
    }
}

static guint
status_for_error_type (const char *type)
{
  static const struct {
    const char *type;
    guint status;
  } map[] = {
    { "invalid_request_error", 400 },
    { "authentication_error", 401 },
    { "billing_error", 402 },
    { "permission_error", 403 },
    { "not_found_error", 404 },
    { "request_too_large", 413 },
    { "rate_limit_error", 429 },
    { "api_error", 500 },
    { "timeout_error", 504 },
    { "overloaded_error", 529 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (map); i++)
    if (g_str_equal (type, map[i].type))
      return map[i].status;

  return 500;
}

static const char *
default_error_message (const char *type)
{
  static const struct {
    const char *type;
    const char *message;
  } map[] = {
    { "invalid_request_error", "Invalid request" },
    { "authentication_error", "Authentication error" },
    { "billing_error", "Billing error" },
    { "permission_error", "Permission denied" },
    { "not_found_error", "Not found" },
    { "request_too_large", "Request too large" },
    { "rate_limit_error", "Rate limited" },
    { "api_error", "Internal server error" },
    { "timeout_error", "Request timeout" },
    { "overloaded_error", "Overloaded" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (map); i++)
    if (g_str_equal (type, map[i].type))
      return map[i].message;

  return "Error";
}

static char *
error_body (const char *type,
            const char *message,
            const char *request_id)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "error");
  json_builder_set_member_name (builder, "error");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, type);
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, message);
  json_builder_end_object (builder);
  if (request_id != NULL)
    {
      json_builder_set_member_name (builder, "request_id");
      json_builder_add_string_value (builder, request_id);
    }
  json_builder_end_object (builder);

  return builder_to_string (builder);
}

/* An error in the shape of OpenAI-compatible servers:
 * {"error":{"message","type","param","code"}}. */
static char *
openai_error_body (const char *type,
                   const char *message)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  const char *code = NULL;

  if (g_str_equal (type, "authentication_error"))
    code = "invalid_api_key";
  else if (g_str_equal (type, "rate_limit_error"))
    code = "rate_limit_exceeded";

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "error");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, message);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, type);
  json_builder_set_member_name (builder, "param");
  json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "code");
  if (code != NULL)
    json_builder_add_string_value (builder, code);
  else
    json_builder_add_null_value (builder);
  json_builder_end_object (builder);
  json_builder_end_object (builder);

  return builder_to_string (builder);
}

static void
request_set_outcome (Request    *req,
                     const char *outcome)
{
  FjSimulator *self = req->self;

  g_mutex_lock (&self->lock);
  g_free (req->entry->outcome);
  req->entry->outcome = g_strdup (outcome);
  g_mutex_unlock (&self->lock);
}

static void
request_set_status (Request *req,
                    guint    status)
{
  req->status = status;
  soup_server_message_set_status (req->msg, status, NULL);
}

/* The reservation of max_tokens becomes what was really sent, once: when
 * the response is complete (as the API's servers do when the generation
 * ends), or when the request ends otherwise.  Not on libsoup's "finished",
 * which may come after the client has read the whole reply: a client
 * tracking the same budget would then be given the tokens back first. */
static void
request_settle_output (Request *req)
{
  FjSimulator *self = req->self;
  double refund;
  gint64 now;

  if (!req->limited || req->output_settled)
    return;
  req->output_settled = TRUE;

  g_mutex_lock (&self->lock);
  refund = (double) req->reserved_output - req->output_sent;
  now = g_get_monotonic_time ();
  for (guint i = BUCKET_OUTPUT; i <= BUCKET_TOKENS; i++)
    if (self->buckets[i].capacity > 0)
      {
        bucket_refill (&self->buckets[i], now);
        self->buckets[i].level = MIN (self->buckets[i].capacity, self->buckets[i].level + refund);
      }
  g_mutex_unlock (&self->lock);
}

/* Everything of the response is handed to libsoup. */
static void
request_set_complete (Request *req)
{
  req->complete = TRUE;
  request_settle_output (req);
}

static void
request_resume (Request *req)
{
  if (req->paused)
    soup_server_message_unpause (req->msg);
}

/* Sends a complete JSON response. */
static void
respond_json (Request    *req,
              guint       status,
              char       *body)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (req->msg);

  request_set_status (req, status);
  soup_message_headers_set_encoding (headers, SOUP_ENCODING_CONTENT_LENGTH);
  soup_server_message_set_response (req->msg, "application/json",
                                    SOUP_MEMORY_TAKE, body, strlen (body));
  request_set_complete (req);
  request_resume (req);
}

static void
respond_error (Request    *req,
               guint       status,
               const char *type,
               const char *message,
               const char *outcome)
{
  request_ensure_id (req);
  if (req->openai)
    respond_json (req, status, openai_error_body (type, message));
  else
    respond_json (req, status, error_body (type, message, req->request_id));
  request_set_outcome (req, outcome);
}

static void
append_text (Request *req,
             char    *text)
{
  SoupMessageBody *body = soup_server_message_get_response_body (req->msg);

  soup_message_body_append (body, SOUP_MEMORY_TAKE, text, strlen (text));
  req->chunks_appended++;
}

/* The reply */

/* Appends @value as a JSON string escaped exactly as json-glib 1.6
 * escapes it (0x1f stays raw, 0x7f does not), so that replies are byte for
 * byte what json_to_string() gave, without building nodes per request. */
static void
append_json_string (GString    *out,
                    const char *value)
{
  const char *run = value;
  const char *p;

  g_string_append_c (out, '"');
  for (p = value; *p != '\0'; p++)
    {
      guchar c = *p;
      const char *escape;

      switch (c)
        {
        case '"': escape = "\\\""; break;
        case '\\': escape = "\\\\"; break;
        case '\b': escape = "\\b"; break;
        case '\f': escape = "\\f"; break;
        case '\n': escape = "\\n"; break;
        case '\r': escape = "\\r"; break;
        case '\t': escape = "\\t"; break;
        default:
          if (c >= 0x1f && c != 0x7f)
            continue;
          escape = NULL;
          break;
        }

      g_string_append_len (out, run, p - run);
      if (escape != NULL)
        g_string_append (out, escape);
      else
        g_string_append_printf (out, "\\u00%.2x", c);
      run = p + 1;
    }
  g_string_append_len (out, run, p - run);
  g_string_append_c (out, '"');
}

static void
append_usage (GString *out,
              Request *req,
              guint    output_tokens)
{
  g_string_append_printf (out,
                          "{\"input_tokens\":%" G_GINT64_FORMAT ",\"cache_creation_input_tokens\":%"
                          G_GINT64_FORMAT ",\"cache_read_input_tokens\":%" G_GINT64_FORMAT
                          ",\"output_tokens\":%u}",
                          req->input_tokens, req->cache_creation_tokens, req->cache_read_tokens,
                          output_tokens);
}

/* The response of a request that writes the cache has started: the
 * entry becomes readable (the earliest writer's start counts). */
static void
cache_mark_started (Request *req)
{
  FjSimulator *self = req->self;
  CacheEntry *entry;

  if (!req->cache_pending)
    return;
  req->cache_pending = FALSE;

  g_mutex_lock (&self->lock);
  entry = g_hash_table_lookup (self->prompt_cache, req->parsed.cache_key);
  if (entry != NULL && !entry->readable)
    {
      entry->readable = TRUE;
      entry->expires = g_get_monotonic_time () + (gint64) (entry->ttl * G_USEC_PER_SEC);
    }
  g_mutex_unlock (&self->lock);
}

static gboolean
cache_entry_expired (gpointer key,
                     gpointer value,
                     gpointer user_data)
{
  CacheEntry *entry = value;

  return entry->readable && entry->expires <= *(gint64 *) user_data;
}

/* Decides whether the request reads or writes its cached prefix.
 * Called with the lock held. */
static void
cache_plan (Request *req)
{
  FjSimulator *self = req->self;
  const FjSimRequest *parsed = &req->parsed;
  gint64 now = g_get_monotonic_time ();
  gint64 prefix = parsed->cache_prefix_tokens;
  double ttl = parsed->cache_ttl_long ? 3600 : req->scenario->cache.ttl;
  CacheEntry *entry;

  if (req->openai || parsed->cache_key == NULL || prefix <= 0 ||
      prefix < _fj_sim_scenario_cache_min_tokens (req->scenario, parsed->model))
    return;

  entry = g_hash_table_lookup (self->prompt_cache, parsed->cache_key);
  if (entry != NULL && entry->readable && now < entry->expires)
    {
      entry->ttl = MAX (entry->ttl, ttl);
      entry->expires = now + (gint64) (entry->ttl * G_USEC_PER_SEC);
      req->cache_read_tokens = prefix;
    }
  else
    {
      if (entry == NULL || entry->readable)
        {
          if (g_hash_table_size (self->prompt_cache) >= MAX_PROMPT_CACHE)
            g_hash_table_foreach_remove (self->prompt_cache, cache_entry_expired, &now);
          entry = g_new0 (CacheEntry, 1);
          g_hash_table_replace (self->prompt_cache, g_strdup (parsed->cache_key), entry);
        }
      entry->ttl = MAX (entry->ttl, ttl);
      req->cache_creation_tokens = prefix;
      req->cache_pending = TRUE;
    }

  req->input_tokens = req->input_tokens > prefix ? req->input_tokens - prefix : 0;
  req->entry->cache_creation_input_tokens = req->cache_creation_tokens;
  req->entry->cache_read_input_tokens = req->cache_read_tokens;
}

static JsonNode *
tool_input_node (Request *req)
{
  JsonNode *node;

  if (req->tool_use->input != NULL)
    return json_node_copy (req->tool_use->input);

  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, json_object_new ());
  return node;
}

/* The message object, as the JSON reply or inside message_start. */
static void
append_message (GString  *out,
                Request  *req,
                gboolean  streaming)
{
  g_autofree char *id = _fj_sim_make_id ("msg_", req->hash ^ G_GUINT64_CONSTANT (0x6d7367));

  /* This is where a response starts: message_start or the reply. */
  cache_mark_started (req);

  g_string_append (out, "{\"id\":");
  append_json_string (out, id);
  g_string_append (out, ",\"type\":\"message\",\"role\":\"assistant\",\"model\":");
  append_json_string (out, req->parsed.model);
  g_string_append (out, ",\"content\":[");
  if (!streaming)
    {
      g_autoptr(GString) text = g_string_sized_new (256);

      for (guint i = 0; i < req->text_tokens->len; i++)
        g_string_append (text, g_ptr_array_index (req->text_tokens, i));
      g_string_append (out, "{\"type\":\"text\",\"text\":");
      append_json_string (out, text->str);
      g_string_append_c (out, '}');

      if (req->tool_id != NULL)
        {
          g_autoptr(JsonNode) input = tool_input_node (req);
          g_autofree char *input_json = json_to_string (input, FALSE);

          g_string_append (out, ",{\"type\":\"tool_use\",\"id\":");
          append_json_string (out, req->tool_id);
          g_string_append (out, ",\"name\":");
          append_json_string (out, req->tool_name);
          g_string_append (out, ",\"input\":");
          g_string_append (out, input_json);
          g_string_append_c (out, '}');
        }
    }
  g_string_append (out, "],\"stop_reason\":");
  if (streaming)
    g_string_append (out, "null");
  else
    append_json_string (out, req->stop_reason);
  g_string_append (out, ",\"stop_sequence\":null,\"usage\":");
  append_usage (out, req, streaming ? MIN (1, req->output_tokens) : req->output_tokens);
  g_string_append_c (out, '}');
}

static char *
message_start_event (Request *req)
{
  GString *out = g_string_sized_new (512);

  g_string_append (out, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":");
  append_message (out, req, TRUE);
  g_string_append (out, "}\n\n");
  return g_string_free (out, FALSE);
}

/* The words of @text as tokens, at most @max_tokens of them. */
static GPtrArray *
split_words (const char *text,
             guint       max_tokens)
{
  g_auto(GStrv) words = g_strsplit (text, " ", -1);
  guint n_words = 0;

  for (guint i = 0; words[i] != NULL; i++)
    if (*words[i] != '\0')
      n_words++;

  return _fj_sim_reply_tokens (0, text, MIN (max_tokens, n_words));
}

/* Splits @json into a few pieces, as the API streams a tool's input. */
static GPtrArray *
split_pieces (const char *json)
{
  GPtrArray *pieces = g_ptr_array_new_with_free_func (g_free);
  glong n_chars = g_utf8_strlen (json, -1);
  glong n_pieces = CLAMP (n_chars / 8, 1, 3);
  glong start = 0;

  for (glong i = 0; i < n_pieces; i++)
    {
      glong end = (i + 1 == n_pieces) ? n_chars : n_chars * (i + 1) / n_pieces;

      g_ptr_array_add (pieces, g_utf8_substring (json, start, end));
      start = end;
    }

  return pieces;
}

static void
build_reply (Request *req)
{
  guint max_tokens = (guint) MIN (req->parsed.max_tokens, G_MAXUINT);
  const char *role = req->role;

  if (req->refusal)
    {
      req->text_tokens = split_words (REFUSAL_TEXT, max_tokens);
      req->output_tokens = req->text_tokens->len;
      req->stop_reason = "refusal";
      request_set_outcome (req, "refusal");
      return;
    }

  if (req->tool_use != NULL && req->parsed.first_tool != NULL &&
      req->parsed.tool_rounds < req->tool_use->turns)
    {
      const char *name = req->tool_use->name ? req->tool_use->name : req->parsed.first_tool;
      g_autofree char *text = g_strdup_printf ("As %s, I will use the %s tool.",
                                               role ? role : req->agent, name);
      g_autoptr(JsonNode) input = tool_input_node (req);
      g_autofree char *input_json = node_to_string (input);
      g_autoptr(GPtrArray) tokens = split_words (text, G_MAXUINT);
      g_autoptr(GPtrArray) pieces = split_pieces (input_json);

      if (tokens->len + pieces->len <= max_tokens)
        {
          req->text_tokens = g_steal_pointer (&tokens);
          req->tool_pieces = g_steal_pointer (&pieces);
          req->tool_name = g_strdup (name);
          req->tool_id = _fj_sim_make_id (req->openai ? "call_" : "toolu_",
                                          req->hash ^ G_GUINT64_CONSTANT (0x746f6f6c75));
          req->output_tokens = req->text_tokens->len + req->tool_pieces->len;
          req->stop_reason = "tool_use";
          request_set_outcome (req, "tool_use");
          return;
        }
    }

  {
    g_autofree char *opening = _fj_sim_reply_opening (role, req->agent, req->parsed.question,
                                                      req->parsed.tool_result_name,
                                                      req->parsed.tool_result);
    guint n = MIN (req->planned_tokens, max_tokens);

    req->text_tokens = _fj_sim_reply_tokens (req->hash, opening, n);
    req->output_tokens = n;
    req->stop_reason = n < req->planned_tokens ? "max_tokens" : "end_turn";
    request_set_outcome (req, "ok");
  }
}

static void
unit_clear (gpointer data)
{
  Unit *unit = data;

  g_free (unit->text);
}

static void
add_unit (Request  *req,
          char     *text,
          guint     tokens)
{
  Unit unit = { text, tokens, FALSE };

  g_array_append_val (req->units, unit);
}

/* A data-less event such as content_block_stop or message_stop. */
static char *
simple_event (const char *type,
              int         index)
{
  if (index >= 0)
    return g_strdup_printf ("event: %s\ndata: {\"type\":\"%s\",\"index\":%d}\n\n", type, type, index);
  return g_strdup_printf ("event: %s\ndata: {\"type\":\"%s\"}\n\n", type, type);
}

static char *
delta_event (int         index,
             const char *delta_type,
             const char *field,
             const char *value)
{
  GString *out = g_string_sized_new (128 + strlen (value));

  g_string_append_printf (out,
                          "event: content_block_delta\n"
                          "data: {\"type\":\"content_block_delta\",\"index\":%d,\"delta\":{\"type\":\"%s\",\"%s\":",
                          index, delta_type, field);
  append_json_string (out, value);
  g_string_append (out, "}}\n\n");
  return g_string_free (out, FALSE);
}

static char *
error_event_text (const FjSimFailure *failure)
{
  const char *type = failure->error_type ? failure->error_type : "overloaded_error";
  const char *message = failure->message ? failure->message : default_error_message (type);
  g_autofree char *body = error_body (type, message, NULL);

  return g_strdup_printf ("event: error\ndata: %s\n\n", body);
}

/* Lays out the whole stream as units; paced units carry tokens. A fault
 * replaces everything after its position. */
static void
build_stream (Request *req)
{
  GString *delta;
  guint fault_at = G_MAXUINT;
  guint paced = 0;
  FjSimFault fault = req->failure ? req->failure->fault : FJ_SIM_FAULT_NONE;
  guint total = req->text_tokens->len + (req->tool_pieces ? req->tool_pieces->len : 0);

  req->units = g_array_new (FALSE, TRUE, sizeof (Unit));
  g_array_set_clear_func (req->units, unit_clear);

  add_unit (req, message_start_event (req), 0);

  if (fault == FJ_SIM_FAULT_DROP || fault == FJ_SIM_FAULT_ERROR_EVENT ||
      fault == FJ_SIM_FAULT_MALFORMED_JSON)
    fault_at = req->failure->after_tokens >= 0 ? (guint) req->failure->after_tokens : total / 2;

#define CHECK_FAULT() \
  G_STMT_START { \
    if (paced == fault_at) \
      goto fault; \
  } G_STMT_END

  add_unit (req, g_strdup ("event: content_block_start\n"
                            "data: {\"type\":\"content_block_start\",\"index\":0,"
                            "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"), 0);
  add_unit (req, g_strdup ("event: ping\ndata: {\"type\": \"ping\"}\n\n"), 0);

  for (guint i = 0; i < req->text_tokens->len; i++)
    {
      CHECK_FAULT ();
      add_unit (req, delta_event (0, "text_delta", "text", g_ptr_array_index (req->text_tokens, i)), 1);
      paced++;
    }
  CHECK_FAULT ();
  add_unit (req, simple_event ("content_block_stop", 0), 0);

  if (req->tool_id != NULL)
    {
      GString *start = g_string_new ("event: content_block_start\n"
                                     "data: {\"type\":\"content_block_start\",\"index\":1,"
                                     "\"content_block\":{\"type\":\"tool_use\",\"id\":");

      append_json_string (start, req->tool_id);
      g_string_append (start, ",\"name\":");
      append_json_string (start, req->tool_name);
      g_string_append (start, ",\"input\":{}}}\n\n");
      add_unit (req, g_string_free (start, FALSE), 0);

      for (guint i = 0; i < req->tool_pieces->len; i++)
        {
          CHECK_FAULT ();
          add_unit (req, delta_event (1, "input_json_delta", "partial_json",
                                      g_ptr_array_index (req->tool_pieces, i)), 1);
          paced++;
        }
      CHECK_FAULT ();
      add_unit (req, simple_event ("content_block_stop", 1), 0);
    }

  delta = g_string_new ("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":");
  append_json_string (delta, req->stop_reason);
  g_string_append (delta, ",\"stop_sequence\":null},\"usage\":");
  append_usage (delta, req, req->output_tokens);
  g_string_append (delta, "}\n\n");
  add_unit (req, g_string_free (delta, FALSE), 0);
  add_unit (req, simple_event ("message_stop", -1), 0);
  return;

#undef CHECK_FAULT

fault:
  switch (fault)
    {
    case FJ_SIM_FAULT_DROP:
      {
        /* The event that would have come next; half of it is sent. */
        Unit unit = { NULL, 0, TRUE };

        if (paced < req->text_tokens->len)
          unit.text = delta_event (0, "text_delta", "text", g_ptr_array_index (req->text_tokens, paced));
        else
          unit.text = simple_event ("content_block_stop", 0);
        g_array_append_val (req->units, unit);
        request_set_outcome (req, "drop");
      }
      break;

    case FJ_SIM_FAULT_ERROR_EVENT:
      add_unit (req, error_event_text (req->failure), 0);
      request_set_outcome (req, "error_event");
      break;

    case FJ_SIM_FAULT_MALFORMED_JSON:
      add_unit (req, g_strdup ("event: content_block_delta\n"
                               "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"\n\n"),
                0);
      request_set_outcome (req, "malformed_json");
      break;

    case FJ_SIM_FAULT_NONE:
    case FJ_SIM_FAULT_TRICKLE:
    case FJ_SIM_FAULT_HANG:
    default:
      g_assert_not_reached ();
    }
}

/* OpenAI Chat Completions replies */

static const char *
openai_completion_id (Request *req)
{
  if (req->completion_id == NULL)
    req->completion_id = _fj_sim_make_id ("chatcmpl-", req->hash ^ G_GUINT64_CONSTANT (0x63686174));
  return req->completion_id;
}

static const char *
openai_finish_reason (const char *stop_reason)
{
  if (g_strcmp0 (stop_reason, "max_tokens") == 0)
    return "length";
  if (g_strcmp0 (stop_reason, "tool_use") == 0)
    return "tool_calls";
  if (g_strcmp0 (stop_reason, "refusal") == 0)
    return "content_filter";
  return "stop";
}

static void
openai_append_usage (GString *out,
                     Request *req,
                     guint    output_tokens)
{
  g_string_append_printf (out,
                          "{\"prompt_tokens\":%" G_GINT64_FORMAT ",\"completion_tokens\":%u,"
                          "\"total_tokens\":%" G_GINT64_FORMAT ","
                          "\"prompt_tokens_details\":{\"cached_tokens\":0}}",
                          req->input_tokens, output_tokens, req->input_tokens + output_tokens);
}

/* {"id":…,"object":OBJECT,"created":…,"model":…, */
static void
openai_append_head (GString    *out,
                    Request    *req,
                    const char *object)
{
  g_string_append (out, "{\"id\":");
  append_json_string (out, openai_completion_id (req));
  g_string_append_printf (out, ",\"object\":\"%s\",\"created\":%d,\"model\":", object, OPENAI_CREATED);
  append_json_string (out, req->parsed.model);
  g_string_append_c (out, ',');
}

static char *
openai_tool_arguments (Request *req)
{
  g_autoptr(JsonNode) input = tool_input_node (req);

  return json_to_string (input, FALSE);
}

/* The chat.completion object of a JSON reply. */
static void
openai_append_completion (GString *out,
                          Request *req)
{
  g_autoptr(GString) text = g_string_sized_new (256);

  for (guint i = 0; i < req->text_tokens->len; i++)
    g_string_append (text, g_ptr_array_index (req->text_tokens, i));

  openai_append_head (out, req, "chat.completion");
  g_string_append (out, "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":");
  append_json_string (out, text->str);
  if (req->tool_id != NULL)
    {
      g_autofree char *arguments = openai_tool_arguments (req);

      g_string_append (out, ",\"tool_calls\":[{\"id\":");
      append_json_string (out, req->tool_id);
      g_string_append (out, ",\"type\":\"function\",\"function\":{\"name\":");
      append_json_string (out, req->tool_name);
      g_string_append (out, ",\"arguments\":");
      append_json_string (out, arguments);
      g_string_append (out, "}}]");
    }
  g_string_append (out, "},\"logprobs\":null,\"finish_reason\":");
  append_json_string (out, openai_finish_reason (req->stop_reason));
  g_string_append (out, "}],\"usage\":");
  openai_append_usage (out, req, req->output_tokens);
  g_string_append_c (out, '}');
}

/* A chat.completion.chunk event with @delta (JSON text). */
static char *
openai_chunk (Request    *req,
              const char *delta,
              const char *finish_reason)
{
  GString *out = g_string_sized_new (256 + strlen (delta));

  g_string_append (out, "data: ");
  openai_append_head (out, req, "chat.completion.chunk");
  g_string_append (out, "\"choices\":[{\"index\":0,\"delta\":");
  g_string_append (out, delta);
  g_string_append (out, ",\"logprobs\":null,\"finish_reason\":");
  if (finish_reason != NULL)
    append_json_string (out, finish_reason);
  else
    g_string_append (out, "null");
  g_string_append (out, "}]}\n\n");
  return g_string_free (out, FALSE);
}

static char *
openai_role_chunk (Request *req)
{
  return openai_chunk (req, "{\"role\":\"assistant\",\"content\":\"\"}", NULL);
}

static char *
openai_text_chunk (Request    *req,
                   const char *text)
{
  g_autoptr(GString) delta = g_string_new ("{\"content\":");

  append_json_string (delta, text);
  g_string_append_c (delta, '}');
  return openai_chunk (req, delta->str, NULL);
}

static char *
openai_tool_piece_chunk (Request    *req,
                         const char *piece)
{
  g_autoptr(GString) delta = g_string_new ("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":");

  append_json_string (delta, piece);
  g_string_append (delta, "}}]}");
  return openai_chunk (req, delta->str, NULL);
}

static char *
openai_error_chunk (const FjSimFailure *failure)
{
  const char *type = failure->error_type ? failure->error_type : "overloaded_error";
  const char *message = failure->message ? failure->message : default_error_message (type);
  g_autofree char *body = openai_error_body (type, message);

  return g_strdup_printf ("data: %s\n\n", body);
}

/* The chunk that would come after @paced paced units. */
static char *
openai_next_chunk (Request *req,
                   guint    paced)
{
  guint n_text = req->text_tokens->len;

  if (paced < n_text)
    return openai_text_chunk (req, g_ptr_array_index (req->text_tokens, paced));
  if (req->tool_pieces != NULL && paced - n_text < req->tool_pieces->len)
    return openai_tool_piece_chunk (req, g_ptr_array_index (req->tool_pieces, paced - n_text));
  return openai_chunk (req, "{}", openai_finish_reason (req->stop_reason));
}

/* As build_stream(), for an OpenAI stream: a role chunk, content chunks,
 * the tool call in pieces by index, the finish_reason chunk, the usage
 * chunk when asked for, then [DONE]. */
static void
openai_build_stream (Request *req)
{
  guint fault_at = G_MAXUINT;
  guint paced = 0;
  FjSimFault fault = req->failure ? req->failure->fault : FJ_SIM_FAULT_NONE;
  guint total = req->text_tokens->len + (req->tool_pieces ? req->tool_pieces->len : 0);
  char *pending = NULL;

  req->units = g_array_new (FALSE, TRUE, sizeof (Unit));
  g_array_set_clear_func (req->units, unit_clear);

  add_unit (req, openai_role_chunk (req), 0);

  if (fault == FJ_SIM_FAULT_DROP || fault == FJ_SIM_FAULT_ERROR_EVENT ||
      fault == FJ_SIM_FAULT_MALFORMED_JSON)
    fault_at = req->failure->after_tokens >= 0 ? (guint) req->failure->after_tokens : total / 2;

  for (guint i = 0; i < req->text_tokens->len; i++)
    {
      if (paced == fault_at)
        goto fault;
      add_unit (req, openai_text_chunk (req, g_ptr_array_index (req->text_tokens, i)), 1);
      paced++;
    }

  if (req->tool_id != NULL)
    {
      GString *delta = g_string_new ("{\"tool_calls\":[{\"index\":0,\"id\":");
      char *chunk;

      append_json_string (delta, req->tool_id);
      g_string_append (delta, ",\"type\":\"function\",\"function\":{\"name\":");
      append_json_string (delta, req->tool_name);
      g_string_append (delta, ",\"arguments\":\"\"}}]}");
      chunk = openai_chunk (req, delta->str, NULL);
      g_string_free (delta, TRUE);
      if (paced == fault_at)
        {
          pending = chunk;
          goto fault;
        }
      add_unit (req, chunk, 0);

      for (guint i = 0; i < req->tool_pieces->len; i++)
        {
          if (paced == fault_at)
            goto fault;
          add_unit (req, openai_tool_piece_chunk (req, g_ptr_array_index (req->tool_pieces, i)), 1);
          paced++;
        }
    }

  if (paced == fault_at)
    goto fault;
  add_unit (req, openai_chunk (req, "{}", openai_finish_reason (req->stop_reason)), 0);
  if (req->parsed.include_usage)
    {
      GString *usage = g_string_new ("data: ");

      openai_append_head (usage, req, "chat.completion.chunk");
      g_string_append (usage, "\"choices\":[],\"usage\":");
      openai_append_usage (usage, req, req->output_tokens);
      g_string_append (usage, "}\n\n");
      add_unit (req, g_string_free (usage, FALSE), 0);
    }
  add_unit (req, g_strdup ("data: [DONE]\n\n"), 0);
  return;

fault:
  switch (fault)
    {
    case FJ_SIM_FAULT_DROP:
      {
        /* The chunk that would have come next; half of it is sent. */
        Unit unit = { pending != NULL ? g_steal_pointer (&pending) : openai_next_chunk (req, paced), 0, TRUE };

        g_array_append_val (req->units, unit);
        request_set_outcome (req, "drop");
      }
      break;

    case FJ_SIM_FAULT_ERROR_EVENT:
      add_unit (req, openai_error_chunk (req->failure), 0);
      request_set_outcome (req, "error_event");
      break;

    case FJ_SIM_FAULT_MALFORMED_JSON:
      {
        GString *broken = g_string_new ("data: ");

        openai_append_head (broken, req, "chat.completion.chunk");
        g_string_append (broken, "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\n\n");
        add_unit (req, g_string_free (broken, FALSE), 0);
        request_set_outcome (req, "malformed_json");
      }
      break;

    case FJ_SIM_FAULT_NONE:
    case FJ_SIM_FAULT_TRICKLE:
    case FJ_SIM_FAULT_HANG:
    default:
      g_assert_not_reached ();
    }
  g_free (pending);
}

/* Timers and watches, all on the simulator's context */

static gboolean
timer_before (const Request *a,
              const Request *b)
{
  if (a->timer_deadline != b->timer_deadline)
    return a->timer_deadline < b->timer_deadline;
  return a->timer_seq < b->timer_seq;
}

static void
timers_set (GPtrArray *timers,
            guint      index,
            Request   *req)
{
  timers->pdata[index] = req;
  req->timer_index = index;
}

static void
timers_sift_up (GPtrArray *timers,
                guint      index)
{
  Request *req = timers->pdata[index];

  while (index > 0)
    {
      guint parent = (index - 1) / 2;

      if (!timer_before (req, timers->pdata[parent]))
        break;
      timers_set (timers, index, timers->pdata[parent]);
      index = parent;
    }
  timers_set (timers, index, req);
}

static void
timers_sift_down (GPtrArray *timers,
                  guint      index)
{
  Request *req = timers->pdata[index];

  for (;;)
    {
      guint child = 2 * index + 1;

      if (child >= timers->len)
        break;
      if (child + 1 < timers->len && timer_before (timers->pdata[child + 1], timers->pdata[child]))
        child++;
      if (!timer_before (timers->pdata[child], req))
        break;
      timers_set (timers, index, timers->pdata[child]);
      index = child;
    }
  timers_set (timers, index, req);
}

static gboolean latency_cb (gpointer user_data);

/* Sets the timerfd to @deadline (monotonic µs, -1 to disarm). */
static void
timer_fd_set (FjSimulator *self,
              gint64       deadline)
{
#ifdef __linux__
  struct itimerspec spec = { { 0, 0 }, { 0, 0 } };

  if (self->timer_fd < 0 || self->timer_fd_deadline == deadline)
    return;

  self->timer_fd_deadline = deadline;
  if (deadline >= 0)
    {
      /* g_get_monotonic_time() is CLOCK_MONOTONIC; all zero would disarm. */
      spec.it_value.tv_sec = deadline / G_USEC_PER_SEC;
      spec.it_value.tv_nsec = (deadline % G_USEC_PER_SEC) * 1000 + (deadline == 0);
    }
  timerfd_settime (self->timer_fd, TFD_TIMER_ABSTIME, &spec, NULL);
#endif
}

/* The main loop's poll() counts whole milliseconds, rounded up, so a timer
 * fires up to a millisecond late. For a reply's latency that is an error
 * every request pays, and a benchmark of waves of requests adds it up wave
 * after wave: on Linux, a timerfd wakes the source when the next timer is a
 * reply's. Other timers (a stream's pace, faults) keep the main loop's
 * milliseconds: a stream has one every few milliseconds, and a wake-up each
 * cost a streaming simulator half as much CPU again. */
static void
timers_update_source (FjSimulator *self)
{
  Request *next;
  gint64 ready;

  if (self->firing_timers)
    return;

  next = self->timers->len > 0 ? self->timers->pdata[0] : NULL;
  ready = next != NULL ? next->timer_deadline : -1;
  if (g_source_get_ready_time (self->timer_source) != ready)
    g_source_set_ready_time (self->timer_source, ready);
  timer_fd_set (self, next != NULL && next->timer_func == latency_cb ? ready : -1);
}

static void
request_clear_timer (Request *req)
{
  GPtrArray *timers = req->self->timers;
  guint index = req->timer_index;
  Request *last;

  if (req->timer_func == NULL)
    return;

  req->timer_func = NULL;
  last = g_ptr_array_steal_index (timers, timers->len - 1);
  if (last != req)
    {
      timers_set (timers, index, last);
      timers_sift_down (timers, index);
      timers_sift_up (timers, last->timer_index);
    }
  if (index == 0)
    timers_update_source (req->self);
}

/* Calls @func @seconds after @from (monotonic µs). */
static void
request_schedule_from (Request     *req,
                       gint64       from,
                       double       seconds,
                       GSourceFunc  func)
{
  FjSimulator *self = req->self;
  /* Whole milliseconds, as g_timeout_source_new() counts them. */
  guint ms = (guint) MIN (ceil (MAX (0, seconds) * 1000), G_MAXUINT);

  request_clear_timer (req);
  req->timer_func = func;
  req->timer_deadline = from + (gint64) ms * 1000;
  req->timer_seq = ++self->timer_seq;
  g_ptr_array_add (self->timers, req);
  timers_sift_up (self->timers, self->timers->len - 1);
  if (req->timer_index == 0)
    timers_update_source (self);
}

static void
request_schedule (Request     *req,
                  double       seconds,
                  GSourceFunc  func)
{
  request_schedule_from (req, g_get_monotonic_time (), seconds, func);
}

/* Fires the timers that are due, in order; those their callbacks schedule
 * wait for the next dispatch. */
typedef struct
{
  GSource      source;
  FjSimulator *self;
} TimerSource;

static gboolean
timers_dispatch (GSource     *source,
                 GSourceFunc  callback,
                 gpointer     user_data)
{
  FjSimulator *self = ((TimerSource *) source)->self;
  gint64 now = g_get_monotonic_time ();
  guint64 last_seq = self->timer_seq;

#ifdef __linux__
  if (self->timer_fd_tag != NULL &&
      (g_source_query_unix_fd (source, self->timer_fd_tag) & G_IO_IN) != 0)
    {
      guint64 expirations;

      if (read (self->timer_fd, &expirations, sizeof expirations) < 0)
        expirations = 0;
      self->timer_fd_deadline = -1;
    }
#endif

  self->firing_timers = TRUE;
  while (self->timers->len > 0)
    {
      Request *req = self->timers->pdata[0];
      GSourceFunc func = req->timer_func;

      if (req->timer_deadline > now || req->timer_seq > last_seq)
        break;
      request_clear_timer (req);
      func (req);
    }
  self->firing_timers = FALSE;

  timers_update_source (self);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs timer_source_funcs = { NULL, NULL, timers_dispatch, NULL, NULL, NULL };

static guint
address_port (GSocketAddress *address)
{
  if (!G_IS_INET_SOCKET_ADDRESS (address))
    return 0;
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address));
}

/* The socket of @msg's connection. libsoup knows it only for connections
 * it accepted itself; for one it was handed back after a pause between
 * two requests (idle_connection_event()), it is found by the client's
 * port. */
static GSocket *
message_get_socket (FjSimulator       *self,
                    SoupServerMessage *msg)
{
  GSocket *socket = soup_server_message_get_socket (msg);
  gpointer port;

  if (socket != NULL || g_hash_table_size (self->adopted) == 0)
    return socket;

  port = GUINT_TO_POINTER (address_port (soup_server_message_get_remote_address (msg)));
  socket = g_hash_table_lookup (self->adopted, port);
  if (socket != NULL && g_socket_is_closed (socket))
    {
      g_hash_table_remove (self->adopted, port);
      socket = NULL;
    }

  return socket;
}

static void
request_unwatch (Request *req)
{
#ifdef __linux__
  if (req->watch_fd >= 0)
    {
      FjSimulator *self = req->self;
      GSocket *socket = message_get_socket (self, req->msg);

      /* A closed socket left the epoll set by itself, and its number may
       * be another's by now. */
      if (socket != NULL && !g_socket_is_closed (socket) && g_socket_get_fd (socket) == req->watch_fd)
        epoll_ctl (self->epoll_fd, EPOLL_CTL_DEL, req->watch_fd, NULL);
      g_hash_table_remove (self->watched, &req->watch_id);
      req->watch_fd = -1;
    }
#endif
  if (req->watch != NULL)
    {
      g_source_destroy (req->watch);
      g_clear_pointer (&req->watch, g_source_unref);
    }
}

/* Closes the request's connection under libsoup's feet, after writing
 * @last (if any, and only over plain HTTP) to it: the client sees the
 * response break off. The socket is shut down first because taking the
 * connection from libsoup ends a chunked body cleanly. */
static void
request_close_connection (Request    *req,
                          const char *last)
{
  GSocket *socket = message_get_socket (req->self, req->msg);
  g_autoptr(GIOStream) stream = NULL;

  g_signal_handlers_disconnect_by_data (req->msg, req);
  request_unwatch (req);

  if (socket != NULL)
    {
      if (last != NULL && !req->self->tls)
        g_socket_send (socket, last, strlen (last), NULL, NULL);
      g_socket_shutdown (socket, TRUE, TRUE, NULL);
    }

  stream = soup_server_message_steal_connection (req->msg);
  if (stream != NULL)
    g_io_stream_close (stream, NULL, NULL);
}

static gboolean
drop_cb (gpointer user_data)
{
  Request *req = user_data;
  g_autofree char *partial = NULL;


  /* libsoup 3.2 reads a connection closed between two chunks as the end of
   * the body, without an error: break off inside a chunk instead. (Over
   * HTTPS the connection just closes.) */
  if (req->drop_text != NULL)
    {
      gsize length = strlen (req->drop_text);

      partial = g_strdup_printf ("%" G_GSIZE_MODIFIER "x\r\n%.*s", length, (int) (length / 2), req->drop_text);
    }

  request_close_connection (req, partial);
  request_finish (req, NULL);
  return G_SOURCE_REMOVE;
}

static void
request_drop_when_written (Request *req)
{
  req->drop_pending = TRUE;
  if (req->chunks_written == req->chunks_appended)
    request_schedule (req, 0, drop_cb);
}

static void
stream_append_units (Request *req,
                     guint    max_tokens)
{
  g_autoptr(GString) text = g_string_new (NULL);
  guint tokens = 0;

  while (req->next_unit < req->units->len)
    {
      Unit *unit = &g_array_index (req->units, Unit, req->next_unit);

      if (unit->drop)
        break;
      if (unit->tokens > 0 && tokens >= max_tokens)
        break;
      g_string_append (text, unit->text);
      tokens += unit->tokens;
      req->next_unit++;
    }

  req->output_sent += tokens;
  if (text->len > 0)
    append_text (req, g_string_free (g_steal_pointer (&text), FALSE));

  if (req->next_unit < req->units->len &&
      g_array_index (req->units, Unit, req->next_unit).drop)
    {
      req->drop_text = g_strdup (g_array_index (req->units, Unit, req->next_unit).text);
      req->next_unit = req->units->len;
      request_drop_when_written (req);
    }
  else if (req->next_unit == req->units->len)
    {
      soup_message_body_complete (soup_server_message_get_response_body (req->msg));
      request_set_complete (req);
    }

  request_resume (req);
}

static gboolean
stream_tick_cb (gpointer user_data)
{
  Request *req = user_data;
  gint64 next;

  stream_append_units (req, req->per_tick);
  req->ticks++;

  if (req->next_unit < req->units->len)
    {
      next = req->stream_start + (gint64) ((req->ticks + 1) * req->tick_seconds * G_USEC_PER_SEC);
      request_schedule (req, (next - g_get_monotonic_time ()) / (double) G_USEC_PER_SEC, stream_tick_cb);
    }

  return G_SOURCE_REMOVE;
}

static void
start_stream_headers (Request *req)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (req->msg);

  request_set_status (req, SOUP_STATUS_OK);
  soup_message_headers_replace (headers, "Content-Type", "text/event-stream; charset=utf-8");
  soup_message_headers_replace (headers, "Cache-Control", "no-cache");
  soup_message_headers_set_encoding (headers, SOUP_ENCODING_CHUNKED);
}

static void
start_stream (Request *req)
{
  start_stream_headers (req);
  if (req->openai)
    openai_build_stream (req);
  else
    build_stream (req);

  if (req->tokens_per_second <= 0)
    {
      stream_append_units (req, G_MAXUINT);
      return;
    }

  /* Headers and message_start now, then tokens at the pace asked, a few
   * per tick when ticks would come closer than MIN_TICK_SECONDS. */
  stream_append_units (req, 0);
  if (req->next_unit < req->units->len)
    {
      req->per_tick = MAX (1, (guint) ceil (MIN_TICK_SECONDS * req->tokens_per_second));
      req->tick_seconds = req->per_tick / req->tokens_per_second;
      req->stream_start = g_get_monotonic_time ();
      req->ticks = 0;
      request_schedule (req, req->tick_seconds, stream_tick_cb);
    }
}

static gboolean
trickle_cb (gpointer user_data)
{
  Request *req = user_data;

  if (req->parsed.stream && req->openai)
    append_text (req, g_strdup (": ping\n\n"));
  else if (req->parsed.stream)
    append_text (req, g_strdup ("event: ping\ndata: {\"type\": \"ping\"}\n\n"));
  else
    append_text (req, g_strdup (" "));
  request_resume (req);
  request_schedule (req, req->failure->interval, trickle_cb);
  return G_SOURCE_REMOVE;
}

static void
start_trickle (Request *req)
{
  request_set_outcome (req, "trickle");

  if (req->parsed.stream)
    {
      start_stream_headers (req);
      append_text (req, req->openai ? openai_role_chunk (req) : message_start_event (req));
    }
  else
    {
      SoupMessageHeaders *headers = soup_server_message_get_response_headers (req->msg);

      request_set_status (req, SOUP_STATUS_OK);
      soup_message_headers_replace (headers, "Content-Type", "application/json");
      soup_message_headers_set_encoding (headers, SOUP_ENCODING_CHUNKED);
      append_text (req, g_strdup (" "));
    }

  request_resume (req);
  request_schedule (req, req->failure->interval, trickle_cb);
}

static void
send_json_reply (Request *req)
{
  GString *reply = g_string_sized_new (512 + 16 * req->text_tokens->len);
  char *body;
  FjSimFault fault = req->failure ? req->failure->fault : FJ_SIM_FAULT_NONE;

  if (req->openai)
    openai_append_completion (reply, req);
  else
    append_message (reply, req, FALSE);
  body = g_string_free (reply, FALSE);

  if (fault == FJ_SIM_FAULT_DROP)
    {
      SoupMessageHeaders *headers = soup_server_message_get_response_headers (req->msg);
      gsize length = strlen (body);

      /* Promise the whole body, send half, then break the connection. */
      request_set_status (req, SOUP_STATUS_OK);
      soup_message_headers_replace (headers, "Content-Type", "application/json");
      soup_message_headers_set_content_length (headers, length);
      body[length / 2] = '\0';
      append_text (req, body);
      request_set_outcome (req, "drop");
      request_drop_when_written (req);
      request_resume (req);
      return;
    }

  if (fault == FJ_SIM_FAULT_MALFORMED_JSON)
    {
      body[strlen (body) / 2] = '\0';
      request_set_outcome (req, "malformed_json");
    }

  req->output_sent = req->output_tokens;
  respond_json (req, SOUP_STATUS_OK, body);
}

static gboolean
paced_json_cb (gpointer user_data)
{
  Request *req = user_data;

  send_json_reply (req);
  return G_SOURCE_REMOVE;
}

static void
respond_failure_status (Request *req)
{
  const FjSimFailure *failure = req->failure;
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (req->msg);
  const char *type = failure->error_type ? failure->error_type : error_type_for_status (failure->status);
  const char *message = failure->message ? failure->message : default_error_message (type);
  g_autofree char *outcome = g_strdup_printf ("http-%u", failure->status);

  if (failure->retry_after >= 0)
    {
      char buf[G_ASCII_DTOSTR_BUF_SIZE];

      g_ascii_formatd (buf, sizeof buf, "%.3g", failure->retry_after);
      soup_message_headers_replace (headers, "retry-after", buf);
    }
  if (failure->retry_after_ms >= 0)
    {
      char buf[G_ASCII_DTOSTR_BUF_SIZE];

      g_ascii_formatd (buf, sizeof buf, "%.10g", failure->retry_after_ms);
      soup_message_headers_replace (headers, "retry-after-ms", buf);
    }
  if (failure->should_retry >= 0)
    soup_message_headers_replace (headers, "x-should-retry", failure->should_retry ? "true" : "false");

  respond_error (req, failure->status, type, message, outcome);
}

static gboolean
latency_cb (gpointer user_data)
{
  Request *req = user_data;
  FjSimFault fault = req->failure ? req->failure->fault : FJ_SIM_FAULT_NONE;


  if (req->failure != NULL && req->failure->status > 0)
    {
      respond_failure_status (req);
      return G_SOURCE_REMOVE;
    }

  switch (fault)
    {
    case FJ_SIM_FAULT_HANG:
      request_set_outcome (req, "hang");
      return G_SOURCE_REMOVE;

    case FJ_SIM_FAULT_TRICKLE:
      start_trickle (req);
      return G_SOURCE_REMOVE;

    case FJ_SIM_FAULT_ERROR_EVENT:
      if (!req->parsed.stream)
        {
          /* A JSON reply has no events: the same error as a status. */
          const char *type = req->failure->error_type ? req->failure->error_type : "overloaded_error";
          const char *message = req->failure->message ? req->failure->message : default_error_message (type);

          respond_error (req, status_for_error_type (type), type, message, "error_event");
          return G_SOURCE_REMOVE;
        }
      break;

    case FJ_SIM_FAULT_NONE:
    case FJ_SIM_FAULT_DROP:
    case FJ_SIM_FAULT_MALFORMED_JSON:
    default:
      break;
    }

  build_reply (req);

  if (req->parsed.stream)
    start_stream (req);
  else if (req->tokens_per_second > 0 && req->output_tokens > 0)
    request_schedule (req, req->output_tokens / req->tokens_per_second, paced_json_cb);
  else
    send_json_reply (req);

  return G_SOURCE_REMOVE;
}

/* Disconnects */

static void
count_disconnect (Request *req)
{
  g_mutex_lock (&req->self->lock);
  req->self->n_disconnects++;
  g_mutex_unlock (&req->self->lock);
}

/* The client closed its connection while the request waited. */
static void
request_watch_fired (Request *req)
{
  /* Everything is with libsoup already: let it finish the response. */
  if (req->complete)
    return;

  g_debug ("simulator: %s: the client closed its connection", req->request_id);
  count_disconnect (req);
  request_close_connection (req, NULL);
  request_finish (req, "client-closed");
}

static gboolean
watch_cb (GSocket      *socket,
          GIOCondition  condition,
          gpointer      user_data)
{
  Request *req = user_data;

#ifndef __linux__
  /* Without POLLRDHUP: readable with nothing to read means closed; data
   * (a pipelined request) means we cannot tell, so stop watching. */
  if ((condition & (G_IO_HUP | G_IO_ERR)) == 0)
    {
      GInputVector vector;
      char byte;
      int flags = G_SOCKET_MSG_PEEK;
      gssize n;

      vector.buffer = &byte;
      vector.size = 1;
      n = g_socket_receive_message (socket, NULL, &vector, 1, NULL, NULL, &flags, NULL, NULL);
      if (n != 0)
        {
          g_clear_pointer (&req->watch, g_source_unref);
          return G_SOURCE_REMOVE;
        }
    }
#endif

  g_clear_pointer (&req->watch, g_source_unref);
  request_watch_fired (req);
  return G_SOURCE_REMOVE;
}

#ifdef __linux__
/* Keep-alive connections between requests.
 *
 * libsoup 3.2 never closes a keep-alive connection that its client closes
 * between two requests (fixed in 3.3, "server: do not leak idle
 * connections closed by the client"): the socket stays in CLOSE-WAIT and
 * the connection in the server for good, so a long-lived simulator ran
 * out of descriptors. Instead, once a response is written the simulator
 * takes the connection from libsoup and watches it itself: when the
 * client closes it, so does the simulator; when a request arrives, the
 * connection goes back to libsoup. A client that sends a request and
 * then shuts its side down at once is taken for one that left. */

static gboolean
message_keeps_alive (SoupServerMessage *msg)
{
  SoupMessageHeaders *request = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *response = soup_server_message_get_response_headers (msg);

  if (soup_message_headers_header_contains (request, "Connection", "close") ||
      soup_message_headers_header_contains (response, "Connection", "close"))
    return FALSE;
  if (soup_server_message_get_http_version (msg) == SOUP_HTTP_1_0)
    return soup_message_headers_header_contains (request, "Connection", "Keep-Alive");

  return soup_server_message_get_http_version (msg) == SOUP_HTTP_1_1;
}

/* libsoup hands a connection over in a wrapper of its own whose base is
 * the connection; handing the wrapper back would stack one more wrapper
 * for every request. */
static GIOStream *
unwrap_stream (GIOStream *stream)
{
  GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (stream), "base-iostream");
  GIOStream *base = NULL;

  if (pspec == NULL || !g_type_is_a (pspec->value_type, G_TYPE_IO_STREAM))
    return stream;

  g_object_get (stream, "base-iostream", &base, NULL);
  if (base == NULL)
    return stream;

  g_object_unref (stream);
  return base;
}

static void
take_idle_connection (FjSimulator       *self,
                      SoupServerMessage *msg)
{
  GSocket *socket = message_get_socket (self, msg);
  GSocketAddress *local = soup_server_message_get_local_address (msg);
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);
  struct epoll_event event = { 0 };
  IdleConnection *idle;
  GIOStream *stream;

  if (socket == NULL || local == NULL || remote == NULL || self->epoll_fd < 0)
    return;

  idle = g_new0 (IdleConnection, 1);
  idle->socket = g_object_ref (socket);
  idle->local = g_object_ref (local);
  idle->remote = g_object_ref (remote);
  g_hash_table_remove (self->adopted, GUINT_TO_POINTER (address_port (remote)));

  stream = soup_server_message_steal_connection (msg);
  if (stream == NULL)
    {
      idle_connection_free (idle);
      return;
    }
  idle->stream = unwrap_stream (stream);

  event.events = EPOLLIN | EPOLLRDHUP;
  event.data.u64 = idle->watch_id = ++self->watch_seq;
  if (epoll_ctl (self->epoll_fd, EPOLL_CTL_ADD, g_socket_get_fd (socket), &event) != 0)
    {
      g_io_stream_close (idle->stream, NULL, NULL);
      idle_connection_free (idle);
      return;
    }
  g_hash_table_insert (self->idle, &idle->watch_id, idle);
}

/* When the bytes waiting on @socket arrived (the last of them, or of their
 * first 16 KiB, in monotonic µs), from the kernel's receive timestamps
 * (the listening socket asked for them, and its connections inherit
 * that); 0 when there are none.  They are only peeked at: libsoup reads
 * them next. */
static gint64
idle_connection_arrival (FjSimulator *self,
                         GSocket     *socket,
                         gint64       poll_time)
{
  char buffer[16384];
  union { char buf[CMSG_SPACE (sizeof (struct timespec))]; struct cmsghdr align; } control;
  struct iovec iov = { buffer, sizeof buffer };
  struct msghdr message = { 0 };
  gint64 arrival;

  if (!self->kernel_arrivals)
    return 0;

  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  message.msg_control = control.buf;
  message.msg_controllen = sizeof control.buf;
  if (recvmsg (g_socket_get_fd (socket), &message, MSG_PEEK | MSG_DONTWAIT) <= 0)
    return 0;

  for (struct cmsghdr *cmsg = CMSG_FIRSTHDR (&message); cmsg != NULL; cmsg = CMSG_NXTHDR (&message, cmsg))
    {
      struct timespec stamp;

      if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_TIMESTAMPNS)
        continue;
      memcpy (&stamp, CMSG_DATA (cmsg), sizeof stamp);
      /* The stamp is on the real-time clock. */
      arrival = g_get_monotonic_time () - g_get_real_time () +
                (gint64) stamp.tv_sec * G_USEC_PER_SEC + stamp.tv_nsec / 1000;
      /* Never after the poll that saw it, and never absurdly before. */
      if (arrival > poll_time || arrival < poll_time - 10 * G_USEC_PER_SEC)
        return 0;
      return arrival;
    }

  return 0;
}

static void
idle_connection_event (FjSimulator    *self,
                       IdleConnection *idle,
                       guint32         events)
{
  g_autoptr(GError) error = NULL;

  epoll_ctl (self->epoll_fd, EPOLL_CTL_DEL, g_socket_get_fd (idle->socket), NULL);
  g_hash_table_steal (self->idle, &idle->watch_id);

  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
    {
      g_debug ("simulator: a client closed its idle connection from port %u", address_port (idle->remote));
      g_io_stream_close (idle->stream, NULL, NULL);
    }
  else
    {
      g_hash_table_replace (self->adopted, GUINT_TO_POINTER (address_port (idle->remote)),
                            g_object_ref (idle->socket));
      /* libsoup reads the request and calls the handler in here. */
      self->adopted_arrival = idle_connection_arrival (self, idle->socket, poll_time ());
      if (!soup_server_accept_iostream (self->server, idle->stream, idle->local, idle->remote, &error))
        {
          g_debug ("simulator: cannot hand a connection back to libsoup: %s", error->message);
          g_io_stream_close (idle->stream, NULL, NULL);
        }
      self->adopted_arrival = 0;
    }

  idle_connection_free (idle);
}

static void
close_idle_connections (FjSimulator *self)
{
  GHashTableIter iter;
  IdleConnection *idle;

  g_hash_table_iter_init (&iter, self->idle);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &idle))
    g_io_stream_close (idle->stream, NULL, NULL);
  g_hash_table_remove_all (self->idle);
  g_hash_table_remove_all (self->adopted);
}

typedef struct
{
  GSource      source;
  FjSimulator *self;
} WatchSource;

static gboolean
watches_dispatch (GSource     *source,
                  GSourceFunc  callback,
                  gpointer     user_data)
{
  FjSimulator *self = ((WatchSource *) source)->self;
  struct epoll_event events[64];
  int n = epoll_wait (self->epoll_fd, events, G_N_ELEMENTS (events), 0);

  for (int i = 0; i < n; i++)
    {
      /* Looked up by id: an earlier event may have ended this request. */
      Request *req = g_hash_table_lookup (self->watched, &events[i].data.u64);

      IdleConnection *idle;

      if (req != NULL)
        {
          request_unwatch (req);
          request_watch_fired (req);
        }
      else if ((idle = g_hash_table_lookup (self->idle, &events[i].data.u64)) != NULL)
        idle_connection_event (self, idle, events[i].events);
    }

  return G_SOURCE_CONTINUE;
}

static GSourceFuncs watch_source_funcs = { NULL, NULL, watches_dispatch, NULL, NULL, NULL };
#endif

static void
request_watch (Request *req)
{
  GSocket *socket = message_get_socket (req->self, req->msg);
  GIOCondition condition = G_IO_HUP | G_IO_ERR;

  if (socket == NULL)
    return;

#ifdef __linux__
  if (req->self->epoll_fd >= 0)
    {
      FjSimulator *self = req->self;
      struct epoll_event event = { 0 };
      int fd = g_socket_get_fd (socket);

      event.events = EPOLLRDHUP | EPOLLHUP | EPOLLERR;
      event.data.u64 = req->watch_id = ++self->watch_seq;
      if (epoll_ctl (self->epoll_fd, EPOLL_CTL_ADD, fd, &event) == 0)
        {
          req->watch_fd = fd;
          g_hash_table_insert (self->watched, &req->watch_id, req);
          return;
        }
    }
#endif

#ifdef __linux__
  condition |= POLLRDHUP;
#else
  condition |= G_IO_IN;
#endif

  req->watch = g_socket_create_source (socket, condition, NULL);
  g_source_set_callback (req->watch, G_SOURCE_FUNC (watch_cb), req, NULL);
  g_source_attach (req->watch, req->self->context);
}

static void
wrote_headers_cb (SoupServerMessage *msg,
                  Request           *req)
{
  FjSimulator *self = req->self;

  g_mutex_lock (&self->lock);
  if (req->entry->first_byte_ms < 0)
    req->entry->first_byte_ms = elapsed_ms (self);
  g_mutex_unlock (&self->lock);
}

static void
wrote_chunk_cb (SoupServerMessage *msg,
                Request           *req)
{
  req->chunks_written++;
  if (req->drop_pending && req->chunks_written == req->chunks_appended)
    request_schedule (req, 0, drop_cb);
}

static void
finished_cb (SoupServerMessage *msg,
             Request           *req)
{
  if (req->complete)
    {
      request_finish (req, NULL);
      return;
    }

  /* libsoup gave up on a write: the client went away. */
  count_disconnect (req);
  request_finish (req, "client-closed");
}

static void
disconnected_cb (SoupServerMessage *msg,
                 Request           *req)
{
  if (!req->self->stopping)
    count_disconnect (req);
  request_finish (req, req->self->stopping ? "server-stopped" : "client-closed");
}

/* Request lifecycle */

static void
request_free (Request *req)
{
  request_clear_timer (req);
  request_unwatch (req);
  g_object_set_data (G_OBJECT (req->msg), "fj-simulator-request", NULL);
  g_clear_object (&req->msg);
  g_clear_pointer (&req->entry, log_entry_unref);
  g_clear_pointer (&req->scenario, _fj_sim_scenario_unref);
  _fj_sim_request_clear (&req->parsed);
  g_free (req->request_id);
  g_free (req->completion_id);
  g_free (req->agent);
  g_free (req->role);
  g_clear_pointer (&req->text_tokens, g_ptr_array_unref);
  g_clear_pointer (&req->tool_pieces, g_ptr_array_unref);
  g_free (req->tool_id);
  g_free (req->tool_name);
  g_clear_pointer (&req->units, g_array_unref);
  g_free (req->drop_text);
  g_free (req);
}

static void
request_finish (Request    *req,
                const char *outcome)
{
  FjSimulator *self = req->self;

  if (req->finished)
    return;
  req->finished = TRUE;

  request_settle_output (req);
  request_clear_timer (req);
  request_unwatch (req);
  g_signal_handlers_disconnect_by_data (req->msg, req);

  g_mutex_lock (&self->lock);
  req->entry->finish_ms = elapsed_ms (self);
  req->entry->status = req->status;
  req->entry->output_tokens = req->output_sent;
  if (outcome != NULL)
    {
      g_free (req->entry->outcome);
      req->entry->outcome = g_strdup (outcome);
    }
  if (req->status > 0)
    {
      gpointer key = GUINT_TO_POINTER (req->status);

      g_hash_table_insert (self->status_counts, key,
                           GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (self->status_counts, key)) + 1));
    }
  if (self->n_in_flight > 0)
    self->n_in_flight--;
  g_debug ("simulator: %s %s: %u %s (agent %s, attempt %u)",
           req->request_id,
           g_uri_get_path (soup_server_message_get_uri (req->msg)),
           req->status, req->entry->outcome ? req->entry->outcome : "",
           req->agent ? req->agent : "-", req->attempt);
  g_mutex_unlock (&self->lock);

  g_queue_delete_link (&self->requests, req->link);
  request_free (req);
}

static void
set_request_id (SoupServerMessage *msg,
                const char        *request_id)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "request-id", request_id);
}

/* When the request arrived.  Requests that arrive together are handled
 * one after the other, but at the API they would wait for no one: a
 * request's latency counts from here, not from the end of its turn, so
 * that a burst's last request is not late by the time the simulator spent
 * on the others.  On a kept-alive connection (Linux) it is the kernel's
 * receive time of the request's last bytes, so that it is not late by the
 * simulator's work before its poll either; else the time of the poll
 * whose dispatch is handling it. */
static gint64
request_arrival_time (FjSimulator *self)
{
  return self->adopted_arrival != 0 ? self->adopted_arrival : poll_time ();
}

static Request *
request_new (FjSimulator       *self,
             SoupServerMessage *msg)
{
  Request *req = g_new0 (Request, 1);

  req->self = self;
  req->arrived_at = request_arrival_time (self);
  req->msg = g_object_ref (msg);
  g_object_set_data (G_OBJECT (msg), "fj-simulator-request", req);
  req->watch_fd = -1;
  req->entry = log_entry_new ();
  g_queue_push_tail (&self->requests, req);
  req->link = self->requests.tail;

  /* libsoup looks the addresses up when a connection is taken from it,
   * and warns if the socket is gone by then: have them cached now. */
  soup_server_message_get_local_address (msg);
  soup_server_message_get_remote_address (msg);

  g_signal_connect (msg, "wrote-headers", G_CALLBACK (wrote_headers_cb), req);
  g_signal_connect (msg, "wrote-chunk", G_CALLBACK (wrote_chunk_cb), req);
  g_signal_connect (msg, "finished", G_CALLBACK (finished_cb), req);
  g_signal_connect (msg, "disconnected", G_CALLBACK (disconnected_cb), req);

  g_mutex_lock (&self->lock);
  self->n_requests++;
  self->n_in_flight++;
  self->max_in_flight = MAX (self->max_in_flight, self->n_in_flight);
  req->entry->arrival_ms = (req->arrived_at - self->started_at) / 1000.0;
  g_ptr_array_add (self->log, g_atomic_rc_box_acquire (req->entry));
  /* Until the request names its agent, its id comes from its position;
   * request_ensure_id() computes it only for requests that never do. */
  req->serial = ++self->serial;
  g_mutex_unlock (&self->lock);

  return req;
}

static void
request_ensure_id (Request *req)
{
  FjSimulator *self = req->self;
  char serial[32];

  if (req->request_id != NULL)
    return;

  g_snprintf (serial, sizeof serial, "%" G_GUINT64_FORMAT, req->serial);
  g_mutex_lock (&self->lock);
  req->request_id = _fj_sim_make_id ("req_", _fj_sim_hash (self->seed, "request", serial, NULL));
  req->entry->id = g_strdup (req->request_id);
  g_mutex_unlock (&self->lock);
  set_request_id (req->msg, req->request_id);
}

static const char *
check_credentials (FjSimulator        *self,
                   SoupMessageHeaders *headers,
                   const char        **auth)
{
  const char *key = soup_message_headers_get_one (headers, "x-api-key");
  const char *authorization = soup_message_headers_get_one (headers, "Authorization");

  *auth = NULL;
  if (key != NULL && *key != '\0')
    *auth = "x-api-key";
  else if (authorization != NULL && g_ascii_strncasecmp (authorization, "Bearer ", 7) == 0)
    {
      key = authorization + 7;
      while (*key == ' ')
        key++;
      if (*key != '\0')
        *auth = "bearer";
    }

  if (*auth == NULL)
    return "x-api-key header is required";
  if (self->api_key != NULL && g_strcmp0 (key, self->api_key) != 0)
    return "invalid x-api-key";

  return NULL;
}

/* As OpenAI-compatible servers: `Authorization: Bearer KEY`, needed only
 * when the simulator has a key. */
static const char *
check_openai_credentials (FjSimulator        *self,
                          SoupMessageHeaders *headers,
                          const char        **auth)
{
  const char *authorization = soup_message_headers_get_one (headers, "Authorization");
  const char *key = NULL;

  *auth = NULL;
  if (authorization != NULL && g_ascii_strncasecmp (authorization, "Bearer ", 7) == 0)
    {
      key = authorization + 7;
      while (*key == ' ')
        key++;
      if (*key != '\0')
        *auth = "bearer";
    }

  if (self->api_key == NULL)
    return NULL;
  if (*auth == NULL)
    return "You didn't provide an API key: send it as Authorization: Bearer KEY";
  if (g_strcmp0 (key, self->api_key) != 0)
    return "Incorrect API key provided";

  return NULL;
}

static void
system_info_free (gpointer data)
{
  SystemInfo *info = data;

  g_free (info->short_hash);
  g_free (info->role);
  g_free (info);
}

/* Called with the lock held. */
static const SystemInfo *
system_info_lookup (FjSimulator *self,
                    const char  *system)
{
  SystemInfo *info = g_hash_table_lookup (self->system_cache, system);

  if (info != NULL)
    return info;

  if (g_hash_table_size (self->system_cache) >= MAX_SYSTEM_CACHE)
    g_hash_table_remove_all (self->system_cache);
  info = g_new0 (SystemInfo, 1);
  info->short_hash = _fj_sim_short_hash (system);
  info->role = _fj_sim_extract_role (system);
  g_hash_table_insert (self->system_cache, g_strdup (system), info);
  return info;
}

/* Resolves what this request gets, counts its attempt and reserves its
 * rate-limit budget. Returns the seconds to wait when rate-limited. */
static guint
request_plan (Request *req,
              gsize    body_length)
{
  FjSimulator *self = req->self;
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (req->msg);
  const char *user_hash;
  const SystemInfo *info;
  char n_messages[16];
  char attempt[16];
  g_autofree char *counter_key = NULL;
  const FjSimSettings *defaults;
  const FjSimSettings *settings = NULL;
  const GPtrArray *failures;
  FjSimAgent *override;
  double latency_min;
  double latency_max;
  guint wait = 0;
  guint count;

  g_snprintf (n_messages, sizeof n_messages, "%u", req->parsed.n_messages);

  g_mutex_lock (&self->lock);

  /* Agents of a fan-out share their question: hash it once. */
  if (g_strcmp0 (self->last_user_text, req->parsed.last_user_text) != 0)
    {
      g_free (self->last_user_text);
      g_free (self->last_user_hash);
      self->last_user_text = g_strdup (req->parsed.last_user_text);
      self->last_user_hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, req->parsed.last_user_text, -1);
    }
  user_hash = self->last_user_hash;
  info = system_info_lookup (self, req->parsed.system);
  req->role = g_strdup (info->role);

  req->scenario = _fj_sim_scenario_ref (self->scenario);
  defaults = &req->scenario->defaults;
  override = _fj_sim_scenario_match (req->scenario, req->parsed.system);
  if (override != NULL)
    {
      settings = &override->settings;
      req->agent = g_strdup (override->name);
    }
  else
    req->agent = g_strdup (info->short_hash);

  counter_key = g_strdup_printf ("%s\x1f%s\x1f%s", req->agent, user_hash, n_messages);
  count = GPOINTER_TO_UINT (g_hash_table_lookup (self->attempt_counters, counter_key)) + 1;
  g_hash_table_insert (self->attempt_counters, g_steal_pointer (&counter_key), GUINT_TO_POINTER (count));
  req->attempt = count;
  g_snprintf (attempt, sizeof attempt, "%u", count);

  g_hash_table_insert (self->agent_attempts, g_strdup (req->agent),
                       GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (self->agent_attempts, req->agent)) + 1));

  req->hash = _fj_sim_hash (self->seed, "reply", req->parsed.system, req->parsed.last_user_text,
                            n_messages, attempt, NULL);
  g_free (req->request_id);
  req->request_id = _fj_sim_make_id ("req_", _fj_sim_hash (self->seed, "request-id", req->agent,
                                                            user_hash, n_messages, attempt, NULL));

  if (settings != NULL && settings->has_latency)
    {
      latency_min = settings->latency_min;
      latency_max = settings->latency_max;
    }
  else
    {
      latency_min = self->latency;
      latency_max = self->latency_max;
    }
  req->latency = latency_min;
  if (latency_max > latency_min)
    {
      guint64 state = _fj_sim_hash (self->seed, "latency", req->agent, req->parsed.last_user_text,
                                    attempt, NULL);

      req->latency += (latency_max - latency_min) * _fj_sim_rng_double (&state);
    }

  req->planned_tokens = (settings && settings->has_output_tokens) ? settings->output_tokens : self->output_tokens;
  req->tokens_per_second = (settings && settings->has_tokens_per_second) ?
    settings->tokens_per_second : self->tokens_per_second;
  req->refusal = (settings && settings->has_refusal) ? settings->refusal : defaults->refusal;
  req->tool_use = (settings && settings->has_tool_use) ? settings->tool_use : defaults->tool_use;
  failures = (settings && settings->has_failures) ? settings->failures : defaults->failures;

  for (guint i = 0; failures != NULL && i < failures->len; i++)
    {
      const FjSimFailure *failure = g_ptr_array_index (failures, i);

      if (failure->attempts > 0 && req->attempt > failure->attempts)
        continue;
      if (failure->has_probability)
        {
          g_autofree char *index = g_strdup_printf ("%u", i);
          guint64 state = _fj_sim_hash (self->seed, "failure", req->agent, req->parsed.last_user_text,
                                        attempt, index, NULL);

          if (_fj_sim_rng_double (&state) >= failure->probability)
            continue;
        }
      req->failure = failure;
      break;
    }

  req->input_tokens = body_length / 4;
  if (_fj_sim_scenario_has_limits (req->scenario))
    {
      wait = admit_request (self, req->input_tokens, req->parsed.max_tokens);
      if (wait == 0)
        {
          req->limited = TRUE;
          req->reserved_output = req->parsed.max_tokens;
        }
      add_rate_limit_headers (self, headers);
    }

  /* A request that is answered with an HTTP error caches nothing. */
  if (wait == 0 && (req->failure == NULL || req->failure->status == 0))
    cache_plan (req);

  set_request_id (req->msg, req->request_id);
  g_free (req->entry->id);
  req->entry->id = g_strdup (req->request_id);
  req->entry->agent = g_strdup (req->agent);
  req->entry->attempt = req->attempt;
  req->entry->stream = req->parsed.stream;
  req->entry->model = g_strdup (req->parsed.model);
  req->entry->input_tokens = req->input_tokens;
  if (self->record_prompts)
    {
      req->entry->system = g_strdup (req->parsed.system);
      req->entry->user = g_strdup (req->parsed.last_user_text);
    }
  if (wait == 0 && req->failure != NULL && req->failure->fault != FJ_SIM_FAULT_NONE)
    {
      static const char * const names[] = { NULL, "drop", "error_event", "malformed_json", "trickle", "hang" };

      req->entry->fault = g_strdup (names[req->failure->fault]);
    }

  g_mutex_unlock (&self->lock);

  return wait;
}

static void
handle_messages (FjSimulator *self,
                 Request     *req)
{
  SoupServerMessage *msg = req->msg;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *version = soup_message_headers_get_one (headers, "anthropic-version");
  const char *auth = NULL;
  const char *problem;
  g_autoptr(GBytes) body = NULL;
  g_autofree char *error_message = NULL;
  gboolean parsed;
  guint wait;

  if (g_strcmp0 (soup_server_message_get_method (msg), SOUP_METHOD_POST) != 0)
    {
      request_ensure_id (req);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", "POST");
      respond_error (req, SOUP_STATUS_METHOD_NOT_ALLOWED, "invalid_request_error",
                     "Method not allowed: use POST", "method-not-allowed");
      return;
    }

  if (req->openai)
    problem = check_openai_credentials (self, headers, &auth);
  else
    problem = check_credentials (self, headers, &auth);
  g_mutex_lock (&self->lock);
  req->entry->auth = g_strdup (auth);
  req->entry->version = g_strdup (version);
  g_mutex_unlock (&self->lock);
  if (problem != NULL)
    {
      respond_error (req, SOUP_STATUS_UNAUTHORIZED, "authentication_error", problem, "unauthorized");
      return;
    }

  /* OpenAI-compatible servers have no version header. */
  if (!req->openai && version == NULL)
    {
      respond_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_request_error",
                     "anthropic-version: header is required", "bad-request");
      return;
    }
  if (!req->openai && !g_str_equal (version, "2023-06-01") && !g_str_equal (version, "2026-10-21"))
    {
      respond_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_request_error",
                     "anthropic-version: unsupported version (use 2023-06-01 or 2026-10-21)",
                     "bad-request");
      return;
    }

  body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  if (g_bytes_get_size (body) > MAX_BODY_BYTES)
    {
      respond_error (req, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "request_too_large",
                     "Request exceeds the maximum allowed number of bytes.", "bad-request");
      return;
    }
  if (req->openai)
    parsed = _fj_sim_request_parse_openai (&req->parsed, g_bytes_get_data (body, NULL),
                                           g_bytes_get_size (body), &error_message);
  else
    parsed = _fj_sim_request_parse (&req->parsed, g_bytes_get_data (body, NULL),
                                    g_bytes_get_size (body), &error_message);
  if (!parsed)
    {
      respond_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_request_error", error_message, "bad-request");
      return;
    }

  wait = request_plan (req, g_bytes_get_size (body));
  if (wait > 0)
    {
      g_autofree char *seconds = g_strdup_printf ("%u", wait);
      SoupMessageHeaders *response_headers = soup_server_message_get_response_headers (msg);

      soup_message_headers_replace (response_headers, "retry-after", seconds);
      soup_message_headers_replace (response_headers, "x-should-retry", "true");
      respond_error (req, 429, "rate_limit_error",
                     "This request would exceed the simulator's rate limit; see the anthropic-ratelimit-* headers.",
                     "rate-limited");
      return;
    }

  soup_server_message_pause (msg);
  req->paused = TRUE;
  request_watch (req);
  request_schedule_from (req, req->arrived_at, req->latency, latency_cb);
}

/* Message Batches */

typedef enum
{
  ITEM_PROCESSING,
  ITEM_SUCCEEDED,
  ITEM_ERRORED,
  ITEM_CANCELED,
  ITEM_EXPIRED,
  N_ITEM_STATES
} ItemState;

static const char * const item_state_names[] = {
  "processing", "succeeded", "errored", "canceled", "expired"
};

typedef struct
{
  char      *custom_id;
  ItemState  outcome;           /* once done, unless canceled first */
  char      *result;            /* the result object (JSON) of the outcome */
  gint64     done_offset;       /* µs after the batch was created */
} BatchItem;

struct _SimBatch
{
  char      *id;
  gint64     created_mono;
  GDateTime *created_at;
  gint64     cancel_offset;     /* µs after creation; -1 = not canceled */
  gboolean   shuffle;
  GPtrArray *items;             /* BatchItem */
};

static void
batch_item_free (gpointer data)
{
  BatchItem *item = data;

  g_free (item->custom_id);
  g_free (item->result);
  g_free (item);
}

static void
sim_batch_free (gpointer data)
{
  SimBatch *batch = data;

  g_free (batch->id);
  g_clear_pointer (&batch->created_at, g_date_time_unref);
  g_clear_pointer (&batch->items, g_ptr_array_unref);
  g_free (batch);
}

/* When every item is done: the last item's time, or 0.1 s after a cancel
 * that came before it. */
static gint64
batch_end_offset (SimBatch *batch)
{
  gint64 last = 0;

  if (batch->items->len > 0)
    last = ((BatchItem *) g_ptr_array_index (batch->items, batch->items->len - 1))->done_offset;
  if (batch->cancel_offset >= 0 && batch->cancel_offset < last)
    return batch->cancel_offset + G_USEC_PER_SEC / 10;
  return last;
}

static gint64
batch_now_offset (SimBatch *batch)
{
  return g_get_monotonic_time () - batch->created_mono;
}

static ItemState
batch_item_state (SimBatch  *batch,
                  BatchItem *item,
                  gint64     now)
{
  if (batch->cancel_offset >= 0 && item->done_offset > batch->cancel_offset)
    return now >= batch_end_offset (batch) ? ITEM_CANCELED : ITEM_PROCESSING;
  return item->done_offset <= now ? item->outcome : ITEM_PROCESSING;
}

static char *
format_offset_time (SimBatch *batch,
                    gint64    offset)
{
  g_autoptr(GDateTime) time = g_date_time_add (batch->created_at, offset);

  return g_date_time_format_iso8601 (time);
}

static void
add_time_or_null (JsonBuilder *builder,
                  const char  *name,
                  SimBatch    *batch,
                  gint64       offset)
{
  json_builder_set_member_name (builder, name);
  if (offset < 0)
    json_builder_add_null_value (builder);
  else
    {
      g_autofree char *text = format_offset_time (batch, offset);

      json_builder_add_string_value (builder, text);
    }
}

static void
batch_add_object (FjSimulator *self,
                  JsonBuilder *builder,
                  SimBatch    *batch)
{
  gint64 now = batch_now_offset (batch);
  gint64 end = batch_end_offset (batch);
  gboolean ended = now >= end;
  guint counts[N_ITEM_STATES] = { 0 };
  const char *status;

  for (guint i = 0; i < batch->items->len; i++)
    counts[batch_item_state (batch, g_ptr_array_index (batch->items, i), now)]++;

  if (ended)
    status = "ended";
  else if (batch->cancel_offset >= 0)
    status = "canceling";
  else
    status = "in_progress";

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, batch->id);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "message_batch");
  json_builder_set_member_name (builder, "processing_status");
  json_builder_add_string_value (builder, status);
  json_builder_set_member_name (builder, "request_counts");
  json_builder_begin_object (builder);
  for (guint i = 0; i < N_ITEM_STATES; i++)
    {
      json_builder_set_member_name (builder, item_state_names[i]);
      json_builder_add_int_value (builder, counts[i]);
    }
  json_builder_end_object (builder);
  add_time_or_null (builder, "ended_at", batch, ended ? end : -1);
  add_time_or_null (builder, "created_at", batch, 0);
  add_time_or_null (builder, "expires_at", batch, (gint64) 24 * 3600 * G_USEC_PER_SEC);
  add_time_or_null (builder, "cancel_initiated_at", batch, batch->cancel_offset);
  json_builder_set_member_name (builder, "archived_at");
  json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "results_url");
  if (ended)
    {
      g_autofree char *base = fj_simulator_dup_base_url (self);
      g_autofree char *url = g_strdup_printf ("%s/v1/messages/batches/%s/results", base, batch->id);

      json_builder_add_string_value (builder, url);
    }
  else
    json_builder_add_null_value (builder);
  json_builder_end_object (builder);
}

static char *
batch_to_string (FjSimulator *self,
                 SimBatch    *batch)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();

  batch_add_object (self, builder, batch);
  return builder_to_string (builder);
}

static char *
errored_result (const char *type,
                const char *message)
{
  g_autofree char *error = error_body (type, message, NULL);

  return g_strdup_printf ("{\"type\":\"errored\",\"error\":%s}", error);
}

/* Clears what a batch item's stand-in request holds (it has no message). */
static void
item_request_clear (Request *req)
{
  g_clear_pointer (&req->entry, log_entry_unref);
  g_clear_pointer (&req->scenario, _fj_sim_scenario_unref);
  _fj_sim_request_clear (&req->parsed);
  g_free (req->agent);
  g_free (req->role);
  g_clear_pointer (&req->text_tokens, g_ptr_array_unref);
  g_clear_pointer (&req->tool_pieces, g_ptr_array_unref);
  g_free (req->tool_id);
  g_free (req->tool_name);
}

/* The outcome of one batch item: what a live, non-streaming first
 * attempt with @params would get from the scenario. */
static char *
batch_item_result (FjSimulator *self,
                   JsonNode    *params,
                   ItemState   *outcome)
{
  Request req;
  g_autofree char *params_json = json_to_string (params, FALSE);
  g_autofree char *error_message = NULL;
  const FjSimSettings *settings = NULL;
  const FjSimSettings *defaults;
  const GPtrArray *failures;
  const SystemInfo *info;
  FjSimAgent *override;
  char n_messages[16];
  gboolean expired = FALSE;
  char *result;

  memset (&req, 0, sizeof req);
  req.self = self;
  req.entry = log_entry_new ();

  if (!_fj_sim_request_parse (&req.parsed, params_json, strlen (params_json), &error_message))
    {
      item_request_clear (&req);
      *outcome = ITEM_ERRORED;
      return errored_result ("invalid_request_error", error_message);
    }
  if (req.parsed.stream)
    {
      item_request_clear (&req);
      *outcome = ITEM_ERRORED;
      return errored_result ("invalid_request_error", "stream: batch requests cannot be streamed");
    }

  g_snprintf (n_messages, sizeof n_messages, "%u", req.parsed.n_messages);

  g_mutex_lock (&self->lock);
  info = system_info_lookup (self, req.parsed.system);
  req.role = g_strdup (info->role);
  req.scenario = _fj_sim_scenario_ref (self->scenario);
  defaults = &req.scenario->defaults;
  override = _fj_sim_scenario_match (req.scenario, req.parsed.system);
  if (override != NULL)
    {
      settings = &override->settings;
      req.agent = g_strdup (override->name);
      expired = override->batch_expired;
    }
  else
    req.agent = g_strdup (info->short_hash);
  g_hash_table_insert (self->agent_attempts, g_strdup (req.agent),
                       GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (self->agent_attempts, req.agent)) + 1));
  req.attempt = 1;
  req.hash = _fj_sim_hash (self->seed, "reply", req.parsed.system, req.parsed.last_user_text,
                           n_messages, "1", NULL);
  req.planned_tokens = (settings && settings->has_output_tokens) ? settings->output_tokens : self->output_tokens;
  req.refusal = (settings && settings->has_refusal) ? settings->refusal : defaults->refusal;
  req.tool_use = (settings && settings->has_tool_use) ? settings->tool_use : defaults->tool_use;
  failures = (settings && settings->has_failures) ? settings->failures : defaults->failures;

  /* Batch items are not retried: the first attempt's failure is final. */
  for (guint i = 0; failures != NULL && i < failures->len; i++)
    {
      const FjSimFailure *failure = g_ptr_array_index (failures, i);

      if (failure->has_probability)
        {
          g_autofree char *index = g_strdup_printf ("%u", i);
          guint64 state = _fj_sim_hash (self->seed, "failure", req.agent, req.parsed.last_user_text,
                                        "1", index, NULL);

          if (_fj_sim_rng_double (&state) >= failure->probability)
            continue;
        }
      req.failure = failure;
      break;
    }

  req.input_tokens = strlen (params_json) / 4;
  if (!expired && (req.failure == NULL || req.failure->status == 0))
    cache_plan (&req);
  g_mutex_unlock (&self->lock);

  if (expired)
    {
      *outcome = ITEM_EXPIRED;
      result = g_strdup ("{\"type\":\"expired\"}");
    }
  else if (req.failure != NULL && (req.failure->status > 0 || req.failure->fault == FJ_SIM_FAULT_ERROR_EVENT))
    {
      const char *type = req.failure->error_type;

      if (type == NULL)
        type = req.failure->status > 0 ? error_type_for_status (req.failure->status) : "overloaded_error";
      *outcome = ITEM_ERRORED;
      result = errored_result (type, req.failure->message ? req.failure->message : default_error_message (type));
    }
  else
    {
      GString *out = g_string_sized_new (1024);

      build_reply (&req);
      g_string_append (out, "{\"type\":\"succeeded\",\"message\":");
      append_message (out, &req, FALSE);
      g_string_append_c (out, '}');
      *outcome = ITEM_SUCCEEDED;
      result = g_string_free (out, FALSE);
    }

  item_request_clear (&req);
  return result;
}

static gboolean
custom_id_is_valid (const char *id)
{
  gsize n = strlen (id);

  if (n < 1 || n > 64)
    return FALSE;
  for (const char *p = id; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '_' && *p != '-')
      return FALSE;
  return TRUE;
}

static void
respond_batch_error (Request    *req,
                     guint       status,
                     const char *type,
                     const char *message)
{
  respond_error (req, status, type, message, status == 404 ? "not-found" : "bad-request");
}

static void
respond_typed (Request    *req,
               guint       status,
               const char *content_type,
               char       *body)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (req->msg);

  request_ensure_id (req);
  request_set_status (req, status);
  soup_message_headers_set_encoding (headers, SOUP_ENCODING_CONTENT_LENGTH);
  soup_server_message_set_response (req->msg, content_type, SOUP_MEMORY_TAKE, body, strlen (body));
  request_set_complete (req);
  request_resume (req);
}

static void
batch_create (FjSimulator *self,
              Request     *req)
{
  const FjSimBatchSettings *settings = &self->scenario->batch;
  g_autoptr(GBytes) body = soup_message_body_flatten (soup_server_message_get_request_body (req->msg));
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) items = NULL;
  g_autofree char *serial = NULL;
  JsonNode *root;
  JsonNode *requests;
  JsonArray *array;
  SimBatch *batch;
  gint64 processing_us;
  guint n;

  if (g_bytes_get_size (body) > settings->max_bytes)
    {
      g_autofree char *message = g_strdup_printf ("Batch request body exceeds the maximum of %" G_GUINT64_FORMAT
                                                  " bytes.", settings->max_bytes);

      respond_batch_error (req, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "request_too_large", message);
      return;
    }

  if (g_bytes_get_size (body) == 0 ||
      !json_parser_load_from_data (parser, g_bytes_get_data (body, NULL), g_bytes_get_size (body), NULL) ||
      (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      respond_batch_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_request_error",
                           "The request body must be a JSON object");
      return;
    }

  requests = json_object_get_member (json_node_get_object (root), "requests");
  if (requests == NULL || !JSON_NODE_HOLDS_ARRAY (requests) ||
      json_array_get_length (json_node_get_array (requests)) == 0)
    {
      respond_batch_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_request_error",
                           "requests: Input should be a non-empty list");
      return;
    }
  array = json_node_get_array (requests);
  n = json_array_get_length (array);
  if (n > settings->max_requests)
    {
      g_autofree char *message = g_strdup_printf ("requests: a batch holds at most %u requests (got %u; "
                                                  "requests.%u is over the limit)",
                                                  settings->max_requests, n, settings->max_requests);

      respond_batch_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_request_error", message);
      return;
    }

  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      JsonObject *object;
      JsonNode *custom_id;
      JsonNode *params;
      g_autofree char *message = NULL;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        message = g_strdup_printf ("requests.%u: Input should be a valid dictionary", i);
      else
        {
          object = json_node_get_object (node);
          custom_id = json_object_get_member (object, "custom_id");
          params = json_object_get_member (object, "params");
          if (custom_id == NULL || !JSON_NODE_HOLDS_VALUE (custom_id) ||
              json_node_get_value_type (custom_id) != G_TYPE_STRING)
            message = g_strdup_printf ("requests.%u.custom_id: Field required (a string)", i);
          else if (!custom_id_is_valid (json_node_get_string (custom_id)))
            message = g_strdup_printf ("requests.%u.custom_id: must be 1 to 64 characters of "
                                       "letters, digits, '_' and '-'", i);
          else if (g_hash_table_contains (seen, json_node_get_string (custom_id)))
            message = g_strdup_printf ("requests.%u.custom_id: duplicate custom_id \"%s\" (first at requests.%u)",
                                       i, json_node_get_string (custom_id),
                                       GPOINTER_TO_UINT (g_hash_table_lookup (seen, json_node_get_string (custom_id))));
          else if (params == NULL || !JSON_NODE_HOLDS_OBJECT (params))
            message = g_strdup_printf ("requests.%u.params: Input should be a valid dictionary", i);
          else
            g_hash_table_insert (seen, (gpointer) json_node_get_string (custom_id), GUINT_TO_POINTER (i));
        }

      if (message != NULL)
        {
          respond_batch_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_request_error", message);
          return;
        }
    }

  processing_us = (gint64) (self->scenario->batch.processing_time * G_USEC_PER_SEC);
  items = g_ptr_array_new_full (n, batch_item_free);
  for (guint i = 0; i < n; i++)
    {
      JsonObject *object = json_array_get_object_element (array, i);
      BatchItem *item = g_new0 (BatchItem, 1);

      item->custom_id = g_strdup (json_object_get_string_member (object, "custom_id"));
      item->result = batch_item_result (self, json_object_get_member (object, "params"), &item->outcome);
      item->done_offset = processing_us * (i + 1) / n;
      g_ptr_array_add (items, item);
    }

  batch = g_new0 (SimBatch, 1);
  g_mutex_lock (&self->lock);
  serial = g_strdup_printf ("%u", ++self->n_batches_created);
  batch->id = _fj_sim_make_id ("msgbatch_", _fj_sim_hash (self->seed, "batch", serial, NULL));
  g_mutex_unlock (&self->lock);
  batch->created_mono = g_get_monotonic_time ();
  batch->created_at = g_date_time_new_now_utc ();
  batch->cancel_offset = -1;
  batch->shuffle = settings->shuffle;
  batch->items = g_steal_pointer (&items);
  g_ptr_array_add (self->batches, batch);

  respond_typed (req, SOUP_STATUS_OK, "application/json", batch_to_string (self, batch));
}

static void
batch_results (FjSimulator *self,
               Request     *req,
               SimBatch    *batch)
{
  gint64 now = batch_now_offset (batch);
  g_autofree guint *order = NULL;
  GString *out;
  guint n = batch->items->len;

  if (now < batch_end_offset (batch))
    {
      g_autofree char *message = g_strdup_printf ("Batch %s is still processing: its results are available "
                                                  "once it has ended", batch->id);

      respond_batch_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_request_error", message);
      return;
    }

  order = g_new (guint, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    order[i] = i;
  if (batch->shuffle)
    {
      guint64 state = _fj_sim_hash (self->seed, "batch-results", batch->id, NULL);

      for (guint i = n; i > 1; i--)
        {
          guint j = (guint) (_fj_sim_rng_next (&state) % i);
          guint t = order[i - 1];

          order[i - 1] = order[j];
          order[j] = t;
        }
    }

  out = g_string_sized_new (256 * (gsize) n);
  for (guint i = 0; i < n; i++)
    {
      BatchItem *item = g_ptr_array_index (batch->items, order[i]);
      ItemState state = batch_item_state (batch, item, now);

      g_string_append (out, "{\"custom_id\":");
      append_json_string (out, item->custom_id);
      g_string_append (out, ",\"result\":");
      if (state == ITEM_CANCELED)
        g_string_append (out, "{\"type\":\"canceled\"}");
      else
        g_string_append (out, item->result);
      g_string_append (out, "}\n");
    }

  respond_typed (req, SOUP_STATUS_OK, "application/binary", g_string_free (out, FALSE));
}

static void
batch_list (FjSimulator *self,
            Request     *req)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  guint n = self->batches->len;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "data");
  json_builder_begin_array (builder);
  for (guint i = n; i > 0; i--)
    batch_add_object (self, builder, g_ptr_array_index (self->batches, i - 1));
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "has_more");
  json_builder_add_boolean_value (builder, FALSE);
  json_builder_set_member_name (builder, "first_id");
  if (n > 0)
    json_builder_add_string_value (builder, ((SimBatch *) g_ptr_array_index (self->batches, n - 1))->id);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "last_id");
  if (n > 0)
    json_builder_add_string_value (builder, ((SimBatch *) g_ptr_array_index (self->batches, 0))->id);
  else
    json_builder_add_null_value (builder);
  json_builder_end_object (builder);

  respond_typed (req, SOUP_STATUS_OK, "application/json", builder_to_string (builder));
}

static void
respond_method_not_allowed (Request    *req,
                            const char *allow)
{
  g_autofree char *message = g_strdup_printf ("Method not allowed: use %s", allow);

  request_ensure_id (req);
  soup_message_headers_replace (soup_server_message_get_response_headers (req->msg), "Allow", allow);
  respond_error (req, SOUP_STATUS_METHOD_NOT_ALLOWED, "invalid_request_error", message, "method-not-allowed");
}

/* /v1/messages/batches[/ID[/results|/cancel]] */
static void
handle_batches (FjSimulator *self,
                Request     *req,
                const char  *path)
{
  SoupServerMessage *msg = req->msg;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *version = soup_message_headers_get_one (headers, "anthropic-version");
  const char *method = soup_server_message_get_method (msg);
  const char *auth = NULL;
  const char *problem;
  const char *rest = path + strlen ("/v1/messages/batches");
  g_auto(GStrv) parts = NULL;
  SimBatch *batch = NULL;
  guint index = 0;
  const char *action = NULL;

  problem = check_credentials (self, headers, &auth);
  g_mutex_lock (&self->lock);
  req->entry->auth = g_strdup (auth);
  req->entry->version = g_strdup (version);
  g_mutex_unlock (&self->lock);
  if (problem != NULL)
    {
      respond_error (req, SOUP_STATUS_UNAUTHORIZED, "authentication_error", problem, "unauthorized");
      return;
    }
  if (version == NULL)
    {
      respond_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_request_error",
                     "anthropic-version: header is required", "bad-request");
      return;
    }
  if (!g_str_equal (version, "2023-06-01") && !g_str_equal (version, "2026-10-21"))
    {
      respond_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_request_error",
                     "anthropic-version: unsupported version (use 2023-06-01 or 2026-10-21)",
                     "bad-request");
      return;
    }

  if (*rest == '\0' || g_str_equal (rest, "/"))
    {
      if (g_strcmp0 (method, SOUP_METHOD_POST) == 0)
        {
          request_set_outcome (req, "batch-create");
          batch_create (self, req);
        }
      else if (g_strcmp0 (method, SOUP_METHOD_GET) == 0)
        {
          request_set_outcome (req, "batch-list");
          batch_list (self, req);
        }
      else
        respond_method_not_allowed (req, "GET, POST");
      return;
    }

  parts = g_strsplit (rest + 1, "/", -1);
  if (g_strv_length (parts) > 2 || *parts[0] == '\0' ||
      (parts[1] != NULL && !g_str_equal (parts[1], "results") && !g_str_equal (parts[1], "cancel")))
    {
      respond_batch_error (req, SOUP_STATUS_NOT_FOUND, "not_found_error", "Not found");
      return;
    }
  action = parts[1];

  for (guint i = 0; i < self->batches->len; i++)
    if (g_str_equal (((SimBatch *) g_ptr_array_index (self->batches, i))->id, parts[0]))
      {
        batch = g_ptr_array_index (self->batches, i);
        index = i;
        break;
      }
  if (batch == NULL)
    {
      g_autofree char *message = g_strdup_printf ("No message batch with id %s", parts[0]);

      respond_batch_error (req, SOUP_STATUS_NOT_FOUND, "not_found_error", message);
      return;
    }

  if (action == NULL)
    {
      if (g_strcmp0 (method, SOUP_METHOD_GET) == 0)
        {
          request_set_outcome (req, "batch-retrieve");
          respond_typed (req, SOUP_STATUS_OK, "application/json", batch_to_string (self, batch));
        }
      else if (g_strcmp0 (method, SOUP_METHOD_DELETE) == 0)
        {
          g_autofree char *body = NULL;

          request_set_outcome (req, "batch-delete");
          if (batch_now_offset (batch) < batch_end_offset (batch))
            {
              g_autofree char *message = g_strdup_printf ("Batch %s cannot be deleted while it is processing; "
                                                          "cancel it first", batch->id);

              respond_batch_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_request_error", message);
              return;
            }
          body = g_strdup_printf ("{\"id\":\"%s\",\"type\":\"message_batch_deleted\"}", batch->id);
          g_ptr_array_remove_index (self->batches, index);
          respond_typed (req, SOUP_STATUS_OK, "application/json", g_steal_pointer (&body));
        }
      else
        respond_method_not_allowed (req, "GET, DELETE");
    }
  else if (g_str_equal (action, "results"))
    {
      if (g_strcmp0 (method, SOUP_METHOD_GET) != 0)
        {
          respond_method_not_allowed (req, "GET");
          return;
        }
      request_set_outcome (req, "batch-results");
      batch_results (self, req, batch);
    }
  else
    {
      gint64 now = batch_now_offset (batch);

      if (g_strcmp0 (method, SOUP_METHOD_POST) != 0)
        {
          respond_method_not_allowed (req, "POST");
          return;
        }
      request_set_outcome (req, "batch-cancel");
      if (batch->cancel_offset < 0 && now < batch_end_offset (batch))
        batch->cancel_offset = now;
      respond_typed (req, SOUP_STATUS_OK, "application/json", batch_to_string (self, batch));
    }
}

static void
handle_stats (FjSimulator       *self,
              SoupServerMessage *msg)
{
  g_autoptr(JsonNode) stats = NULL;
  g_autofree char *serial = NULL;
  g_autofree char *request_id = NULL;
  char *body;

  g_mutex_lock (&self->lock);
  serial = g_strdup_printf ("%" G_GUINT64_FORMAT, ++self->serial);
  request_id = _fj_sim_make_id ("req_", _fj_sim_hash (self->seed, "request", serial, NULL));
  g_mutex_unlock (&self->lock);
  set_request_id (msg, request_id);

  if (g_strcmp0 (soup_server_message_get_method (msg), SOUP_METHOD_GET) != 0)
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", "GET");
      body = error_body ("invalid_request_error", "Method not allowed: use GET", request_id);
      soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
    }
  else
    {
      stats = fj_simulator_get_stats (self);
      body = json_to_string (stats, TRUE);
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
    }

  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, body, strlen (body));
}

static void
server_handler_cb (SoupServer        *server,
                   SoupServerMessage *msg,
                   const char        *path,
                   GHashTable        *query,
                   gpointer           user_data)
{
  FjSimulator *self = user_data;
  Request *req;

  if (g_str_equal (path, "/__stats"))
    {
      handle_stats (self, msg);
      return;
    }

  req = request_new (self, msg);

  if (g_str_equal (path, "/v1/messages") || g_str_equal (path, "/v1/chat/completions"))
    {
      req->openai = path[4] == 'c';
      g_mutex_lock (&self->lock);
      req->entry->api = req->openai ? "openai" : "anthropic";
      if (req->openai)
        self->n_openai++;
      else
        self->n_anthropic++;
      g_mutex_unlock (&self->lock);
      handle_messages (self, req);
    }
  else if (g_str_equal (path, "/v1/messages/batches") || g_str_has_prefix (path, "/v1/messages/batches/"))
    {
      g_mutex_lock (&self->lock);
      req->entry->api = "batches";
      self->n_batch_requests++;
      g_mutex_unlock (&self->lock);
      handle_batches (self, req, path);
    }
  else
    respond_error (req, SOUP_STATUS_NOT_FOUND, "not_found_error", "Not found", "not-found");
}

#ifdef __linux__
static void
message_wrote_body_cb (SoupServerMessage *msg,
                       FjSimulator       *self)
{
  Request *req = g_object_get_data (G_OBJECT (msg), "fj-simulator-request");

  if (self->stopping || !message_keeps_alive (msg))
    return;

  /* The response is all written: the request is over. */
  if (req != NULL)
    {
      g_signal_handlers_disconnect_by_data (msg, req);
      request_unwatch (req);
      request_set_complete (req);
    }
  take_idle_connection (self, msg);
  if (req != NULL)
    request_finish (req, NULL);
}
#endif

static void
request_started_cb (SoupServer        *server,
                    SoupServerMessage *msg,
                    FjSimulator       *self)
{
  GSocket *socket = soup_server_message_get_socket (msg);

#ifdef __linux__
  if (self->hold_idle)
    g_signal_connect (msg, "wrote-body", G_CALLBACK (message_wrote_body_cb), self);
#endif

  if (socket == NULL || g_object_get_data (G_OBJECT (socket), "fj-simulator-counted") != NULL)
    return;

  g_object_set_data (G_OBJECT (socket), "fj-simulator-counted", GINT_TO_POINTER (1));
  g_mutex_lock (&self->lock);
  self->n_connections++;
  g_mutex_unlock (&self->lock);
}

/* GObject */

static void
fj_simulator_dispose (GObject *object)
{
  FjSimulator *self = FJ_SIMULATOR (object);

  fj_simulator_stop (self);
  g_clear_object (&self->tls_certificate);

  G_OBJECT_CLASS (fj_simulator_parent_class)->dispose (object);
}

static void
fj_simulator_finalize (GObject *object)
{
  FjSimulator *self = FJ_SIMULATOR (object);

  g_clear_pointer (&self->api_key, g_free);
  g_clear_pointer (&self->scenario, _fj_sim_scenario_unref);
  g_clear_pointer (&self->status_counts, g_hash_table_unref);
  g_clear_pointer (&self->agent_attempts, g_hash_table_unref);
  g_clear_pointer (&self->attempt_counters, g_hash_table_unref);
  g_clear_pointer (&self->system_cache, g_hash_table_unref);
  g_clear_pointer (&self->prompt_cache, g_hash_table_unref);
  g_clear_pointer (&self->batches, g_ptr_array_unref);
  g_clear_pointer (&self->timers, g_ptr_array_unref);
  g_clear_pointer (&self->watched, g_hash_table_unref);
  g_clear_pointer (&self->idle, g_hash_table_unref);
  g_clear_pointer (&self->adopted, g_hash_table_unref);
  g_clear_pointer (&self->last_user_text, g_free);
  g_clear_pointer (&self->last_user_hash, g_free);
  g_clear_pointer (&self->log, g_ptr_array_unref);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (fj_simulator_parent_class)->finalize (object);
}

static void
fj_simulator_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  FjSimulator *self = FJ_SIMULATOR (object);

  switch (prop_id)
    {
    case PROP_PORT:
      g_value_set_uint (value, fj_simulator_get_port (self));
      break;

    case PROP_TLS_CERTIFICATE:
      g_value_set_object (value, fj_simulator_get_tls_certificate (self));
      break;

    case PROP_SEED:
      g_value_set_uint64 (value, fj_simulator_get_seed (self));
      break;

    case PROP_LATENCY:
      g_value_set_double (value, fj_simulator_get_latency (self));
      break;

    case PROP_LATENCY_MAX:
      g_value_set_double (value, fj_simulator_get_latency_max (self));
      break;

    case PROP_OUTPUT_TOKENS:
      g_value_set_uint (value, fj_simulator_get_output_tokens (self));
      break;

    case PROP_TOKENS_PER_SECOND:
      g_value_set_double (value, fj_simulator_get_tokens_per_second (self));
      break;

    case PROP_RECORD_PROMPTS:
      g_value_set_boolean (value, fj_simulator_get_record_prompts (self));
      break;

    case PROP_RUNNING:
      g_value_set_boolean (value, fj_simulator_get_running (self));
      break;

    case PROP_N_REQUESTS:
      g_value_set_uint (value, fj_simulator_get_n_requests (self));
      break;

    case PROP_N_CONNECTIONS:
      g_value_set_uint (value, fj_simulator_get_n_connections (self));
      break;

    case PROP_N_IN_FLIGHT:
      g_value_set_uint (value, fj_simulator_get_n_in_flight (self));
      break;

    case PROP_MAX_IN_FLIGHT:
      g_value_set_uint (value, fj_simulator_get_max_in_flight (self));
      break;

    case PROP_N_DISCONNECTS:
      g_value_set_uint (value, fj_simulator_get_n_disconnects (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fj_simulator_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  FjSimulator *self = FJ_SIMULATOR (object);

  switch (prop_id)
    {
    case PROP_PORT:
      fj_simulator_set_port (self, g_value_get_uint (value));
      break;

    case PROP_API_KEY:
      fj_simulator_set_api_key (self, g_value_get_string (value));
      break;

    case PROP_TLS_CERTIFICATE:
      fj_simulator_set_tls_certificate (self, g_value_get_object (value));
      break;

    case PROP_SEED:
      fj_simulator_set_seed (self, g_value_get_uint64 (value));
      break;

    case PROP_LATENCY:
      fj_simulator_set_latency (self, g_value_get_double (value));
      break;

    case PROP_LATENCY_MAX:
      fj_simulator_set_latency_max (self, g_value_get_double (value));
      break;

    case PROP_OUTPUT_TOKENS:
      fj_simulator_set_output_tokens (self, g_value_get_uint (value));
      break;

    case PROP_TOKENS_PER_SECOND:
      fj_simulator_set_tokens_per_second (self, g_value_get_double (value));
      break;

    case PROP_RECORD_PROMPTS:
      fj_simulator_set_record_prompts (self, g_value_get_boolean (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fj_simulator_class_init (FjSimulatorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = fj_simulator_dispose;
  object_class->finalize = fj_simulator_finalize;
  object_class->get_property = fj_simulator_get_property;
  object_class->set_property = fj_simulator_set_property;

  /**
   * FjSimulator:port:
   *
   * The TCP port to listen on, on 127.0.0.1; 0 (the default) picks a free
   * one. While the simulator runs, the port it listens on.
   *
   * Since: 1.0
   */
  properties[PROP_PORT] =
    g_param_spec_uint ("port", NULL, NULL,
                       0, G_MAXUINT16, 0,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * FjSimulator:api-key:
   *
   * The key requests must send (as `x-api-key` or `Authorization: Bearer`;
   * on `/v1/chat/completions` only as `Authorization: Bearer`).
   * When %NULL, any non-empty key is accepted (and on
   * `/v1/chat/completions`, none as well, like a local server). It cannot
   * be read back and never appears in responses, logs or statistics.
   *
   * Since: 1.0
   */
  properties[PROP_API_KEY] =
    g_param_spec_string ("api-key", NULL, NULL,
                         NULL,
                         G_PARAM_WRITABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * FjSimulator:tls-certificate:
   *
   * A certificate (with its private key) to serve HTTPS with, or %NULL for
   * plain HTTP. It takes effect at the next [method@Simulator.start].
   *
   * Since: 1.0
   */
  properties[PROP_TLS_CERTIFICATE] =
    g_param_spec_object ("tls-certificate", NULL, NULL,
                         G_TYPE_TLS_CERTIFICATE,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * FjSimulator:seed:
   *
   * The seed of every reply, delay and random failure: the same seed and
   * requests give the same answers. A scenario's `seed` sets it.
   *
   * Since: 1.0
   */
  properties[PROP_SEED] =
    g_param_spec_uint64 ("seed", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * FjSimulator:latency:
   *
   * Seconds from a request's arrival to the start of its reply (its
   * headers are sent), for agents without an override. A scenario's
   * `latency` sets it. Requests that arrive together do not wait for each
   * other: each one's latency counts from its arrival, which on Linux is
   * the kernel's receive time for a request on a kept-alive connection,
   * and otherwise the moment the simulator's main loop saw it.
   *
   * Since: 1.0
   */
  properties[PROP_LATENCY] =
    g_param_spec_double ("latency", NULL, NULL,
                         0, G_MAXDOUBLE, 0.05,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * FjSimulator:latency-max:
   *
   * When greater than [property@Simulator:latency], each reply's latency
   * is drawn (deterministically) between the two. A scenario's
   * `latency: {"min": ..., "max": ...}` sets both.
   *
   * Since: 1.0
   */
  properties[PROP_LATENCY_MAX] =
    g_param_spec_double ("latency-max", NULL, NULL,
                         0, G_MAXDOUBLE, 0.05,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * FjSimulator:output-tokens:
   *
   * How many tokens a reply has (fewer when the request's `max_tokens` is
   * smaller, which ends it with `stop_reason: max_tokens`).
   *
   * Since: 1.0
   */
  properties[PROP_OUTPUT_TOKENS] =
    g_param_spec_uint ("output-tokens", NULL, NULL,
                       0, G_MAXUINT, 60,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * FjSimulator:tokens-per-second:
   *
   * How fast a stream sends its tokens; 0 sends the whole reply at once. A
   * JSON reply is delayed by the time its tokens would take.
   *
   * Since: 1.0
   */
  properties[PROP_TOKENS_PER_SECOND] =
    g_param_spec_double ("tokens-per-second", NULL, NULL,
                         0, G_MAXDOUBLE, 0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * FjSimulator:record-prompts:
   *
   * Whether the statistics' log keeps each request's system prompt and
   * last user message (as `system` and `user`).
   *
   * Since: 1.0
   */
  properties[PROP_RECORD_PROMPTS] =
    g_param_spec_boolean ("record-prompts", NULL, NULL,
                          FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * FjSimulator:running:
   *
   * Whether the simulator is listening.
   *
   * Since: 1.0
   */
  properties[PROP_RUNNING] =
    g_param_spec_boolean ("running", NULL, NULL,
                          FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * FjSimulator:n-requests:
   *
   * How many API requests arrived (not counting `GET /__stats`). Not
   * notified; read it when needed.
   *
   * Since: 1.0
   */
  properties[PROP_N_REQUESTS] =
    g_param_spec_uint ("n-requests", NULL, NULL,
                       0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * FjSimulator:n-connections:
   *
   * How many connections the simulator accepted. Not notified.
   *
   * Since: 1.0
   */
  properties[PROP_N_CONNECTIONS] =
    g_param_spec_uint ("n-connections", NULL, NULL,
                       0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * FjSimulator:n-in-flight:
   *
   * How many API requests are being answered now. Not notified.
   *
   * Since: 1.0
   */
  properties[PROP_N_IN_FLIGHT] =
    g_param_spec_uint ("n-in-flight", NULL, NULL,
                       0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * FjSimulator:max-in-flight:
   *
   * The most API requests answered at once so far. Not notified.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_IN_FLIGHT] =
    g_param_spec_uint ("max-in-flight", NULL, NULL,
                       0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * FjSimulator:n-disconnects:
   *
   * How many clients closed their connection before their reply was
   * complete. Not notified.
   *
   * Since: 1.0
   */
  properties[PROP_N_DISCONNECTS] =
    g_param_spec_uint ("n-disconnects", NULL, NULL,
                       0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
fj_simulator_init (FjSimulator *self)
{
  g_mutex_init (&self->lock);
  g_queue_init (&self->requests);

  self->latency = 0.05;
  self->latency_max = 0.05;
  self->output_tokens = 60;
  self->scenario = _fj_sim_scenario_new ();
  self->status_counts = g_hash_table_new (NULL, NULL);
  self->agent_attempts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->attempt_counters = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->system_cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, system_info_free);
  self->prompt_cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->batches = g_ptr_array_new_with_free_func (sim_batch_free);
  self->timers = g_ptr_array_new ();
  self->watched = g_hash_table_new (g_int64_hash, g_int64_equal);
  self->idle = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, idle_connection_free);
  self->adopted = g_hash_table_new_full (NULL, NULL, NULL, g_object_unref);
  self->epoll_fd = -1;
  self->timer_fd = -1;
  self->log = g_ptr_array_new_with_free_func (log_entry_unref);
  buckets_init (self);
}

/**
 * fj_simulator_new:
 *
 * Creates a simulator with the default settings: 0.05 s of latency, 60
 * output tokens sent at once, seed 0, no failures, any non-empty key
 * accepted. Configure it, then call [method@Simulator.start].
 *
 * Returns: (transfer full): a new #FjSimulator
 *
 * Since: 1.0
 */
FjSimulator *
fj_simulator_new (void)
{
  return g_object_new (FJ_TYPE_SIMULATOR, NULL);
}

static void
apply_scenario (FjSimulator   *self,
                FjSimScenario *scenario)
{
  const FjSimSettings *defaults = &scenario->defaults;

  g_object_freeze_notify (G_OBJECT (self));

  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->scenario, _fj_sim_scenario_unref);
  self->scenario = _fj_sim_scenario_ref (scenario);
  buckets_init (self);
  g_mutex_unlock (&self->lock);

  if (scenario->has_seed)
    fj_simulator_set_seed (self, scenario->seed);
  if (defaults->has_latency)
    {
      fj_simulator_set_latency (self, defaults->latency_min);
      fj_simulator_set_latency_max (self, defaults->latency_max);
    }
  if (defaults->has_output_tokens)
    fj_simulator_set_output_tokens (self, defaults->output_tokens);
  if (defaults->has_tokens_per_second)
    fj_simulator_set_tokens_per_second (self, defaults->tokens_per_second);

  g_object_thaw_notify (G_OBJECT (self));
}

/**
 * fj_simulator_load_scenario_from_file:
 * @self: a #FjSimulator
 * @path: (type filename): the path of a scenario (JSON)
 * @error: return location for a #GError
 *
 * Loads a scenario from @path; see [method@Simulator.load_scenario_from_data].
 * Errors name the file, the line and column, and the field:
 * `FILE:LINE:COL: FIELD: message`.
 *
 * Returns: %TRUE if the scenario was loaded
 *
 * Since: 1.0
 */
gboolean
fj_simulator_load_scenario_from_file (FjSimulator  *self,
                                      const char   *path,
                                      GError      **error)
{
  g_autofree char *contents = NULL;
  g_autofree char *name = NULL;
  g_autoptr(FjSimScenario) scenario = NULL;
  gsize length;

  g_return_val_if_fail (FJ_IS_SIMULATOR (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!g_file_get_contents (path, &contents, &length, error))
    return FALSE;

  name = g_filename_display_name (path);
  scenario = _fj_sim_scenario_parse (name, contents, length, error);
  if (scenario == NULL)
    return FALSE;

  apply_scenario (self, scenario);
  return TRUE;
}

/**
 * fj_simulator_load_scenario_from_data:
 * @self: a #FjSimulator
 * @data: the scenario, JSON text
 * @length: the length of @data in bytes, or -1 if it is nul-terminated
 * @error: return location for a #GError
 *
 * Loads a scenario. Its `seed`, `latency`, `output_tokens` and
 * `tokens_per_second` set the matching properties (keys it leaves out
 * leave them as they are); its `failures`, `rate_limits`, `tool_use`,
 * `refusal` and `agents` replace those of the previous scenario. Rate-limit
 * budgets start full.
 *
 * The scenario is strict JSON, as a spec is: comments, trailing commas,
 * duplicate keys and content after the document are errors. Those, unknown
 * keys, values of the wrong type and negative numbers are errors
 * (%FJ_ERROR_SPEC) that name the line, the column and the field, for
 * example
 * `scenario:3:31: agents[1].latency: expected a number of seconds or {min,max}`
 * (an unknown key is placed at its name, a missing member at the object
 * it belongs in).
 *
 * Returns: %TRUE if the scenario was loaded
 *
 * Since: 1.0
 */
gboolean
fj_simulator_load_scenario_from_data (FjSimulator  *self,
                                      const char   *data,
                                      gssize        length,
                                      GError      **error)
{
  g_autoptr(FjSimScenario) scenario = NULL;

  g_return_val_if_fail (FJ_IS_SIMULATOR (self), FALSE);
  g_return_val_if_fail (data != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  scenario = _fj_sim_scenario_parse ("scenario", data, length, error);
  if (scenario == NULL)
    return FALSE;

  apply_scenario (self, scenario);
  return TRUE;
}

/**
 * fj_simulator_start:
 * @self: a #FjSimulator
 * @error: return location for a #GError
 *
 * Starts listening on 127.0.0.1, at [property@Simulator:port] (0 picks a
 * free port), over HTTPS when [property@Simulator:tls-certificate] is set.
 * Requests are answered on the thread-default main context current now.
 *
 * Returns: %TRUE if the simulator is listening
 *
 * Since: 1.0
 */
gboolean
fj_simulator_start (FjSimulator  *self,
                    GError      **error)
{
  g_autoptr(SoupServer) server = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocketAddress) local = NULL;
  SoupServerListenOptions options = 0;

  g_return_val_if_fail (FJ_IS_SIMULATOR (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  g_return_val_if_fail (self->server == NULL, FALSE);

  server = soup_server_new ("tls-certificate", self->tls_certificate, NULL);

  /* SoupServer's own listen uses a backlog of 10, and bursts of 100+
   * connects then stall on SYN retransmits: listen on our own socket. */
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL)
    return FALSE;
  address = g_inet_socket_address_new_from_string ("127.0.0.1", self->port);
  if (!g_socket_bind (socket, address, TRUE, error))
    return FALSE;
  g_socket_set_listen_backlog (socket, 4096);
  if (!g_socket_listen (socket, error))
    return FALSE;
#ifdef __linux__
  /* Receive times, for the latency of requests on kept-alive connections
   * (idle_connection_arrival()). */
  self->kernel_arrivals = g_socket_set_option (socket, SOL_SOCKET, SO_TIMESTAMPNS, 1, NULL);
#endif

  soup_server_add_handler (server, NULL, server_handler_cb, self, NULL);
  g_signal_connect (server, "request-started", G_CALLBACK (request_started_cb), self);

  if (self->tls_certificate != NULL)
    options |= SOUP_SERVER_LISTEN_HTTPS;
  if (!soup_server_listen_socket (server, socket, options, error))
    return FALSE;

  local = g_socket_get_local_address (socket, error);
  if (local == NULL)
    {
      soup_server_disconnect (server);
      return FALSE;
    }

  self->bound_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  self->server = g_steal_pointer (&server);
  self->listener = g_steal_pointer (&socket);
  self->tls = self->tls_certificate != NULL;
  self->context = g_main_context_ref_thread_default ();
  self->timer_source = g_source_new (&timer_source_funcs, sizeof (TimerSource));
  ((TimerSource *) self->timer_source)->self = self;
  g_source_set_static_name (self->timer_source, "[forkjoin] simulator timers");
#ifdef __linux__
  self->timer_fd = timerfd_create (CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  self->timer_fd_deadline = -1;
  if (self->timer_fd >= 0)
    self->timer_fd_tag = g_source_add_unix_fd (self->timer_source, self->timer_fd, G_IO_IN);
#endif
  g_source_attach (self->timer_source, self->context);
#ifdef __linux__
  self->epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
  if (self->epoll_fd >= 0)
    {
      self->watch_source = g_source_new (&watch_source_funcs, sizeof (WatchSource));
      ((WatchSource *) self->watch_source)->self = self;
      g_source_set_static_name (self->watch_source, "[forkjoin] simulator watches");
      g_source_add_unix_fd (self->watch_source, self->epoll_fd, G_IO_IN);
      g_source_attach (self->watch_source, self->context);
    }
  self->hold_idle = self->epoll_fd >= 0 && !soup_check_version (3, 3, 0);
#endif
  self->started_at = g_get_monotonic_time ();
  self->stopping = FALSE;

  g_debug ("simulator: listening on %s://127.0.0.1:%u",
           self->tls_certificate ? "https" : "http", self->bound_port);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
  if (self->bound_port != self->port)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PORT]);

  return TRUE;
}

/**
 * fj_simulator_stop:
 * @self: a #FjSimulator
 *
 * Stops listening and closes every connection; requests still being
 * answered end with the outcome `server-stopped`. The statistics are kept.
 * Disposing of the simulator stops it.
 *
 * Since: 1.0
 */
void
fj_simulator_stop (FjSimulator *self)
{
  Request *req;
  gboolean port_changes;

  g_return_if_fail (FJ_IS_SIMULATOR (self));

  if (self->server == NULL)
    return;

  self->stopping = TRUE;
  while ((req = g_queue_peek_head (&self->requests)) != NULL)
    request_finish (req, "server-stopped");

  g_source_destroy (self->timer_source);
  g_clear_pointer (&self->timer_source, g_source_unref);
#ifdef __linux__
  if (self->timer_fd >= 0)
    {
      close (self->timer_fd);
      self->timer_fd = -1;
      self->timer_fd_tag = NULL;
    }
  if (self->watch_source != NULL)
    {
      g_source_destroy (self->watch_source);
      g_clear_pointer (&self->watch_source, g_source_unref);
    }
  close_idle_connections (self);
  if (self->epoll_fd >= 0)
    {
      close (self->epoll_fd);
      self->epoll_fd = -1;
    }
#endif
  soup_server_disconnect (self->server);
  g_clear_object (&self->server);
  if (self->listener != NULL)
    g_socket_close (self->listener, NULL);
  g_clear_object (&self->listener);
  g_clear_pointer (&self->context, g_main_context_unref);
  self->stopping = FALSE;

  port_changes = self->bound_port != self->port;
  self->bound_port = 0;

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
  if (port_changes)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PORT]);
}

/**
 * fj_simulator_get_running:
 * @self: a #FjSimulator
 *
 * Gets whether the simulator is listening.
 *
 * Returns: %TRUE between [method@Simulator.start] and [method@Simulator.stop]
 *
 * Since: 1.0
 */
gboolean
fj_simulator_get_running (FjSimulator *self)
{
  g_return_val_if_fail (FJ_IS_SIMULATOR (self), FALSE);

  return self->server != NULL;
}

/**
 * fj_simulator_get_port:
 * @self: a #FjSimulator
 *
 * Gets the port the simulator listens on while it runs, else the port it
 * will listen on (0: a free one).
 *
 * Returns: a TCP port
 *
 * Since: 1.0
 */
guint
fj_simulator_get_port (FjSimulator *self)
{
  g_return_val_if_fail (FJ_IS_SIMULATOR (self), 0);

  return self->server != NULL ? self->bound_port : self->port;
}

/**
 * fj_simulator_set_port:
 * @self: a #FjSimulator
 * @port: a TCP port, or 0 for a free one
 *
 * Sets the port to listen on at the next [method@Simulator.start].
 *
 * Since: 1.0
 */
void
fj_simulator_set_port (FjSimulator *self,
                       guint        port)
{
  g_return_if_fail (FJ_IS_SIMULATOR (self));
  g_return_if_fail (port <= G_MAXUINT16);

  if (self->port == port)
    return;

  self->port = port;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PORT]);
}

/**
 * fj_simulator_dup_base_url:
 * @self: a #FjSimulator
 *
 * Gets the URL to give a client, without `/v1`, such as
 * `http://127.0.0.1:40123` (`https://` with a TLS certificate).
 *
 * Returns: (transfer full) (nullable): the base URL, or %NULL when the
 *   simulator is not running
 *
 * Since: 1.0
 */
char *
fj_simulator_dup_base_url (FjSimulator *self)
{
  g_return_val_if_fail (FJ_IS_SIMULATOR (self), NULL);

  if (self->server == NULL)
    return NULL;

  return g_strdup_printf ("%s://127.0.0.1:%u",
                          self->tls_certificate != NULL ? "https" : "http",
                          self->bound_port);
}

/**
 * fj_simulator_set_api_key:
 * @self: a #FjSimulator
 * @api_key: (nullable): the key requests must send, or %NULL to accept any
 *
 * Sets the key that requests must send as `x-api-key` or as
 * `Authorization: Bearer` (only the latter on `/v1/chat/completions`; see
 * [property@Simulator:api-key]). It is never shown anywhere.
 *
 * Since: 1.0
 */
void
fj_simulator_set_api_key (FjSimulator *self,
                          const char  *api_key)
{
  g_return_if_fail (FJ_IS_SIMULATOR (self));

  if (g_strcmp0 (self->api_key, api_key) == 0)
    return;

  g_free (self->api_key);
  self->api_key = g_strdup (api_key);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_API_KEY]);
}

/**
 * fj_simulator_get_tls_certificate:
 * @self: a #FjSimulator
 *
 * Gets the certificate the simulator serves HTTPS with.
 *
 * Returns: (transfer none) (nullable): the certificate, or %NULL for HTTP
 *
 * Since: 1.0
 */
GTlsCertificate *
fj_simulator_get_tls_certificate (FjSimulator *self)
{
  g_return_val_if_fail (FJ_IS_SIMULATOR (self), NULL);

  return self->tls_certificate;
}

/**
 * fj_simulator_set_tls_certificate:
 * @self: a #FjSimulator
 * @certificate: (nullable): a certificate with its private key, or %NULL
 *
 * Sets the certificate to serve HTTPS with from the next
 * [method@Simulator.start]; %NULL serves plain HTTP.
 *
 * Since: 1.0
 */
void
fj_simulator_set_tls_certificate (FjSimulator     *self,
                                  GTlsCertificate *certificate)
{
  g_return_if_fail (FJ_IS_SIMULATOR (self));
  g_return_if_fail (certificate == NULL || G_IS_TLS_CERTIFICATE (certificate));

  if (g_set_object (&self->tls_certificate, certificate))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TLS_CERTIFICATE]);
}

/**
 * fj_simulator_get_seed:
 * @self: a #FjSimulator
 *
 * Gets the seed of replies, delays and random failures.
 *
 * Returns: the seed
 *
 * Since: 1.0
 */
guint64
fj_simulator_get_seed (FjSimulator *self)
{
  guint64 seed;

  g_return_val_if_fail (FJ_IS_SIMULATOR (self), 0);

  g_mutex_lock (&self->lock);
  seed = self->seed;
  g_mutex_unlock (&self->lock);

  return seed;
}

/**
 * fj_simulator_set_seed:
 * @self: a #FjSimulator
 * @seed: a seed
 *
 * Sets the seed of replies, delays and random failures.
 *
 * Since: 1.0
 */
void
fj_simulator_set_seed (FjSimulator *self,
                       guint64      seed)
{
  gboolean changed;

  g_return_if_fail (FJ_IS_SIMULATOR (self));

  g_mutex_lock (&self->lock);
  changed = self->seed != seed;
  self->seed = seed;
  g_mutex_unlock (&self->lock);

  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SEED]);
}

/**
 * fj_simulator_get_latency:
 * @self: a #FjSimulator
 *
 * Gets the seconds before a reply starts.
 *
 * Returns: the latency in seconds
 *
 * Since: 1.0
 */
double
fj_simulator_get_latency (FjSimulator *self)
{
  double latency;

  g_return_val_if_fail (FJ_IS_SIMULATOR (self), 0);

  g_mutex_lock (&self->lock);
  latency = self->latency;
  g_mutex_unlock (&self->lock);

  return latency;
}

/**
 * fj_simulator_set_latency:
 * @self: a #FjSimulator
 * @seconds: seconds before a reply starts
 *
 * Sets the seconds before a reply starts (its headers are sent).
 *
 * Since: 1.0
 */
void
fj_simulator_set_latency (FjSimulator *self,
                          double       seconds)
{
  gboolean changed;

  g_return_if_fail (FJ_IS_SIMULATOR (self));
  g_return_if_fail (seconds >= 0);

  g_mutex_lock (&self->lock);
  changed = self->latency != seconds;
  self->latency = seconds;
  g_mutex_unlock (&self->lock);

  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LATENCY]);
}

/**
 * fj_simulator_get_latency_max:
 * @self: a #FjSimulator
 *
 * Gets the upper end of the latency range.
 *
 * Returns: seconds
 *
 * Since: 1.0
 */
double
fj_simulator_get_latency_max (FjSimulator *self)
{
  double latency_max;

  g_return_val_if_fail (FJ_IS_SIMULATOR (self), 0);

  g_mutex_lock (&self->lock);
  latency_max = self->latency_max;
  g_mutex_unlock (&self->lock);

  return latency_max;
}

/**
 * fj_simulator_set_latency_max:
 * @self: a #FjSimulator
 * @seconds: the upper end of the latency range
 *
 * Sets the upper end of the latency range; when it is greater than
 * [property@Simulator:latency], each reply's latency is drawn between the
 * two.
 *
 * Since: 1.0
 */
void
fj_simulator_set_latency_max (FjSimulator *self,
                              double       seconds)
{
  gboolean changed;

  g_return_if_fail (FJ_IS_SIMULATOR (self));
  g_return_if_fail (seconds >= 0);

  g_mutex_lock (&self->lock);
  changed = self->latency_max != seconds;
  self->latency_max = seconds;
  g_mutex_unlock (&self->lock);

  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LATENCY_MAX]);
}

/**
 * fj_simulator_get_output_tokens:
 * @self: a #FjSimulator
 *
 * Gets how many tokens a reply has.
 *
 * Returns: a number of tokens
 *
 * Since: 1.0
 */
guint
fj_simulator_get_output_tokens (FjSimulator *self)
{
  guint output_tokens;

  g_return_val_if_fail (FJ_IS_SIMULATOR (self), 0);

  g_mutex_lock (&self->lock);
  output_tokens = self->output_tokens;
  g_mutex_unlock (&self->lock);

  return output_tokens;
}

/**
 * fj_simulator_set_output_tokens:
 * @self: a #FjSimulator
 * @output_tokens: a number of tokens
 *
 * Sets how many tokens a reply has.
 *
 * Since: 1.0
 */
void
fj_simulator_set_output_tokens (FjSimulator *self,
                                guint        output_tokens)
{
  gboolean changed;

  g_return_if_fail (FJ_IS_SIMULATOR (self));

  g_mutex_lock (&self->lock);
  changed = self->output_tokens != output_tokens;
  self->output_tokens = output_tokens;
  g_mutex_unlock (&self->lock);

  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OUTPUT_TOKENS]);
}

/**
 * fj_simulator_get_tokens_per_second:
 * @self: a #FjSimulator
 *
 * Gets how fast streams send their tokens.
 *
 * Returns: tokens per second, 0 for all at once
 *
 * Since: 1.0
 */
double
fj_simulator_get_tokens_per_second (FjSimulator *self)
{
  double tokens_per_second;

  g_return_val_if_fail (FJ_IS_SIMULATOR (self), 0);

  g_mutex_lock (&self->lock);
  tokens_per_second = self->tokens_per_second;
  g_mutex_unlock (&self->lock);

  return tokens_per_second;
}

/**
 * fj_simulator_set_tokens_per_second:
 * @self: a #FjSimulator
 * @tokens_per_second: tokens per second, 0 for all at once
 *
 * Sets how fast streams send their tokens.
 *
 * Since: 1.0
 */
void
fj_simulator_set_tokens_per_second (FjSimulator *self,
                                    double       tokens_per_second)
{
  gboolean changed;

  g_return_if_fail (FJ_IS_SIMULATOR (self));
  g_return_if_fail (tokens_per_second >= 0);

  g_mutex_lock (&self->lock);
  changed = self->tokens_per_second != tokens_per_second;
  self->tokens_per_second = tokens_per_second;
  g_mutex_unlock (&self->lock);

  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOKENS_PER_SECOND]);
}

/**
 * fj_simulator_get_record_prompts:
 * @self: a #FjSimulator
 *
 * Gets whether the log keeps the prompts of each request.
 *
 * Returns: %TRUE if prompts are recorded
 *
 * Since: 1.0
 */
gboolean
fj_simulator_get_record_prompts (FjSimulator *self)
{
  gboolean record_prompts;

  g_return_val_if_fail (FJ_IS_SIMULATOR (self), FALSE);

  g_mutex_lock (&self->lock);
  record_prompts = self->record_prompts;
  g_mutex_unlock (&self->lock);

  return record_prompts;
}

/**
 * fj_simulator_set_record_prompts:
 * @self: a #FjSimulator
 * @record_prompts: whether to record prompts
 *
 * Sets whether the log keeps each request's system prompt and last user
 * message, so a test can read what an agent or a synthesizer was sent.
 *
 * Since: 1.0
 */
void
fj_simulator_set_record_prompts (FjSimulator *self,
                                 gboolean     record_prompts)
{
  gboolean changed;

  g_return_if_fail (FJ_IS_SIMULATOR (self));

  record_prompts = !!record_prompts;
  g_mutex_lock (&self->lock);
  changed = self->record_prompts != record_prompts;
  self->record_prompts = record_prompts;
  g_mutex_unlock (&self->lock);

  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RECORD_PROMPTS]);
}

#define LOCKED_GETTER(field)                    \
  guint value;                                  \
  g_return_val_if_fail (FJ_IS_SIMULATOR (self), 0); \
  g_mutex_lock (&self->lock);                   \
  value = self->field;                          \
  g_mutex_unlock (&self->lock);                 \
  return value

/**
 * fj_simulator_get_n_requests:
 * @self: a #FjSimulator
 *
 * Gets how many API requests arrived since the start or the last
 * [method@Simulator.reset_stats] (`GET /__stats` does not count).
 *
 * Returns: a number of requests
 *
 * Since: 1.0
 */
guint
fj_simulator_get_n_requests (FjSimulator *self)
{
  LOCKED_GETTER (n_requests);
}

/**
 * fj_simulator_get_n_connections:
 * @self: a #FjSimulator
 *
 * Gets how many connections the simulator accepted.
 *
 * Returns: a number of connections
 *
 * Since: 1.0
 */
guint
fj_simulator_get_n_connections (FjSimulator *self)
{
  LOCKED_GETTER (n_connections);
}

/**
 * fj_simulator_get_n_in_flight:
 * @self: a #FjSimulator
 *
 * Gets how many API requests are being answered now.
 *
 * Returns: a number of requests
 *
 * Since: 1.0
 */
guint
fj_simulator_get_n_in_flight (FjSimulator *self)
{
  LOCKED_GETTER (n_in_flight);
}

/**
 * fj_simulator_get_max_in_flight:
 * @self: a #FjSimulator
 *
 * Gets the most API requests that were answered at once.
 *
 * Returns: a number of requests
 *
 * Since: 1.0
 */
guint
fj_simulator_get_max_in_flight (FjSimulator *self)
{
  LOCKED_GETTER (max_in_flight);
}

/**
 * fj_simulator_get_n_disconnects:
 * @self: a #FjSimulator
 *
 * Gets how many clients closed their connection before their reply was
 * complete (while it waited, hung, trickled or streamed).
 *
 * Returns: a number of requests
 *
 * Since: 1.0
 */
guint
fj_simulator_get_n_disconnects (FjSimulator *self)
{
  LOCKED_GETTER (n_disconnects);
}

#undef LOCKED_GETTER

/**
 * fj_simulator_get_attempts:
 * @self: a #FjSimulator
 * @agent: an agent's name: a scenario override's `name`, or the first 8 hex
 *   digits of the SHA-256 of its system prompt
 *
 * Gets how many requests @agent sent.
 *
 * Returns: a number of requests
 *
 * Since: 1.0
 */
guint
fj_simulator_get_attempts (FjSimulator *self,
                           const char  *agent)
{
  guint attempts;

  g_return_val_if_fail (FJ_IS_SIMULATOR (self), 0);
  g_return_val_if_fail (agent != NULL, 0);

  g_mutex_lock (&self->lock);
  attempts = GPOINTER_TO_UINT (g_hash_table_lookup (self->agent_attempts, agent));
  g_mutex_unlock (&self->lock);

  return attempts;
}

static int
compare_uint (gconstpointer a,
              gconstpointer b)
{
  guint ua = GPOINTER_TO_UINT (*(gconstpointer *) a);
  guint ub = GPOINTER_TO_UINT (*(gconstpointer *) b);

  return (ua > ub) - (ua < ub);
}

/**
 * fj_simulator_get_stats:
 * @self: a #FjSimulator
 *
 * Gets the statistics, also served at `GET /__stats`:
 *
 * ```json
 * {
 *   "requests": 4, "connections": 2, "in_flight": 0, "max_in_flight": 2,
 *   "disconnects": 0, "api": { "anthropic": 3, "openai": 1 },
 *   "status": { "200": 3, "429": 1 },
 *   "agents": { "market-analyst": { "attempts": 2 }, "1f0c9a3e": { "attempts": 2 } },
 *   "log": [ { "id": "req_…", "agent": "market-analyst", "attempt": 1,
 *              "arrival_ms": 1.2, "first_byte_ms": 51.9, "finish_ms": 52.3,
 *              "status": 200, "outcome": "ok", "stream": true,
 *              "auth": "x-api-key", "version": "2023-06-01",
 *              "model": "claude-haiku-5-5", "input_tokens": 41,
 *              "output_tokens": 60, "api": "anthropic" }, … ]
 * }
 * ```
 *
 * Times are milliseconds since [method@Simulator.start] (null until they
 * happen). Outcomes are `ok`, `tool_use`, `refusal`, `http-NNN` (a
 * scenario failure), `rate-limited`, `drop`, `error_event`,
 * `malformed_json`, `trickle`, `hang`, `client-closed`, `server-stopped`,
 * `unauthorized`, `bad-request`, `not-found` and `method-not-allowed`; a
 * request that met a fault also has `fault`. `api` counts the requests to
 * each endpoint and names the one of a log entry (`anthropic` for
 * `/v1/messages`, `openai` for `/v1/chat/completions`, null for other
 * paths). With
 * [property@Simulator:record-prompts], entries have `system` and `user`.
 *
 * Returns: (transfer full): a JSON object
 *
 * Since: 1.0
 */
JsonNode *
fj_simulator_get_stats (FjSimulator *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GPtrArray) statuses = g_ptr_array_new ();
  g_autoptr(GList) agents = NULL;
  JsonNode *root;
  JsonArray *log;
  GHashTableIter iter;
  gpointer key;

  g_return_val_if_fail (FJ_IS_SIMULATOR (self), NULL);

  g_mutex_lock (&self->lock);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "requests");
  json_builder_add_int_value (builder, self->n_requests);
  json_builder_set_member_name (builder, "connections");
  json_builder_add_int_value (builder, self->n_connections);
  json_builder_set_member_name (builder, "in_flight");
  json_builder_add_int_value (builder, self->n_in_flight);
  json_builder_set_member_name (builder, "max_in_flight");
  json_builder_add_int_value (builder, self->max_in_flight);
  json_builder_set_member_name (builder, "disconnects");
  json_builder_add_int_value (builder, self->n_disconnects);
  json_builder_set_member_name (builder, "api");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "anthropic");
  json_builder_add_int_value (builder, self->n_anthropic);
  json_builder_set_member_name (builder, "openai");
  json_builder_add_int_value (builder, self->n_openai);
  json_builder_set_member_name (builder, "batches");
  json_builder_add_int_value (builder, self->n_batch_requests);
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "status");
  json_builder_begin_object (builder);
  g_hash_table_iter_init (&iter, self->status_counts);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (statuses, key);
  g_ptr_array_sort (statuses, compare_uint);
  for (guint i = 0; i < statuses->len; i++)
    {
      g_autofree char *name = g_strdup_printf ("%u", GPOINTER_TO_UINT (statuses->pdata[i]));

      json_builder_set_member_name (builder, name);
      json_builder_add_int_value (builder,
                                  GPOINTER_TO_UINT (g_hash_table_lookup (self->status_counts, statuses->pdata[i])));
    }
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "agents");
  json_builder_begin_object (builder);
  agents = g_list_sort (g_hash_table_get_keys (self->agent_attempts), (GCompareFunc) strcmp);
  for (const GList *l = agents; l != NULL; l = l->next)
    {
      json_builder_set_member_name (builder, l->data);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "attempts");
      json_builder_add_int_value (builder, GPOINTER_TO_UINT (g_hash_table_lookup (self->agent_attempts, l->data)));
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);

  json_builder_end_object (builder);
  root = json_builder_get_root (builder);

  log = json_array_sized_new (self->log->len);
  for (guint i = 0; i < self->log->len; i++)
    json_array_add_object_element (log, log_entry_to_object (g_ptr_array_index (self->log, i)));
  json_object_set_array_member (json_node_get_object (root), "log", log);

  g_mutex_unlock (&self->lock);

  return root;
}

/**
 * fj_simulator_reset_stats:
 * @self: a #FjSimulator
 *
 * Clears the statistics: counters, per-agent attempts, the log and the
 * attempt numbers of conversations (so the next request of a conversation
 * is attempt 1 again). Requests in flight still count as in flight.
 *
 * Since: 1.0
 */
void
fj_simulator_reset_stats (FjSimulator *self)
{
  g_return_if_fail (FJ_IS_SIMULATOR (self));

  g_mutex_lock (&self->lock);
  self->n_requests = 0;
  self->n_connections = 0;
  self->max_in_flight = self->n_in_flight;
  self->n_disconnects = 0;
  self->n_anthropic = 0;
  self->n_openai = 0;
  self->n_batch_requests = 0;
  g_hash_table_remove_all (self->status_counts);
  g_hash_table_remove_all (self->agent_attempts);
  g_hash_table_remove_all (self->attempt_counters);
  g_ptr_array_set_size (self->log, 0);
  g_mutex_unlock (&self->lock);
}
