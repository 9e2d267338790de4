/* fj-client.c
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include <libsoup/soup.h>

#include "fj-client.h"
#include "fj-body-stream-private.h"
#include "fj-client-private.h"
#include "fj-enums.h"
#include "fj-error-private.h"
#include "fj-error.h"
#include "fj-json-private.h"
#include "fj-message-private.h"
#include "fj-openai-private.h"
#include "fj-rate-limiter-private.h"
#include "fj-sse-parser-private.h"
#include "fj-sync-call-private.h"

/**
 * FjClient:
 *
 * One API endpoint: base URL, credentials, API version, retries and a pool
 * of HTTP sessions.
 *
 * A client sends one [class@Message] at a time per call of
 * [method@Client.send_async] and is meant to be shared: every agent of a
 * run, and every runner of a process, can use the same client.
 *
 * ## Transport
 *
 * All HTTP runs with libsoup's asynchronous API on the thread-default
 * [struct@GLib.MainContext] of the caller. libsoup opens a new connection
 * for every `POST` unless the message is marked idempotent, and its
 * per-request CPU cost grows with the number of connections one session
 * holds, so the client marks every request %SOUP_MESSAGE_IDEMPOTENT (libsoup
 * never re-sends a `POST` by itself) and keeps a pool of sessions with at
 * most [property@Client:connections-per-session] connections each, adding a
 * session when all are busy.
 *
 * ## Retries
 *
 * A reply that carries `x-should-retry` is retried as it says. Otherwise
 * 408, 409, 429 and 5xx replies, and connection failures before any byte of
 * the reply body, are retried up to [property@Client:max-retries] times.
 * The wait is the server's `retry-after-ms` or `retry-after` when given,
 * else exponential backoff with jitter (0.5 s doubling up to 8 s, less up to
 * 25 %). Once body bytes have arrived nothing is retried: a dropped stream
 * or an `error` event ends the attempt and the message keeps the text it
 * had.
 *
 * ## Limits
 *
 * A reply is input from the network and is never trusted to be small.
 * A successful reply body (plain JSON or an SSE stream) larger than
 * [property@Client:max-reply-size] bytes, or an SSE line longer than
 * [property@Client:max-line-length] bytes, ends the attempt with
 * %FJ_ERROR_PROTOCOL, and the error message names the limit and the
 * property that sets it. The client never buffers more than the limit
 * (plus one read of at most 16 KiB): a `Content-Length` over the limit
 * is refused before any of the body is read. Reply JSON nested deeper
 * than 512 levels, and a stream that ends without `message_stop`, are
 * %FJ_ERROR_PROTOCOL errors too. None of these is retried, and the
 * message keeps the text streamed before the failure (an agent reports
 * it as its partial output).
 *
 * ## Credentials
 *
 * [property@Client:api-key] is sent as `x-api-key`, and
 * [property@Client:auth-token] as `Authorization: Bearer`. Both default to
 * the environment (`ANTHROPIC_API_KEY`, `ANTHROPIC_AUTH_TOKEN`), as the
 * official SDKs do. Neither can be read back, and neither ever appears in
 * an error, a log line or a result.
 *
 * ## OpenAI-compatible servers
 *
 * With [property@Client:provider] %FJ_PROVIDER_OPENAI the client posts to
 * `{base-url}/chat/completions` (the base URL including `/v1`), sends the
 * key (else the token) as `Authorization: Bearer` and no
 * `anthropic-version`, and needs no credentials at all (a local server).
 * The message's parameters are translated into a Chat Completions request
 * (the system prompt as the first message, tool turns as `tool_calls` and
 * `role: tool` messages, usage asked for with `stream_options`), and the
 * reply, streamed or not, back into the same content blocks, stop reasons
 * and usage; a reply without usage has zero counts. A stream must end in
 * `data: [DONE]`, else it is %FJ_ERROR_PROTOCOL, and a chunk with an
 * `error` member ends it as an `error` event does. HTTP errors map to the
 * same codes by status (503 and 529 being %FJ_ERROR_OVERLOADED) and are
 * retried by the same rules.
 *
 * Since: 1.0
 */

#define DEFAULT_CONNECTIONS_PER_SESSION 32
#define DEFAULT_IDLE_TIMEOUT 120.0
#define DEFAULT_MAX_RETRIES 2
#define DEFAULT_MAX_REPLY_SIZE (G_GUINT64_CONSTANT (64) * 1024 * 1024)
#define DEFAULT_MAX_LINE_LENGTH (G_GUINT64_CONSTANT (1) * 1024 * 1024)
#define MAX_ERROR_BODY_SIZE (1024 * 1024)
#define READ_BUFFER_SIZE (16 * 1024)
#define FIRST_READ_SIZE 4096
#define FIRST_STREAM_READ_SIZE 2048
/* Reads of a pollable body in one go before the main loop gets a turn. */
#define MAX_READS_IN_A_ROW 8
#define INITIAL_RETRY_DELAY 0.5
#define MAX_RETRY_DELAY 8.0

typedef struct
{
  SoupSession *session;
  guint        in_flight;
  gboolean     no_proxy;    /* proxies off: the base URL was loopback */
} SessionSlot;

/* The sessions used from one GMainContext: a SoupSession delivers its
 * callbacks on the context it is used from, so callers on other threads
 * (the _sync variants) get sessions of their own. */
typedef struct
{
  GMainContext *context;
  GPtrArray    *slots;
} SessionPool;

struct _FjClient
{
  GObject       parent_instance;

  char         *base_url;
  char         *api_key;
  char         *auth_token;
  char         *api_version;
  GTlsDatabase *tls_database;
  double        idle_timeout;
  guint         max_retries;
  guint         connections_per_session;
  guint64       max_reply_size;
  guint64       max_line_length;
  gboolean      allow_insecure_http;
  gboolean      base_url_checked;  /* base_url passed fj_client_check_base_url() */
  gboolean      base_url_loopback; /* its host is this machine */
  FjProvider    provider;
  gboolean      credentials_from_env;   /* ANTHROPIC_API_KEY/AUTH_TOKEN */

  GMutex        pools_lock;
  GPtrArray    *pools;

  FjRateLimiter *limiter;
  guint         requests_per_minute;
  guint         input_tokens_per_minute;
  guint         output_tokens_per_minute;
};

enum {
  PROP_0,
  PROP_BASE_URL,
  PROP_API_KEY,
  PROP_AUTH_TOKEN,
  PROP_HAS_CREDENTIALS,
  PROP_API_VERSION,
  PROP_MAX_RETRIES,
  PROP_IDLE_TIMEOUT,
  PROP_CONNECTIONS_PER_SESSION,
  PROP_N_SESSIONS,
  PROP_TLS_DATABASE,
  PROP_REQUESTS_PER_MINUTE,
  PROP_INPUT_TOKENS_PER_MINUTE,
  PROP_OUTPUT_TOKENS_PER_MINUTE,
  PROP_SHARED_PAUSE,
  PROP_WIDTH,
  PROP_MAX_REPLY_SIZE,
  PROP_MAX_LINE_LENGTH,
  PROP_ALLOW_INSECURE_HTTP,
  PROP_PROVIDER,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  PAUSED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (FjClient, fj_client, G_TYPE_OBJECT)

static void
session_slot_free (gpointer data)
{
  SessionSlot *slot = data;

  soup_session_abort (slot->session);
  g_object_unref (slot->session);
  g_free (slot);
}

static void
session_pool_free (gpointer data)
{
  SessionPool *pool = data;

  g_ptr_array_unref (pool->slots);
  g_main_context_unref (pool->context);
  g_free (pool);
}

void
_fj_client_release_context (FjClient     *self,
                            GMainContext *context)
{
  g_autoptr(GPtrArray) dropped = g_ptr_array_new_with_free_func (session_pool_free);

  g_mutex_lock (&self->pools_lock);
  for (guint i = self->pools->len; i > 0; i--)
    {
      SessionPool *pool = g_ptr_array_index (self->pools, i - 1);

      if (pool->context == context)
        g_ptr_array_add (dropped, g_ptr_array_steal_index (self->pools, i - 1));
    }
  g_mutex_unlock (&self->pools_lock);

  if (dropped->len > 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_SESSIONS]);
}

static SessionPool *
get_pool (FjClient     *self,
          GMainContext *context)
{
  SessionPool *pool = NULL;

  g_mutex_lock (&self->pools_lock);
  for (guint i = 0; i < self->pools->len; i++)
    {
      SessionPool *p = g_ptr_array_index (self->pools, i);

      if (p->context == context)
        {
          pool = p;
          break;
        }
    }
  if (pool == NULL)
    {
      pool = g_new0 (SessionPool, 1);
      pool->context = g_main_context_ref (context);
      pool->slots = g_ptr_array_new_with_free_func (session_slot_free);
      g_ptr_array_add (self->pools, pool);
    }
  g_mutex_unlock (&self->pools_lock);

  return pool;
}

/* Whether @uri's host is this machine: "localhost" or a loopback address. */
static gboolean
uri_is_loopback (GUri *uri)
{
  g_autoptr(GInetAddress) address = NULL;
  const char *host = g_uri_get_host (uri);

  if (host == NULL || *host == '\0')
    return FALSE;
  if (g_ascii_strcasecmp (host, "localhost") == 0)
    return TRUE;

  address = g_inet_address_new_from_string (host);

  return address != NULL && g_inet_address_get_is_loopback (address);
}

/* No proxy is ever right for this machine, and asking the resolver costs
 * each new connection a round through the main loop (or libproxy's
 * thread): a loopback base URL goes without.  Applies to the session's new
 * connections. */
static void
session_set_no_proxy (SessionSlot *slot,
                      gboolean     no_proxy)
{
  if (slot->no_proxy == no_proxy)
    return;

  slot->no_proxy = no_proxy;
  if (no_proxy)
    soup_session_set_proxy_resolver (slot->session, NULL);
  else
    soup_session_set_proxy_resolver (slot->session, g_proxy_resolver_get_default ());
}

/* Whether @base_url's host is this machine. */
static gboolean
base_url_is_loopback (const char *base_url)
{
  g_autoptr(GUri) uri = g_uri_parse (base_url, G_URI_FLAGS_NONE, NULL);

  return uri != NULL && uri_is_loopback (uri);
}

/* The first session with a free connection, so that idle keep-alive
 * connections are reused and the number of connections stays close to the
 * peak number of requests in flight. */
static SessionSlot *
acquire_slot (FjClient    *self,
              SessionPool *pool)
{
  SessionSlot *slot;

  for (guint i = 0; i < pool->slots->len; i++)
    {
      slot = g_ptr_array_index (pool->slots, i);
      if (slot->in_flight < self->connections_per_session)
        {
          slot->in_flight++;
          session_set_no_proxy (slot, self->base_url_loopback);
          return slot;
        }
    }

  slot = g_new0 (SessionSlot, 1);
  slot->session = soup_session_new_with_options ("max-conns", self->connections_per_session,
                                                 "max-conns-per-host", self->connections_per_session,
                                                 "user-agent", "forkjoin/" PACKAGE_VERSION,
                                                 NULL);
  if (self->tls_database != NULL)
    soup_session_set_tls_database (slot->session, self->tls_database);
  session_set_no_proxy (slot, self->base_url_loopback);
  slot->in_flight = 1;

  g_mutex_lock (&self->pools_lock);
  g_ptr_array_add (pool->slots, slot);
  g_mutex_unlock (&self->pools_lock);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_SESSIONS]);

  return slot;
}

static void
release_slot (SessionSlot *slot)
{
  g_assert (slot->in_flight > 0);
  slot->in_flight--;
}

/* Base URLs are kept without a trailing '/': requests append "/v1/...". */
static char *
normalize_base_url (const char *base_url)
{
  char *url = g_strdup (base_url);
  gsize len = strlen (url);

  while (len > 0 && url[len - 1] == '/')
    url[--len] = '\0';

  return url;
}

static char *
env_or_null (const char *name)
{
  const char *value = g_getenv (name);

  return (value != NULL && *value != '\0') ? g_strdup (value) : NULL;
}

static void
fj_client_finalize (GObject *object)
{
  FjClient *self = (FjClient *)object;

  g_clear_pointer (&self->pools, g_ptr_array_unref);
  g_mutex_clear (&self->pools_lock);
  g_clear_pointer (&self->limiter, _fj_rate_limiter_free);
  g_clear_object (&self->tls_database);
  g_clear_pointer (&self->base_url, g_free);
  if (self->api_key != NULL)
    memset (self->api_key, 0, strlen (self->api_key));
  g_clear_pointer (&self->api_key, g_free);
  if (self->auth_token != NULL)
    memset (self->auth_token, 0, strlen (self->auth_token));
  g_clear_pointer (&self->auth_token, g_free);
  g_clear_pointer (&self->api_version, g_free);

  G_OBJECT_CLASS (fj_client_parent_class)->finalize (object);
}

static void
fj_client_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  FjClient *self = FJ_CLIENT (object);

  switch (prop_id)
    {
    case PROP_BASE_URL:
      g_value_set_string (value, fj_client_get_base_url (self));
      break;

    case PROP_HAS_CREDENTIALS:
      g_value_set_boolean (value, fj_client_get_has_credentials (self));
      break;

    case PROP_API_VERSION:
      g_value_set_string (value, fj_client_get_api_version (self));
      break;

    case PROP_MAX_RETRIES:
      g_value_set_uint (value, fj_client_get_max_retries (self));
      break;

    case PROP_IDLE_TIMEOUT:
      g_value_set_double (value, fj_client_get_idle_timeout (self));
      break;

    case PROP_CONNECTIONS_PER_SESSION:
      g_value_set_uint (value, fj_client_get_connections_per_session (self));
      break;

    case PROP_N_SESSIONS:
      g_value_set_uint (value, fj_client_get_n_sessions (self));
      break;

    case PROP_TLS_DATABASE:
      g_value_set_object (value, fj_client_get_tls_database (self));
      break;

    case PROP_REQUESTS_PER_MINUTE:
      g_value_set_uint (value, fj_client_get_requests_per_minute (self));
      break;

    case PROP_INPUT_TOKENS_PER_MINUTE:
      g_value_set_uint (value, fj_client_get_input_tokens_per_minute (self));
      break;

    case PROP_OUTPUT_TOKENS_PER_MINUTE:
      g_value_set_uint (value, fj_client_get_output_tokens_per_minute (self));
      break;

    case PROP_SHARED_PAUSE:
      g_value_set_boolean (value, fj_client_get_shared_pause (self));
      break;

    case PROP_MAX_REPLY_SIZE:
      g_value_set_uint64 (value, fj_client_get_max_reply_size (self));
      break;

    case PROP_MAX_LINE_LENGTH:
      g_value_set_uint64 (value, fj_client_get_max_line_length (self));
      break;

    case PROP_ALLOW_INSECURE_HTTP:
      g_value_set_boolean (value, fj_client_get_allow_insecure_http (self));
      break;

    case PROP_PROVIDER:
      g_value_set_enum (value, fj_client_get_provider (self));
      break;

    case PROP_WIDTH:
      g_value_set_uint (value, fj_client_get_width (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fj_client_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  FjClient *self = FJ_CLIENT (object);

  switch (prop_id)
    {
    case PROP_BASE_URL:
      fj_client_set_base_url (self, g_value_get_string (value));
      break;

    case PROP_API_KEY:
      fj_client_set_api_key (self, g_value_get_string (value));
      break;

    case PROP_AUTH_TOKEN:
      fj_client_set_auth_token (self, g_value_get_string (value));
      break;

    case PROP_API_VERSION:
      fj_client_set_api_version (self, g_value_get_string (value));
      break;

    case PROP_MAX_RETRIES:
      fj_client_set_max_retries (self, g_value_get_uint (value));
      break;

    case PROP_IDLE_TIMEOUT:
      fj_client_set_idle_timeout (self, g_value_get_double (value));
      break;

    case PROP_CONNECTIONS_PER_SESSION:
      fj_client_set_connections_per_session (self, g_value_get_uint (value));
      break;

    case PROP_TLS_DATABASE:
      fj_client_set_tls_database (self, g_value_get_object (value));
      break;

    case PROP_REQUESTS_PER_MINUTE:
      fj_client_set_requests_per_minute (self, g_value_get_uint (value));
      break;

    case PROP_INPUT_TOKENS_PER_MINUTE:
      fj_client_set_input_tokens_per_minute (self, g_value_get_uint (value));
      break;

    case PROP_OUTPUT_TOKENS_PER_MINUTE:
      fj_client_set_output_tokens_per_minute (self, g_value_get_uint (value));
      break;

    case PROP_MAX_REPLY_SIZE:
      fj_client_set_max_reply_size (self, g_value_get_uint64 (value));
      break;

    case PROP_MAX_LINE_LENGTH:
      fj_client_set_max_line_length (self, g_value_get_uint64 (value));
      break;

    case PROP_ALLOW_INSECURE_HTTP:
      fj_client_set_allow_insecure_http (self, g_value_get_boolean (value));
      break;

    case PROP_PROVIDER:
      fj_client_set_provider (self, g_value_get_enum (value));
      break;

    case PROP_SHARED_PAUSE:
      fj_client_set_shared_pause (self, g_value_get_boolean (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fj_client_class_init (FjClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = fj_client_finalize;
  object_class->get_property = fj_client_get_property;
  object_class->set_property = fj_client_set_property;

  /**
   * FjClient:base-url:
   *
   * The base URL of the API, without `/v1`: requests go to
   * `{base-url}/v1/messages`. Defaults to `ANTHROPIC_BASE_URL`, else
   * %FJ_CLIENT_DEFAULT_BASE_URL.
   *
   * Since: 1.0
   */
  properties[PROP_BASE_URL] =
    g_param_spec_string ("base-url", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjClient:api-key:
   *
   * The API key, sent as `x-api-key`. Write-only: it cannot be read back.
   * Defaults to `ANTHROPIC_API_KEY`.
   *
   * Since: 1.0
   */
  properties[PROP_API_KEY] =
    g_param_spec_string ("api-key", NULL, NULL,
                         NULL,
                         (G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS));

  /**
   * FjClient:auth-token:
   *
   * A bearer token, sent as `Authorization: Bearer`. Write-only.
   * Defaults to `ANTHROPIC_AUTH_TOKEN`.
   *
   * Since: 1.0
   */
  properties[PROP_AUTH_TOKEN] =
    g_param_spec_string ("auth-token", NULL, NULL,
                         NULL,
                         (G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS));

  /**
   * FjClient:has-credentials:
   *
   * Whether an API key or a bearer token is set.
   *
   * Since: 1.0
   */
  properties[PROP_HAS_CREDENTIALS] =
    g_param_spec_boolean ("has-credentials", NULL, NULL,
                          FALSE,
                          (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjClient:api-version:
   *
   * The `anthropic-version` header. Defaults to
   * %FJ_CLIENT_DEFAULT_API_VERSION.
   *
   * Since: 1.0
   */
  properties[PROP_API_VERSION] =
    g_param_spec_string ("api-version", NULL, NULL,
                         FJ_CLIENT_DEFAULT_API_VERSION,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjClient:max-retries:
   *
   * How many times a failed attempt is retried when the failure allows it
   * (so at most this plus one attempts). 0 turns retries off.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_RETRIES] =
    g_param_spec_uint ("max-retries", NULL, NULL,
                       0, 100, DEFAULT_MAX_RETRIES,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjClient:idle-timeout:
   *
   * Seconds an attempt may go without receiving anything (headers or body
   * bytes) before it is aborted with %FJ_ERROR_TIMED_OUT. An attempt
   * aborted before any body byte arrived is retried. 0 turns it off.
   *
   * Since: 1.0
   */
  properties[PROP_IDLE_TIMEOUT] =
    g_param_spec_double ("idle-timeout", NULL, NULL,
                         0, G_MAXDOUBLE, DEFAULT_IDLE_TIMEOUT,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjClient:connections-per-session:
   *
   * The most connections one HTTP session of the pool opens. When every
   * session has this many requests in flight the client adds a session.
   * Changing it applies to sessions created afterwards.
   *
   * Since: 1.0
   */
  properties[PROP_CONNECTIONS_PER_SESSION] =
    g_param_spec_uint ("connections-per-session", NULL, NULL,
                       1, 1024, DEFAULT_CONNECTIONS_PER_SESSION,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjClient:n-sessions:
   *
   * How many HTTP sessions the pool holds, over all main contexts.
   *
   * Since: 1.0
   */
  properties[PROP_N_SESSIONS] =
    g_param_spec_uint ("n-sessions", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjClient:tls-database:
   *
   * The certificate database used to verify the server, or %NULL for the
   * system's. Certificates are always verified. Set it before the first
   * request.
   *
   * Since: 1.0
   */
  properties[PROP_TLS_DATABASE] =
    g_param_spec_object ("tls-database", NULL, NULL,
                         G_TYPE_TLS_DATABASE,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjClient:requests-per-minute:
   *
   * The most requests per minute the client sends, as a token bucket that
   * refills continuously and holds one minute's worth; requests over it
   * wait before they are sent. 0 turns it off.
   *
   * Set it (and the token limits) to the API's limits for the key and a
   * large fan-out never draws a 429.
   *
   * Since: 1.0
   */
  properties[PROP_REQUESTS_PER_MINUTE] =
    g_param_spec_uint ("requests-per-minute", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjClient:input-tokens-per-minute:
   *
   * The most input tokens per minute, estimated before sending as the
   * request body's bytes divided by 4 and corrected by the reply's usage.
   * 0 turns it off.
   *
   * Since: 1.0
   */
  properties[PROP_INPUT_TOKENS_PER_MINUTE] =
    g_param_spec_uint ("input-tokens-per-minute", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjClient:output-tokens-per-minute:
   *
   * The most output tokens per minute. A request reserves its
   * `max_tokens` when it is sent and gives back what the reply did not
   * use. 0 turns it off.
   *
   * Since: 1.0
   */
  properties[PROP_OUTPUT_TOKENS_PER_MINUTE] =
    g_param_spec_uint ("output-tokens-per-minute", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjClient:shared-pause:
   *
   * Whether a 429, or a budget the server's `anthropic-ratelimit-*`
   * headers report as spent, pauses every new request of the client until
   * the time the server gave, so that waiting agents do not each retry on
   * their own schedule. On by default.
   *
   * Since: 1.0
   */
  properties[PROP_SHARED_PAUSE] =
    g_param_spec_boolean ("shared-pause", NULL, NULL,
                          TRUE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjClient:width:
   *
   * How many requests the client lets be in flight at once, or 0 for no
   * limit (no runner is using the client). It starts at what the runners
   * using the client ask for, halves on a 429 or 529 (at most once a
   * second, never below 4 or what is asked if that is smaller) and widens
   * by one with each success, back up to what is asked.
   *
   * Since: 1.0
   */
  properties[PROP_WIDTH] =
    g_param_spec_uint ("width", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjClient:max-reply-size:
   *
   * The most bytes a successful reply body may have, a plain JSON body or
   * a whole SSE stream (default 64 MiB). A larger reply ends the attempt
   * with %FJ_ERROR_PROTOCOL naming the limit; text streamed before that is
   * kept. The client buffers no more than this. 0 means no limit, which
   * lets a hostile server make the client buffer a plain JSON reply of any
   * size.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_REPLY_SIZE] =
    g_param_spec_uint64 ("max-reply-size", NULL, NULL,
                         0, G_MAXUINT64, DEFAULT_MAX_REPLY_SIZE,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjClient:max-line-length:
   *
   * The most bytes one line of an SSE stream may have, and the most bytes
   * the data lines of one event may have together (default 1 MiB). A
   * longer line ends the attempt with %FJ_ERROR_PROTOCOL naming the limit;
   * text streamed before that is kept. 0 means no limit other than
   * [property@Client:max-reply-size].
   *
   * Since: 1.0
   */
  properties[PROP_MAX_LINE_LENGTH] =
    g_param_spec_uint64 ("max-line-length", NULL, NULL,
                         0, G_MAXUINT64, DEFAULT_MAX_LINE_LENGTH,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * FjClient:allow-insecure-http:
   *
   * Whether requests may go to a plain-HTTP base URL whose host is not
   * loopback (`127.0.0.0/8`, `::1`, `localhost`), where the credentials and
   * the prompts travel unencrypted. Off by default: such a request fails
   * at once with %FJ_ERROR_INVALID_REQUEST (see
   * [method@Client.check_base_url]). Certificates of https URLs are always
   * verified; nothing turns that off.
   *
   * Since: 1.0
   */
  /**
   * FjClient:provider:
   *
   * The protocol the client speaks: the Anthropic Messages API (the
   * default) or an OpenAI-compatible Chat Completions server. Requests,
   * replies, streams, tool calls and errors are translated, so agents,
   * runners and results work the same with either.
   *
   * Since: 1.0
   */
  properties[PROP_PROVIDER] =
    g_param_spec_enum ("provider", NULL, NULL,
                       FJ_TYPE_PROVIDER, FJ_PROVIDER_ANTHROPIC,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_ALLOW_INSECURE_HTTP] =
    g_param_spec_boolean ("allow-insecure-http", NULL, NULL,
                          FALSE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * FjClient::paused:
   * @self: the #FjClient
   * @reason: why: a 429, or which budget is spent
   * @until: when new requests resume, in UTC
   *
   * Emitted when the client pauses all its new requests, or extends a
   * pause, because of a rate limit. See [property@Client:shared-pause].
   * It may be emitted on any thread that uses the client.
   *
   * Since: 1.0
   */
  signals[PAUSED] =
    g_signal_new ("paused",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 2,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE,
                  G_TYPE_DATE_TIME);
}

static void
limiter_notify_cb (gpointer    user_data,
                   gboolean    width_changed,
                   const char *pause_reason,
                   gint64      pause_until_unix_us)
{
  FjClient *self = user_data;

  if (width_changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WIDTH]);

  if (pause_reason != NULL)
    {
      g_autoptr(GDateTime) until = g_date_time_new_from_unix_utc (pause_until_unix_us / G_USEC_PER_SEC);
      g_autoptr(GDateTime) precise = g_date_time_add (until, pause_until_unix_us % G_USEC_PER_SEC);

      g_signal_emit (self, signals[PAUSED], 0, pause_reason, precise);
    }
}

static void
fj_client_init (FjClient *self)
{
  g_mutex_init (&self->pools_lock);
  self->pools = g_ptr_array_new_with_free_func (session_pool_free);
  self->api_version = g_strdup (FJ_CLIENT_DEFAULT_API_VERSION);
  self->max_retries = DEFAULT_MAX_RETRIES;
  self->idle_timeout = DEFAULT_IDLE_TIMEOUT;
  self->connections_per_session = DEFAULT_CONNECTIONS_PER_SESSION;
  self->max_reply_size = DEFAULT_MAX_REPLY_SIZE;
  self->max_line_length = DEFAULT_MAX_LINE_LENGTH;
  self->limiter = _fj_rate_limiter_new (limiter_notify_cb, self);
  self->base_url = normalize_base_url (g_getenv ("ANTHROPIC_BASE_URL") && *g_getenv ("ANTHROPIC_BASE_URL") ?
                                      g_getenv ("ANTHROPIC_BASE_URL") : FJ_CLIENT_DEFAULT_BASE_URL);
  self->base_url_loopback = base_url_is_loopback (self->base_url);
  self->api_key = env_or_null ("ANTHROPIC_API_KEY");
  self->auth_token = env_or_null ("ANTHROPIC_AUTH_TOKEN");
  self->credentials_from_env = self->api_key != NULL || self->auth_token != NULL;
}

/**
 * fj_client_new:
 *
 * Creates a client for the API at `ANTHROPIC_BASE_URL` (or the public
 * API), with the credentials of the environment.
 *
 * Returns: (transfer full): a new #FjClient
 *
 * Since: 1.0
 */
FjClient *
fj_client_new (void)
{
  return g_object_new (FJ_TYPE_CLIENT, NULL);
}

/**
 * fj_client_new_for_base_url:
 * @base_url: the API's base URL, without `/v1`
 *
 * Creates a client for the API at @base_url, with the credentials of the
 * environment.
 *
 * Returns: (transfer full): a new #FjClient
 *
 * Since: 1.0
 */
FjClient *
fj_client_new_for_base_url (const char *base_url)
{
  g_return_val_if_fail (base_url != NULL, NULL);

  return g_object_new (FJ_TYPE_CLIENT, "base-url", base_url, NULL);
}

/**
 * fj_client_get_base_url:
 * @self: a #FjClient
 *
 * Gets the base URL requests go to.
 *
 * Returns: (transfer none): the base URL
 *
 * Since: 1.0
 */
const char *
fj_client_get_base_url (FjClient *self)
{
  g_return_val_if_fail (FJ_IS_CLIENT (self), NULL);

  return self->base_url;
}

/**
 * fj_client_set_base_url:
 * @self: a #FjClient
 * @base_url: (nullable): the base URL, or %NULL for the default
 *
 * Sets the base URL, without `/v1`. A trailing `/` is dropped.
 *
 * Since: 1.0
 */
void
fj_client_set_base_url (FjClient   *self,
                        const char *base_url)
{
  g_autofree char *url = NULL;

  g_return_if_fail (FJ_IS_CLIENT (self));

  url = normalize_base_url (base_url != NULL ? base_url : FJ_CLIENT_DEFAULT_BASE_URL);

  if (g_strcmp0 (url, self->base_url) == 0)
    return;

  g_free (self->base_url);
  self->base_url = g_steal_pointer (&url);
  self->base_url_checked = FALSE;
  self->base_url_loopback = base_url_is_loopback (self->base_url);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BASE_URL]);
}

static void
replace_secret (char       **field,
                const char  *value)
{
  if (*field != NULL)
    memset (*field, 0, strlen (*field));
  g_free (*field);
  *field = (value != NULL && *value != '\0') ? g_strdup (value) : NULL;
}

/**
 * fj_client_set_api_key:
 * @self: a #FjClient
 * @api_key: (nullable): the API key, or %NULL for none
 *
 * Sets the key sent as `x-api-key`. It cannot be read back.
 *
 * Since: 1.0
 */
void
fj_client_set_api_key (FjClient   *self,
                       const char *api_key)
{
  gboolean had;

  g_return_if_fail (FJ_IS_CLIENT (self));

  had = fj_client_get_has_credentials (self);
  self->credentials_from_env = FALSE;
  replace_secret (&self->api_key, api_key);
  if (had != fj_client_get_has_credentials (self))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_CREDENTIALS]);
}

/**
 * fj_client_set_auth_token:
 * @self: a #FjClient
 * @auth_token: (nullable): the bearer token, or %NULL for none
 *
 * Sets the token sent as `Authorization: Bearer`. It cannot be read back.
 *
 * Since: 1.0
 */
void
fj_client_set_auth_token (FjClient   *self,
                          const char *auth_token)
{
  gboolean had;

  g_return_if_fail (FJ_IS_CLIENT (self));

  had = fj_client_get_has_credentials (self);
  self->credentials_from_env = FALSE;
  replace_secret (&self->auth_token, auth_token);
  if (had != fj_client_get_has_credentials (self))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_CREDENTIALS]);
}

/**
 * fj_client_get_has_credentials:
 * @self: a #FjClient
 *
 * Whether an API key or a bearer token is set.
 *
 * Returns: %TRUE if requests will carry credentials
 *
 * Since: 1.0
 */
gboolean
fj_client_get_has_credentials (FjClient *self)
{
  g_return_val_if_fail (FJ_IS_CLIENT (self), FALSE);

  return self->api_key != NULL || self->auth_token != NULL;
}

/**
 * fj_client_get_api_version:
 * @self: a #FjClient
 *
 * Gets the `anthropic-version` sent with each request.
 *
 * Returns: (transfer none): the API version
 *
 * Since: 1.0
 */
const char *
fj_client_get_api_version (FjClient *self)
{
  g_return_val_if_fail (FJ_IS_CLIENT (self), NULL);

  return self->api_version;
}

/**
 * fj_client_set_api_version:
 * @self: a #FjClient
 * @api_version: (nullable): the version, or %NULL for the default
 *
 * Sets the `anthropic-version` header.
 *
 * Since: 1.0
 */
void
fj_client_set_api_version (FjClient   *self,
                           const char *api_version)
{
  g_return_if_fail (FJ_IS_CLIENT (self));

  if (api_version == NULL)
    api_version = FJ_CLIENT_DEFAULT_API_VERSION;
  if (g_strcmp0 (api_version, self->api_version) == 0)
    return;

  g_free (self->api_version);
  self->api_version = g_strdup (api_version);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_API_VERSION]);
}

/**
 * fj_client_get_max_retries:
 * @self: a #FjClient
 *
 * Gets how many times a failed attempt may be retried.
 *
 * Returns: the number of retries
 *
 * Since: 1.0
 */
guint
fj_client_get_max_retries (FjClient *self)
{
  g_return_val_if_fail (FJ_IS_CLIENT (self), 0);

  return self->max_retries;
}

/**
 * fj_client_set_max_retries:
 * @self: a #FjClient
 * @max_retries: the number of retries
 *
 * Sets how many times a failed attempt may be retried.
 *
 * Since: 1.0
 */
void
fj_client_set_max_retries (FjClient *self,
                           guint     max_retries)
{
  g_return_if_fail (FJ_IS_CLIENT (self));

  if (self->max_retries == max_retries)
    return;

  self->max_retries = max_retries;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_RETRIES]);
}

/**
 * fj_client_get_idle_timeout:
 * @self: a #FjClient
 *
 * Gets the idle timeout of one attempt, in seconds.
 *
 * Returns: the idle timeout, 0 when off
 *
 * Since: 1.0
 */
double
fj_client_get_idle_timeout (FjClient *self)
{
  g_return_val_if_fail (FJ_IS_CLIENT (self), 0);

  return self->idle_timeout;
}

/**
 * fj_client_set_idle_timeout:
 * @self: a #FjClient
 * @seconds: the idle timeout, 0 to turn it off
 *
 * Sets how long one attempt may receive nothing before it is aborted.
 *
 * Since: 1.0
 */
void
fj_client_set_idle_timeout (FjClient *self,
                            double    seconds)
{
  g_return_if_fail (FJ_IS_CLIENT (self));
  g_return_if_fail (seconds >= 0);

  if (self->idle_timeout == seconds)
    return;

  self->idle_timeout = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IDLE_TIMEOUT]);
}

/**
 * fj_client_get_max_reply_size:
 * @self: a #FjClient
 *
 * Gets the most bytes a successful reply body may have.
 *
 * Returns: the limit in bytes, 0 for none
 *
 * Since: 1.0
 */
guint64
fj_client_get_max_reply_size (FjClient *self)
{
  g_return_val_if_fail (FJ_IS_CLIENT (self), 0);

  return self->max_reply_size;
}

/**
 * fj_client_set_max_reply_size:
 * @self: a #FjClient
 * @max_reply_size: the limit in bytes, 0 for none
 *
 * Sets the most bytes a successful reply body (a JSON body or a whole
 * SSE stream) may have. It applies to attempts started afterwards. See
 * [property@Client:max-reply-size].
 *
 * Since: 1.0
 */
void
fj_client_set_max_reply_size (FjClient *self,
                              guint64   max_reply_size)
{
  g_return_if_fail (FJ_IS_CLIENT (self));

  if (self->max_reply_size == max_reply_size)
    return;

  self->max_reply_size = max_reply_size;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_REPLY_SIZE]);
}

/**
 * fj_client_get_max_line_length:
 * @self: a #FjClient
 *
 * Gets the most bytes one SSE line (or one event's data) may have.
 *
 * Returns: the limit in bytes, 0 for none
 *
 * Since: 1.0
 */
guint64
fj_client_get_max_line_length (FjClient *self)
{
  g_return_val_if_fail (FJ_IS_CLIENT (self), 0);

  return self->max_line_length;
}

/**
 * fj_client_set_max_line_length:
 * @self: a #FjClient
 * @max_line_length: the limit in bytes, 0 for none
 *
 * Sets the most bytes one line of an SSE stream, and the data of one
 * event, may have. It applies to attempts started afterwards. See
 * [property@Client:max-line-length].
 *
 * Since: 1.0
 */
void
fj_client_set_max_line_length (FjClient *self,
                               guint64   max_line_length)
{
  g_return_if_fail (FJ_IS_CLIENT (self));

  if (self->max_line_length == max_line_length)
    return;

  self->max_line_length = max_line_length;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_LINE_LENGTH]);
}

/**
 * fj_client_get_provider:
 * @self: a #FjClient
 *
 * Gets the protocol the client speaks. See [property@Client:provider].
 *
 * Returns: the provider
 *
 * Since: 1.0
 */
FjProvider
fj_client_get_provider (FjClient *self)
{
  g_return_val_if_fail (FJ_IS_CLIENT (self), FJ_PROVIDER_ANTHROPIC);

  return self->provider;
}

/**
 * fj_client_set_provider:
 * @self: a #FjClient
 * @provider: the protocol to speak
 *
 * Sets the protocol the client speaks; it applies to requests sent
 * afterwards. See [property@Client:provider].
 *
 * Credentials the client took from `ANTHROPIC_API_KEY` or
 * `ANTHROPIC_AUTH_TOKEN` are dropped when it switches to
 * %FJ_PROVIDER_OPENAI, so an Anthropic key is never sent to another
 * server; set the OpenAI server's key (if it needs one) afterwards.
 *
 * Since: 1.0
 */
void
fj_client_set_provider (FjClient   *self,
                        FjProvider  provider)
{
  g_return_if_fail (FJ_IS_CLIENT (self));
  g_return_if_fail (provider == FJ_PROVIDER_ANTHROPIC || provider == FJ_PROVIDER_OPENAI);

  if (self->provider == provider)
    return;

  self->provider = provider;
  if (provider == FJ_PROVIDER_OPENAI && self->credentials_from_env)
    {
      fj_client_set_api_key (self, NULL);
      fj_client_set_auth_token (self, NULL);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROVIDER]);
}

/**
 * fj_client_get_allow_insecure_http:
 * @self: a #FjClient
 *
 * Gets whether requests may go to a plain-HTTP base URL that is not
 * loopback. See [property@Client:allow-insecure-http].
 *
 * Returns: %TRUE if they may
 *
 * Since: 1.0
 */
gboolean
fj_client_get_allow_insecure_http (FjClient *self)
{
  g_return_val_if_fail (FJ_IS_CLIENT (self), FALSE);

  return self->allow_insecure_http;
}

/**
 * fj_client_set_allow_insecure_http:
 * @self: a #FjClient
 * @allow_insecure_http: whether to allow it
 *
 * Sets whether requests may go to a plain-HTTP base URL that is not
 * loopback. See [property@Client:allow-insecure-http].
 *
 * Since: 1.0
 */
void
fj_client_set_allow_insecure_http (FjClient *self,
                                   gboolean  allow_insecure_http)
{
  g_return_if_fail (FJ_IS_CLIENT (self));

  allow_insecure_http = !!allow_insecure_http;
  if (self->allow_insecure_http == allow_insecure_http)
    return;

  self->allow_insecure_http = allow_insecure_http;
  self->base_url_checked = FALSE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ALLOW_INSECURE_HTTP]);
}

/**
 * fj_client_is_insecure:
 * @self: a #FjClient
 *
 * Tells whether the base URL is plain HTTP to a host that is not
 * loopback (`127.0.0.0/8`, `::1`, `localhost`): one where the credentials
 * and prompts would travel unencrypted. A URL that does not parse counts
 * as insecure too (requests to it fail).
 *
 * Returns: %TRUE if the base URL is insecure
 *
 * Since: 1.0
 */
gboolean
fj_client_is_insecure (FjClient *self)
{
  g_autoptr(GUri) uri = NULL;

  g_return_val_if_fail (FJ_IS_CLIENT (self), TRUE);

  uri = g_uri_parse (self->base_url, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL)
    return TRUE;
  if (g_ascii_strcasecmp (g_uri_get_scheme (uri), "https") == 0)
    return FALSE;
  if (g_ascii_strcasecmp (g_uri_get_scheme (uri), "http") != 0)
    return TRUE;

  return !uri_is_loopback (uri);
}

/* The base URL for a message, without any user:password@ part. */
static char *
dup_shown_base_url (FjClient *self)
{
  g_autoptr(GUri) uri = g_uri_parse (self->base_url, G_URI_FLAGS_NONE, NULL);

  if (uri == NULL || g_uri_get_userinfo (uri) == NULL)
    return g_strdup (self->base_url);

  return g_uri_to_string_partial (uri, G_URI_HIDE_USERINFO);
}

/**
 * fj_client_check_base_url:
 * @self: a #FjClient
 * @error: return location for a #GError
 *
 * Checks that requests may be sent to the base URL: it must parse as an
 * http or https URL, and plain HTTP must go to loopback unless
 * [property@Client:allow-insecure-http] is set. [method@Client.send_async]
 * makes the same check; calling this first reports a bad configuration
 * before any work starts.
 *
 * Returns: %TRUE if requests may be sent, else %FALSE with @error set to
 *   %FJ_ERROR_INVALID_REQUEST
 *
 * Since: 1.0
 */
gboolean
fj_client_check_base_url (FjClient  *self,
                          GError   **error)
{
  g_autoptr(GUri) uri = NULL;
  g_autofree char *shown = NULL;
  const char *scheme;

  g_return_val_if_fail (FJ_IS_CLIENT (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* Every request asks: the answer is kept until the URL or the
   * insecure-HTTP switch changes. */
  if (self->base_url_checked)
    return TRUE;

  shown = dup_shown_base_url (self);
  uri = g_uri_parse (self->base_url, G_URI_FLAGS_NONE, NULL);
  scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
  if (scheme == NULL ||
      (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0) ||
      g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
    {
      g_set_error (error, FJ_ERROR, FJ_ERROR_INVALID_REQUEST,
                   "invalid base URL “%s”: expected http:// or https:// and a host", shown);
      return FALSE;
    }

  if (!self->allow_insecure_http && fj_client_is_insecure (self))
    {
      g_set_error (error, FJ_ERROR, FJ_ERROR_INVALID_REQUEST,
                   "refusing the plain-HTTP base URL %s: it is not loopback, and the credentials "
                   "and prompts would travel unencrypted; use https, or allow insecure HTTP "
                   "(\"allow_insecure_http\": true in a spec, the client's allow-insecure-http "
                   "property in code)",
                   shown);
      return FALSE;
    }

  self->base_url_checked = TRUE;
  return TRUE;
}

/**
 * fj_client_get_connections_per_session:
 * @self: a #FjClient
 *
 * Gets the most connections one session of the pool opens.
 *
 * Returns: the number of connections
 *
 * Since: 1.0
 */
guint
fj_client_get_connections_per_session (FjClient *self)
{
  g_return_val_if_fail (FJ_IS_CLIENT (self), 0);

  return self->connections_per_session;
}

/**
 * fj_client_set_connections_per_session:
 * @self: a #FjClient
 * @n_connections: the number of connections, at least 1
 *
 * Sets the most connections one session of the pool opens; it applies to
 * sessions created afterwards.
 *
 * Since: 1.0
 */
void
fj_client_set_connections_per_session (FjClient *self,
                                       guint     n_connections)
{
  g_return_if_fail (FJ_IS_CLIENT (self));
  g_return_if_fail (n_connections > 0);

  if (self->connections_per_session == n_connections)
    return;

  self->connections_per_session = n_connections;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONNECTIONS_PER_SESSION]);
}

/**
 * fj_client_get_n_sessions:
 * @self: a #FjClient
 *
 * Gets how many HTTP sessions the pool holds.
 *
 * Returns: the number of sessions
 *
 * Since: 1.0
 */
guint
fj_client_get_n_sessions (FjClient *self)
{
  guint n = 0;

  g_return_val_if_fail (FJ_IS_CLIENT (self), 0);

  g_mutex_lock (&self->pools_lock);
  for (guint i = 0; i < self->pools->len; i++)
    n += ((SessionPool *) g_ptr_array_index (self->pools, i))->slots->len;
  g_mutex_unlock (&self->pools_lock);

  return n;
}

/**
 * fj_client_get_tls_database:
 * @self: a #FjClient
 *
 * Gets the certificate database used to verify servers.
 *
 * Returns: (transfer none) (nullable): the database, or %NULL for the
 *   system's
 *
 * Since: 1.0
 */
GTlsDatabase *
fj_client_get_tls_database (FjClient *self)
{
  g_return_val_if_fail (FJ_IS_CLIENT (self), NULL);

  return self->tls_database;
}

/**
 * fj_client_set_tls_database:
 * @self: a #FjClient
 * @database: (nullable): a #GTlsDatabase, or %NULL for the system's
 *
 * Sets the certificate database used to verify servers, for example one
 * that trusts a private certificate authority. Sessions already created
 * take it too.
 *
 * Since: 1.0
 */
void
fj_client_set_tls_database (FjClient     *self,
                            GTlsDatabase *database)
{
  g_return_if_fail (FJ_IS_CLIENT (self));
  g_return_if_fail (!database || G_IS_TLS_DATABASE (database));

  if (!g_set_object (&self->tls_database, database))
    return;

  g_mutex_lock (&self->pools_lock);
  for (guint i = 0; i < self->pools->len; i++)
    {
      SessionPool *pool = g_ptr_array_index (self->pools, i);

      for (guint j = 0; j < pool->slots->len; j++)
        {
          SessionSlot *slot = g_ptr_array_index (pool->slots, j);

          soup_session_set_tls_database (slot->session, database);
        }
    }
  g_mutex_unlock (&self->pools_lock);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TLS_DATABASE]);
}

/**
 * fj_client_get_requests_per_minute:
 * @self: a #FjClient
 *
 * Gets the client's own requests-per-minute limit.
 *
 * Returns: the limit, 0 when off
 *
 * Since: 1.0
 */
guint
fj_client_get_requests_per_minute (FjClient *self)
{
  g_return_val_if_fail (FJ_IS_CLIENT (self), 0);

  return self->requests_per_minute;
}

static void
apply_limits (FjClient *self)
{
  _fj_rate_limiter_set_limits (self->limiter,
                               self->requests_per_minute,
                               self->input_tokens_per_minute,
                               self->output_tokens_per_minute);
}

/**
 * fj_client_set_requests_per_minute:
 * @self: a #FjClient
 * @limit: the limit, 0 to turn it off
 *
 * Sets the most requests per minute the client sends.
 *
 * Since: 1.0
 */
void
fj_client_set_requests_per_minute (FjClient *self,
                                   guint     limit)
{
  g_return_if_fail (FJ_IS_CLIENT (self));

  if (self->requests_per_minute == limit)
    return;

  self->requests_per_minute = limit;
  apply_limits (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REQUESTS_PER_MINUTE]);
}

/**
 * fj_client_get_input_tokens_per_minute:
 * @self: a #FjClient
 *
 * Gets the client's own input-tokens-per-minute limit.
 *
 * Returns: the limit, 0 when off
 *
 * Since: 1.0
 */
guint
fj_client_get_input_tokens_per_minute (FjClient *self)
{
  g_return_val_if_fail (FJ_IS_CLIENT (self), 0);

  return self->input_tokens_per_minute;
}

/**
 * fj_client_set_input_tokens_per_minute:
 * @self: a #FjClient
 * @limit: the limit, 0 to turn it off
 *
 * Sets the most input tokens per minute the client sends.
 *
 * Since: 1.0
 */
void
fj_client_set_input_tokens_per_minute (FjClient *self,
                                       guint     limit)
{
  g_return_if_fail (FJ_IS_CLIENT (self));

  if (self->input_tokens_per_minute == limit)
    return;

  self->input_tokens_per_minute = limit;
  apply_limits (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_INPUT_TOKENS_PER_MINUTE]);
}

/**
 * fj_client_get_output_tokens_per_minute:
 * @self: a #FjClient
 *
 * Gets the client's own output-tokens-per-minute limit.
 *
 * Returns: the limit, 0 when off
 *
 * Since: 1.0
 */
guint
fj_client_get_output_tokens_per_minute (FjClient *self)
{
  g_return_val_if_fail (FJ_IS_CLIENT (self), 0);

  return self->output_tokens_per_minute;
}

/**
 * fj_client_set_output_tokens_per_minute:
 * @self: a #FjClient
 * @limit: the limit, 0 to turn it off
 *
 * Sets the most output tokens per minute the client's requests may
 * reserve.
 *
 * Since: 1.0
 */
void
fj_client_set_output_tokens_per_minute (FjClient *self,
                                        guint     limit)
{
  g_return_if_fail (FJ_IS_CLIENT (self));

  if (self->output_tokens_per_minute == limit)
    return;

  self->output_tokens_per_minute = limit;
  apply_limits (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OUTPUT_TOKENS_PER_MINUTE]);
}

/**
 * fj_client_get_shared_pause:
 * @self: a #FjClient
 *
 * Gets whether rate limits pause all of the client's new requests.
 *
 * Returns: %TRUE if pauses are shared
 *
 * Since: 1.0
 */
gboolean
fj_client_get_shared_pause (FjClient *self)
{
  g_return_val_if_fail (FJ_IS_CLIENT (self), FALSE);

  return _fj_rate_limiter_get_shared_pause (self->limiter);
}

/**
 * fj_client_set_shared_pause:
 * @self: a #FjClient
 * @shared_pause: whether rate limits pause every new request
 *
 * Sets whether a 429, or a budget reported spent, pauses all of the
 * client's new requests until the server's reset time.
 *
 * Since: 1.0
 */
void
fj_client_set_shared_pause (FjClient *self,
                            gboolean  shared_pause)
{
  g_return_if_fail (FJ_IS_CLIENT (self));

  if (fj_client_get_shared_pause (self) == !!shared_pause)
    return;

  _fj_rate_limiter_set_shared_pause (self->limiter, shared_pause);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SHARED_PAUSE]);
}

/**
 * fj_client_get_width:
 * @self: a #FjClient
 *
 * Gets how many requests the client lets be in flight at once. See
 * [property@Client:width].
 *
 * Returns: the width, or 0 for no limit
 *
 * Since: 1.0
 */
guint
fj_client_get_width (FjClient *self)
{
  g_return_val_if_fail (FJ_IS_CLIENT (self), 0);

  return _fj_rate_limiter_get_width (self->limiter);
}

void
_fj_client_add_demand (FjClient *self,
                       int       delta)
{
  g_return_if_fail (FJ_IS_CLIENT (self));

  _fj_rate_limiter_add_demand (self->limiter, delta);
}

/* ---------------------------------------------------------------------- */
/* Sending                                                                */
/* ---------------------------------------------------------------------- */

/* The wait before a retry: its timer, and the task's cancellable watched
 * meanwhile.  Whichever fires first calls retry_wait_clear(), ending the
 * wait (a source may be destroyed from its own callback). */
typedef struct
{
  GSource *timer;
  GSource *cancelled;
} RetryWait;

typedef struct
{
  FjClient      *client;
  FjMessage     *message;
  GMainContext  *context;
  SessionPool   *pool;
  GBytes        *body;
  char          *url;

  /* One attempt */
  SessionSlot   *slot;
  SoupMessage   *soup_msg;
  GCancellable  *attempt_cancellable;
  GInputStream  *stream;
  GSource       *read_source;   /* waiting for a pollable body to be readable */
  FjSseParser   *parser;
  FjOpenaiStream *openai;      /* an OpenAI stream's translator */
  GByteArray    *reply;
  GSource       *idle_source;
  gint64         idle_deadline;
  RetryWait      retry;
  GCancellable  *outer;
  gulong         cancel_handler;
  guint          attempt;
  guint          status;
  gint64         input_estimate;
  gint64         output_reserve;
  FjRateTicket   ticket;
  gboolean       has_ticket;
  gboolean       completed;
  gboolean       streaming;
  gboolean       idle_fired;
  guint64        body_bytes;
  guint64        max_reply_size;   /* this attempt's; G_MAXUINT64 for none */
  guint64        max_line_length;
  guint8        *buffer;        /* a stream's; a JSON body is read into reply */
  gsize          buffer_size;   /* grows while reads fill it */
  gint64         reply_length;  /* the announced Content-Length, or -1 */
} SendState;

static void start_attempt (GTask *task);
static void read_next (GTask *task);

static void
destroy_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_source_unref (*source);
      *source = NULL;
    }
}

static void
retry_wait_clear (RetryWait *wait)
{
  destroy_source (&wait->timer);
  destroy_source (&wait->cancelled);
}

static void
retry_wait_start (RetryWait              *wait,
                  GTask                  *task,
                  GMainContext           *context,
                  double                  delay,
                  GSourceFunc             timer_cb,
                  GCancellableSourceFunc  cancelled_cb)
{
  GCancellable *cancellable = g_task_get_cancellable (task);

  g_assert (wait->timer == NULL && wait->cancelled == NULL);

  wait->timer = g_timeout_source_new ((guint) ceil (delay * 1000));
  g_source_set_callback (wait->timer, timer_cb, task, NULL);
  g_source_set_static_name (wait->timer, "[forkjoin] retry");
  g_source_attach (wait->timer, context);

  if (cancellable != NULL)
    {
      wait->cancelled = g_cancellable_source_new (cancellable);
      g_source_set_callback (wait->cancelled, (GSourceFunc) (void (*)(void)) cancelled_cb,
                             task, NULL);
      g_source_attach (wait->cancelled, context);
    }
}

static void
end_attempt (SendState *state)
{
  if (state->has_ticket)
    {
      FjRateOutcome outcome = FJ_RATE_OUTCOME_OTHER;
      gint64 input_used = -1;
      gint64 output_used = -1;

      if (state->status == 429 || state->status == 529)
        outcome = FJ_RATE_OUTCOME_OVERLOAD;
      else if (state->completed)
        {
          const FjUsage *usage = fj_message_get_usage (state->message);

          outcome = FJ_RATE_OUTCOME_SUCCESS;
          input_used = usage->input_tokens + usage->cache_creation_input_tokens;
          output_used = usage->output_tokens;
        }
      else if (state->status >= 400 && state->status < 500)
        {
          /* Refused before the model ran: nothing was used. */
          input_used = 0;
          output_used = 0;
        }

      state->has_ticket = FALSE;
      _fj_rate_limiter_leave (state->client->limiter, &state->ticket, outcome,
                              input_used, output_used);
    }

  destroy_source (&state->idle_source);
  destroy_source (&state->read_source);
  if (state->cancel_handler != 0)
    {
      g_cancellable_disconnect (state->outer, state->cancel_handler);
      state->cancel_handler = 0;
    }
  if (state->slot != NULL)
    {
      release_slot (state->slot);
      state->slot = NULL;
    }
  g_clear_object (&state->stream);
  g_clear_object (&state->soup_msg);
  g_clear_object (&state->attempt_cancellable);
  g_clear_pointer (&state->parser, _fj_sse_parser_free);
  g_clear_pointer (&state->openai, _fj_openai_stream_free);
  g_clear_pointer (&state->reply, g_byte_array_unref);
}

static void
send_state_free (gpointer data)
{
  SendState *state = data;

  end_attempt (state);
  retry_wait_clear (&state->retry);
  g_clear_pointer (&state->body, g_bytes_unref);
  g_clear_pointer (&state->url, g_free);
  g_clear_pointer (&state->buffer, g_free);
  g_clear_pointer (&state->context, g_main_context_unref);
  g_clear_object (&state->outer);
  g_clear_object (&state->message);
  g_clear_object (&state->client);
  g_free (state);
}

static void
cancel_attempt_cb (GCancellable *cancellable,
                   gpointer      user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
}

static gboolean idle_timeout_cb (gpointer user_data);

static void
arm_idle (SendState *state)
{
  g_assert (state->idle_source == NULL);

  state->idle_source = g_timeout_source_new ((guint) (state->client->idle_timeout * 1000));
  g_source_set_ready_time (state->idle_source, state->idle_deadline);
  g_source_set_callback (state->idle_source, idle_timeout_cb, state, NULL);
  g_source_set_static_name (state->idle_source, "[forkjoin] idle timeout");
  g_source_attach (state->idle_source, state->context);
}

static gboolean
idle_timeout_cb (gpointer user_data)
{
  SendState *state = user_data;

  g_clear_pointer (&state->idle_source, g_source_unref);

  /* Touched since it was armed: wait for the rest. */
  if (g_get_monotonic_time () < state->idle_deadline)
    {
      arm_idle (state);
      return G_SOURCE_REMOVE;
    }

  state->idle_fired = TRUE;
  if (state->attempt_cancellable != NULL)
    g_cancellable_cancel (state->attempt_cancellable);

  return G_SOURCE_REMOVE;
}

/* Restarts the attempt's idle timer: called whenever anything arrives.
 * Only the deadline moves; the timer checks it when it fires, because
 * moving an attached source's ready time wakes its context every time. */
static void
touch_idle (SendState *state)
{
  if (state->client->idle_timeout <= 0)
    return;

  state->idle_deadline = g_get_monotonic_time () +
                         (gint64) (state->client->idle_timeout * G_USEC_PER_SEC);
  if (state->idle_source == NULL)
    arm_idle (state);
}

static const char *
header (SoupMessage *msg,
        const char  *name)
{
  return soup_message_headers_get_one (soup_message_get_response_headers (msg), name);
}

/* The wait the server asked for, in seconds, or a negative number. */
static double
retry_after_hint (SoupMessage *msg)
{
  const char *value;
  char *end = NULL;
  double seconds;

  if (msg == NULL)
    return -1;

  if ((value = header (msg, "retry-after-ms")) != NULL)
    {
      seconds = g_ascii_strtod (value, &end) / 1000.0;
      if (end != value && isfinite (seconds) && seconds >= 0)
        return seconds;
    }

  if ((value = header (msg, "retry-after")) != NULL)
    {
      g_autoptr(GDateTime) date = NULL;

      seconds = g_ascii_strtod (value, &end);
      if (end != value && isfinite (seconds) && seconds >= 0)
        return seconds;

      if ((date = soup_date_time_new_from_http_string (value)) != NULL)
        {
          g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

          return MAX (0, g_date_time_difference (date, now) / (double) G_USEC_PER_SEC);
        }
    }

  return -1;
}

static double
backoff_delay (guint retries_done)
{
  double delay = MIN (INITIAL_RETRY_DELAY * pow (2, MIN (retries_done, 30)), MAX_RETRY_DELAY);

  return delay * (1.0 - 0.25 * g_random_double ());
}

static gboolean
status_is_retryable (guint status)
{
  return status == 408 || status == 409 || status == 429 || status >= 500;
}

static void
finish_success (GTask *task)
{
  SendState *state = g_task_get_task_data (task);

  state->completed = TRUE;
  end_attempt (state);
  _fj_message_set_phase (state->message, FJ_MESSAGE_PHASE_DONE);
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static void
finish_error (GTask  *task,
              GError *error)
{
  SendState *state = g_task_get_task_data (task);

  /* Ended while waiting for the rate limiter: nothing was sent. */
  if (_fj_message_get_phase (state->message) == FJ_MESSAGE_PHASE_RATE_LIMIT)
    _fj_message_drop_unsent_attempt (state->message);
  end_attempt (state);
  _fj_message_set_phase (state->message, FJ_MESSAGE_PHASE_DONE);
  g_task_return_error (task, error);
  g_object_unref (task);
}

static gboolean
retry_timer_cb (gpointer user_data)
{
  GTask *task = user_data;
  SendState *state = g_task_get_task_data (task);

  retry_wait_clear (&state->retry);
  start_attempt (task);

  return G_SOURCE_REMOVE;
}

static gboolean
retry_cancelled_cb (GCancellable *cancellable,
                    gpointer      user_data)
{
  GTask *task = user_data;
  SendState *state = g_task_get_task_data (task);

  retry_wait_clear (&state->retry);
  finish_error (task, g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                   "cancelled while waiting to retry"));

  return G_SOURCE_REMOVE;
}

/* Decides between a retry and the end, for a failure that happened before
 * any byte of the reply body.  @should_retry is the server's
 * x-should-retry (-1 when absent). */
static void
fail_or_retry (GTask   *task,
               GError  *error,
               int      should_retry,
               gboolean retryable)
{
  SendState *state = g_task_get_task_data (task);
  double hint = retry_after_hint (state->soup_msg);
  gint64 deadline = _fj_message_get_deadline (state->message);
  double remaining = -1;
  double delay;

  if (should_retry >= 0)
    retryable = should_retry;

  /* One 429 pauses every new request of the client, not just this one. */
  if (state->status == 429)
    _fj_rate_limiter_pause (state->client->limiter,
                            hint >= 0 ? hint : backoff_delay (state->attempt - 1),
                            "HTTP 429 rate_limit_error");

  if (!retryable || state->attempt > state->client->max_retries)
    {
      if (state->attempt > 1)
        g_prefix_error (&error, "after %u attempts: ", state->attempt);
      finish_error (task, error);
      return;
    }

  if (deadline > 0)
    remaining = (deadline - g_get_monotonic_time ()) / (double) G_USEC_PER_SEC;

  if (hint >= 0)
    {
      delay = hint;
      if (remaining >= 0 && delay > remaining)
        {
          GError *limited = g_error_new (FJ_ERROR,
                                         error->domain == FJ_ERROR &&
                                         error->code == FJ_ERROR_OVERLOADED ?
                                           FJ_ERROR_OVERLOADED : FJ_ERROR_RATE_LIMITED,
                                         "%s; the server asked to wait %.1f s but only %.1f s remain",
                                         error->message, delay, MAX (remaining, 0));
          g_error_free (error);
          finish_error (task, limited);
          return;
        }
    }
  else
    {
      delay = backoff_delay (state->attempt - 1);
      if (remaining >= 0 && delay > remaining)
        {
          g_prefix_error (&error, "no time left to retry: ");
          finish_error (task, error);
          return;
        }
    }

  g_debug ("%s: attempt %u failed (%s); retrying in %.3f s",
           state->url, state->attempt, error->message, delay);

  _fj_message_emit_retrying (state->message, state->attempt + 1, delay, error);
  g_error_free (error);

  end_attempt (state);
  _fj_message_set_phase (state->message, FJ_MESSAGE_PHASE_RETRY_SLEEP);

  retry_wait_start (&state->retry, task, state->context, delay,
                    retry_timer_cb, retry_cancelled_cb);
}

/* Turns a transport failure into the error the caller sees. */
static GError *
transport_error (SendState *state,
                 GError    *error,
                 GTask     *task)
{
  GCancellable *outer = g_task_get_cancellable (task);
  GError *out;

  if (g_cancellable_is_cancelled (outer))
    out = g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled");
  else if (state->idle_fired)
    out = g_error_new (FJ_ERROR, FJ_ERROR_TIMED_OUT,
                       "nothing received for %g s while %s (idle timeout)",
                       state->client->idle_timeout,
                       _fj_message_phase_describe (_fj_message_get_phase (state->message)));
  else if (error->domain == G_TLS_ERROR)
    out = g_error_new (FJ_ERROR, FJ_ERROR_TLS, "TLS error talking to %s: %s",
                       state->client->base_url, error->message);
  else if (state->body_bytes > 0)
    out = g_error_new (FJ_ERROR, FJ_ERROR_CONNECTION,
                       "connection dropped after %" G_GUINT64_FORMAT " bytes of the reply: %s",
                       state->body_bytes, error->message);
  else
    out = g_error_new (FJ_ERROR, FJ_ERROR_CONNECTION, "cannot reach %s: %s",
                       state->client->base_url, error->message);

  return out;
}

static GError *http_error (FjClient   *client,
                           guint       status,
                           const char *request_id,
                           const char *data,
                           gsize       length);

static GError *
api_error (SendState  *state,
           const char *data,
           gsize       length)
{
  return http_error (state->client, state->status, fj_message_get_request_id (state->message),
                     data, length);
}

/* The GError for a non-2xx reply of @status with body @data. */
static GError *
http_error (FjClient   *client,
            guint       status,
            const char *request_id,
            const char *data,
            gsize       length)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  const char *type = NULL;
  const char *text = NULL;
  g_autofree char *excerpt = NULL;
  JsonNode *root;

  if (client->provider == FJ_PROVIDER_OPENAI)
    return _fj_openai_api_error (status, data, length, request_id);

  if (length > 0 && _fj_json_check_depth (data, length, FJ_JSON_MAX_DEPTH) &&
      _fj_json_check_for_parser (data, length, NULL) &&
      json_parser_load_from_data (parser, data, length, NULL) &&
      (root = json_parser_get_root (parser)) != NULL &&
      JSON_NODE_HOLDS_OBJECT (root))
    {
      JsonObject *object = json_node_get_object (root);
      JsonNode *err_node = json_object_get_member (object, "error");
      JsonObject *err = err_node && JSON_NODE_HOLDS_OBJECT (err_node) ?
                        json_node_get_object (err_node) : NULL;

      if (err != NULL)
        {
          type = json_object_get_string_member_with_default (err, "type", NULL);
          text = json_object_get_string_member_with_default (err, "message", NULL);
        }
      if (request_id == NULL)
        request_id = json_object_get_string_member_with_default (object, "request_id", NULL);
    }

  if (type == NULL && length > 0)
    {
      /* Not the API's JSON (a proxy's page, a 413 from a CDN): show the
       * start of it, made valid UTF-8. */
      excerpt = g_utf8_make_valid (data, MIN (length, 200));
      g_strstrip (excerpt);
    }

  return g_error_new (FJ_ERROR, _fj_error_code_for_api_error (type, status),
                      "HTTP %u %s%s%s%s%s%s",
                      status,
                      type ? type : soup_status_get_phrase (status),
                      text || excerpt ? ": " : "",
                      text ? text : (excerpt ? excerpt : ""),
                      request_id ? " (request " : "",
                      request_id ? request_id : "",
                      request_id ? ")" : "");
}

/* "64 MiB", "16 KiB" or "1000-byte", before "limit". */
static char *
describe_size (guint64 size)
{
  if (size >= 1024 * 1024 && size % (1024 * 1024) == 0)
    return g_strdup_printf ("%" G_GUINT64_FORMAT " MiB", size / (1024 * 1024));
  if (size >= 1024 && size % 1024 == 0)
    return g_strdup_printf ("%" G_GUINT64_FORMAT " KiB", size / 1024);
  return g_strdup_printf ("%" G_GUINT64_FORMAT "-byte", size);
}

static GError *
reply_too_large_error (SendState *state)
{
  g_autofree char *limit = describe_size (state->max_reply_size);

  return g_error_new (FJ_ERROR, FJ_ERROR_PROTOCOL,
                      "reply larger than the %s limit (max-reply-size)", limit);
}

static gboolean
sse_event_cb (const char  *event,
              const char  *data,
              gsize        data_len,
              gpointer     user_data,
              GError     **error)
{
  SendState *state = user_data;

  /* OpenAI streams name no events: each data payload is a chunk. */
  if (state->openai != NULL)
    return _fj_openai_stream_feed (state->openai, data, data_len, error);

  return _fj_message_handle_event (state->message, event, data, data_len, error);
}

static void
reply_complete (GTask *task)
{
  SendState *state = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (state->status < 200 || state->status >= 300)
    {
      int should_retry = -1;
      const char *header_value = header (state->soup_msg, "x-should-retry");
      GError *err = api_error (state, (const char *) state->reply->data, state->reply->len);

      if (header_value != NULL)
        should_retry = g_ascii_strcasecmp (header_value, "true") == 0;

      fail_or_retry (task, err, should_retry, status_is_retryable (state->status));
      return;
    }

  if (state->streaming)
    {
      if (!_fj_sse_parser_finish (state->parser, &error) ||
          !_fj_message_end_stream (state->message, &error))
        {
          finish_error (task, g_steal_pointer (&error));
          return;
        }
    }
  else if (state->client->provider == FJ_PROVIDER_OPENAI ?
           !_fj_openai_load_reply (state->message, (const char *) state->reply->data,
                                   state->reply->len, &error) :
           !_fj_message_load_reply (state->message,
                                    (const char *) state->reply->data,
                                    state->reply->len, &error))
    {
      finish_error (task, g_steal_pointer (&error));
      return;
    }

  finish_success (task);
}

/* Takes the outcome of one read of the body: @n bytes, 0 at its end, or
 * -1 with @error. Returns TRUE when the body should be read on, FALSE
 * when the attempt is over (finished, failed or retrying). */
static gboolean
take_read (GTask  *task,
           gssize  n,
           GError *error)
{
  SendState *state = g_task_get_task_data (task);
  g_autoptr(GError) parse_error = NULL;

  if (n < 0)
    {
      GError *err = transport_error (state, error, task);
      gboolean ok_status = state->status >= 200 && state->status < 300;

      /* Only a failure before any body byte may be retried. */
      if (state->body_bytes == 0 && !g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
          !g_error_matches (err, FJ_ERROR, FJ_ERROR_TLS))
        fail_or_retry (task, err, -1, TRUE);
      else if (!ok_status && !g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          /* The error reply itself broke off: report what the status says. */
          g_error_free (err);
          reply_complete (task);
        }
      else
        finish_error (task, err);
      return FALSE;
    }

  if (n == 0)
    {
      reply_complete (task);
      return FALSE;
    }

  touch_idle (state);

  if (state->status >= 200 && state->status < 300 && state->streaming)
    {
      guint64 room = state->max_reply_size - state->body_bytes;
      gboolean over = (guint64) n > room;

      state->body_bytes += n;

      /* What fits is parsed, so that the text before the limit is kept. */
      if (!_fj_sse_parser_feed (state->parser, state->buffer,
                                (gsize) (over ? room : (guint64) n), &parse_error))
        {
          finish_error (task, g_steal_pointer (&parse_error));
          return FALSE;
        }
      /* Streams start with a small buffer (most reads are one event),
       * and get a larger one when a read fills it. */
      if ((gsize) n == state->buffer_size && state->buffer_size < READ_BUFFER_SIZE)
        {
          g_clear_pointer (&state->buffer, g_free);
          state->buffer_size = MIN (state->buffer_size * 2, READ_BUFFER_SIZE);
        }
      if (over)
        {
          finish_error (task, reply_too_large_error (state));
          return FALSE;
        }
    }
  else
    {
      gboolean ok_status = state->status >= 200 && state->status < 300;
      guint64 cap = ok_status ? state->max_reply_size : MAX_ERROR_BODY_SIZE;

      state->body_bytes += n;

      /* read_next() read the bytes in place, past the end. */
      if (state->reply->len + (guint64) n > cap)
        {
          if (ok_status)
            {
              finish_error (task, reply_too_large_error (state));
              return FALSE;
            }
          /* An error body is only read for its message: enough. */
          reply_complete (task);
          return FALSE;
        }
      g_byte_array_set_size (state->reply, state->reply->len + n);
    }

  return TRUE;
}

static void
read_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  GTask *task = user_data;
  g_autoptr(GError) error = NULL;
  gssize n;

  n = g_input_stream_read_finish (G_INPUT_STREAM (object), result, &error);
  if (take_read (task, n, error))
    read_next (task);
}

/* Where the next read of the body goes, and how much it may take. */
static guint8 *
read_buffer (SendState *state,
             gsize     *size)
{
  if (state->reply != NULL)
    {
      /* Straight into the reply's spare room: most bodies fit the first
       * read, and nothing is copied. */
      guint len = state->reply->len;

      /* A body of announced length gets room for itself and the end of
       * the stream, and no more (unless it was decoded into more). */
      if (state->reply_length >= len)
        *size = (gsize) MIN ((guint64) state->reply_length - len + 1, READ_BUFFER_SIZE);
      else
        *size = CLAMP (len, FIRST_READ_SIZE, READ_BUFFER_SIZE);
      g_byte_array_set_size (state->reply, len + *size);
      g_byte_array_set_size (state->reply, len);
      return state->reply->data + len;
    }

  if (state->buffer_size == 0)
    state->buffer_size = FIRST_STREAM_READ_SIZE;
  if (state->buffer == NULL)
    state->buffer = g_malloc (state->buffer_size);
  *size = state->buffer_size;
  return state->buffer;
}

static gboolean
readable_cb (GObject  *stream,
             gpointer  user_data)
{
  GTask *task = user_data;
  SendState *state = g_task_get_task_data (task);

  g_clear_pointer (&state->read_source, g_source_unref);
  read_next (task);

  return G_SOURCE_REMOVE;
}

/* Reads on.  A pollable body (libsoup's over HTTP/1) is read at once, for
 * as long as bytes are there: g_input_stream_read_async() would hand back
 * even a body that already arrived on a later main-loop iteration, and in
 * a fan-out every such iteration waits behind every other reply that came
 * in meanwhile.  When nothing is there yet, it waits for the stream to be
 * readable (or the attempt cancelled). */
static void
read_next (GTask *task)
{
  SendState *state = g_task_get_task_data (task);
  GPollableInputStream *pollable;
  guint8 *buffer;
  gsize size;

  if (!G_IS_POLLABLE_INPUT_STREAM (state->stream) ||
      !g_pollable_input_stream_can_poll (G_POLLABLE_INPUT_STREAM (state->stream)))
    {
      buffer = read_buffer (state, &size);
      g_input_stream_read_async (state->stream, buffer, size,
                                 G_PRIORITY_DEFAULT, state->attempt_cancellable,
                                 read_cb, task);
      return;
    }

  pollable = G_POLLABLE_INPUT_STREAM (state->stream);

  /* A few reads in a row at most, so that a fast stream does not hold the
   * main loop. */
  for (guint i = 0; i < MAX_READS_IN_A_ROW; i++)
    {
      g_autoptr(GError) error = NULL;
      gssize n;

      buffer = read_buffer (state, &size);
      n = g_pollable_input_stream_read_nonblocking (pollable, buffer, size,
                                                    state->attempt_cancellable, &error);
      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        break;
      if (!take_read (task, n, error))
        return;
    }

  g_assert (state->read_source == NULL);
  state->read_source = g_pollable_input_stream_create_source (pollable, state->attempt_cancellable);
  g_source_set_callback (state->read_source, G_SOURCE_FUNC (readable_cb), task, NULL);
  g_source_set_static_name (state->read_source, "[forkjoin] reply body");
  g_source_attach (state->read_source, state->context);
}

static void
send_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  GTask *task = user_data;
  SendState *state = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  const char *content_type;

  state->stream = soup_session_send_finish (SOUP_SESSION (object), result, &error);

  if (state->stream == NULL)
    {
      GError *err = transport_error (state, error, task);

      if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
          g_error_matches (err, FJ_ERROR, FJ_ERROR_TLS))
        finish_error (task, err);
      else
        fail_or_retry (task, err, -1, TRUE);
      return;
    }

  touch_idle (state);
  state->status = soup_message_get_status (state->soup_msg);
  _fj_rate_limiter_observe (state->client->limiter,
                            soup_message_get_response_headers (state->soup_msg));
  _fj_message_set_status_code (state->message, state->status);
  _fj_message_set_request_id (state->message,
                              header (state->soup_msg, "request-id") ?:
                              (state->client->provider == FJ_PROVIDER_OPENAI ?
                                 header (state->soup_msg, "x-request-id") : NULL));

  content_type = soup_message_headers_get_content_type (soup_message_get_response_headers (state->soup_msg), NULL);
  state->streaming = state->status >= 200 && state->status < 300 &&
                     g_strcmp0 (content_type, "text/event-stream") == 0;

  if (state->status >= 200 && state->status < 300 &&
      fj_message_get_stream (state->message) && !state->streaming)
    g_debug ("%s: asked for a stream, got %s; reading it as JSON",
             state->url, content_type ? content_type : "no content type");

  g_debug ("%s: HTTP %u (request %s)", state->url, state->status,
           fj_message_get_request_id (state->message) ?: "-");

  /* A body announced larger than the limit is refused unread. */
  if (state->status >= 200 && state->status < 300)
    {
      SoupMessageHeaders *response_headers = soup_message_get_response_headers (state->soup_msg);

      if (soup_message_headers_get_encoding (response_headers) == SOUP_ENCODING_CONTENT_LENGTH &&
          (guint64) soup_message_headers_get_content_length (response_headers) > state->max_reply_size)
        {
          finish_error (task, reply_too_large_error (state));
          return;
        }
    }

  if (state->streaming)
    {
      state->parser = _fj_sse_parser_new (sse_event_cb, state);
      _fj_sse_parser_set_max_line (state->parser,
                                   (gsize) MIN (state->max_line_length, (guint64) G_MAXSIZE));
      _fj_sse_parser_set_limit_name (state->parser, "max-line-length");
      if (state->client->provider == FJ_PROVIDER_OPENAI)
        state->openai = _fj_openai_stream_new (state->message);
    }
  else
    {
      SoupMessageHeaders *response_headers = soup_message_get_response_headers (state->soup_msg);

      state->reply_length = -1;
      if (soup_message_headers_get_encoding (response_headers) == SOUP_ENCODING_CONTENT_LENGTH)
        state->reply_length = soup_message_headers_get_content_length (response_headers);
      state->reply = g_byte_array_new ();
    }

  _fj_message_set_phase (state->message, FJ_MESSAGE_PHASE_STREAMING);
  read_next (task);
}

static void send_now (GTask *task);

static void
entered_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  GTask *task = user_data;
  SendState *state = g_task_get_task_data (task);
  GError *error = NULL;

  if (!_fj_rate_limiter_enter_finish (state->client->limiter, result, &state->ticket, &error))
    {
      finish_error (task, error);
      return;
    }

  state->has_ticket = TRUE;
  send_now (task);
}

/* Every attempt first passes the client's rate limiter (buckets, shared
 * pause, width), then is sent. */
static void
start_attempt (GTask *task)
{
  SendState *state = g_task_get_task_data (task);

  state->attempt++;
  state->status = 0;
  state->idle_fired = FALSE;
  state->body_bytes = 0;
  state->max_reply_size = state->client->max_reply_size > 0 ?
                          state->client->max_reply_size : G_MAXUINT64;
  state->max_line_length = state->client->max_line_length > 0 ?
                           state->client->max_line_length : G_MAXUINT64;
  state->streaming = FALSE;
  _fj_message_begin_attempt (state->message, state->attempt);
  _fj_message_set_phase (state->message, FJ_MESSAGE_PHASE_RATE_LIMIT);

  /* Most requests pass at once: no need for a round through the queue. */
  if (_fj_rate_limiter_try_enter (state->client->limiter,
                                  state->input_estimate, state->output_reserve,
                                  &state->ticket))
    {
      state->has_ticket = TRUE;
      send_now (task);
      return;
    }

  _fj_rate_limiter_enter_async (state->client->limiter,
                                state->input_estimate, state->output_reserve,
                                g_task_get_cancellable (task), entered_cb, task);
}

/* The JSON body, in a stream that libsoup writes right after the headers
 * (fj-body-stream.c says why). */
static void
set_request_body (SoupMessage *msg,
                  GBytes      *body)
{
  g_autoptr(GInputStream) stream = _fj_body_stream_new (body);

  soup_message_set_request_body (msg, "application/json", stream, (gssize) g_bytes_get_size (body));
}

static void
send_now (GTask *task)
{
  SendState *state = g_task_get_task_data (task);
  FjClient *self = state->client;
  GCancellable *outer = g_task_get_cancellable (task);
  SoupMessageHeaders *headers;

  if (g_cancellable_is_cancelled (outer))
    {
      finish_error (task, g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled"));
      return;
    }

  state->soup_msg = soup_message_new (SOUP_METHOD_POST, state->url);
  if (state->soup_msg == NULL)
    {
      finish_error (task, g_error_new (FJ_ERROR, FJ_ERROR_INVALID_REQUEST,
                                       "invalid base URL “%s”", self->base_url));
      return;
    }

  soup_message_add_flags (state->soup_msg, SOUP_MESSAGE_IDEMPOTENT);
  headers = soup_message_get_request_headers (state->soup_msg);
  if (self->provider == FJ_PROVIDER_OPENAI)
    {
      /* One bearer credential, the key first; none for a local server. */
      const char *secret = self->api_key ? self->api_key : self->auth_token;

      if (secret != NULL)
        {
          g_autofree char *bearer = g_strconcat ("Bearer ", secret, NULL);

          soup_message_headers_replace (headers, "Authorization", bearer);
          memset (bearer, 0, strlen (bearer));
        }
    }
  else
    {
      if (self->api_key != NULL)
        soup_message_headers_replace (headers, "x-api-key", self->api_key);
      if (self->auth_token != NULL)
        {
          g_autofree char *bearer = g_strconcat ("Bearer ", self->auth_token, NULL);

          soup_message_headers_replace (headers, "Authorization", bearer);
          memset (bearer, 0, strlen (bearer));
        }
      soup_message_headers_replace (headers, "anthropic-version", self->api_version);
    }
  soup_message_headers_replace (headers, "Accept",
                                fj_message_get_stream (state->message) ?
                                  "text/event-stream" : "application/json");
  set_request_body (state->soup_msg, state->body);

  state->attempt_cancellable = g_cancellable_new ();
  if (outer != NULL)
    {
      /* Chain the caller's cancellable to this attempt's, which the idle
       * timer can also cancel. */
      state->cancel_handler =
        g_cancellable_connect (outer, G_CALLBACK (cancel_attempt_cb),
                               g_object_ref (state->attempt_cancellable), g_object_unref);
    }

  state->slot = acquire_slot (self, state->pool);
  _fj_message_set_phase (state->message, FJ_MESSAGE_PHASE_WAITING);
  touch_idle (state);

  g_debug ("POST %s (attempt %u)", state->url, state->attempt);

  soup_session_send_async (state->slot->session, state->soup_msg, G_PRIORITY_DEFAULT,
                           state->attempt_cancellable, send_cb, task);
}

/**
 * fj_client_send_async:
 * @self: a #FjClient
 * @message: the #FjMessage to send
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called when the reply is
 *   complete or the request failed
 * @user_data: data for @callback
 *
 * Sends @message to `{base-url}/v1/messages` (or, for an OpenAI-compatible
 * server, `{base-url}/chat/completions`) and reads the reply into it,
 * retrying as the client's rules allow. When the message asks for a stream,
 * [signal@Message::text-delta] is emitted as each text delta arrives.
 *
 * Cancelling @cancellable aborts the request at once, closing its
 * connection.
 *
 * When the operation is finished, @callback will be called on the
 * thread-default main context of the caller. You should then call
 * [method@Client.send_finish].
 *
 * Since: 1.0
 */
void
fj_client_send_async (FjClient            *self,
                      FjMessage           *message,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonGenerator) generator = NULL;
  g_autoptr(GError) error = NULL;
  SendState *state;
  char *json;
  gsize length;

  g_return_if_fail (FJ_IS_CLIENT (self));
  g_return_if_fail (FJ_IS_MESSAGE (message));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, fj_client_send_async);

  if (!fj_client_check_base_url (self, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* An OpenAI-compatible server may need no key (a local one). */
  if (self->provider != FJ_PROVIDER_OPENAI && !fj_client_get_has_credentials (self))
    {
      g_task_return_new_error (task, FJ_ERROR, FJ_ERROR_AUTHENTICATION,
                               "no credentials for %s: set ANTHROPIC_API_KEY or "
                               "ANTHROPIC_AUTH_TOKEN, or the client's api-key",
                               self->base_url);
      return;
    }

  state = g_new0 (SendState, 1);
  state->client = g_object_ref (self);
  state->message = g_object_ref (message);
  state->context = g_main_context_ref_thread_default ();
  state->pool = get_pool (self, state->context);
  state->url = g_strconcat (self->base_url,
                            self->provider == FJ_PROVIDER_OPENAI ? "/chat/completions" : "/v1/messages",
                            NULL);
  state->outer = cancellable ? g_object_ref (cancellable) : NULL;
  g_task_set_task_data (task, state, send_state_free);

  if (self->provider == FJ_PROVIDER_OPENAI)
    root = _fj_openai_build_request (fj_message_get_params (message));
  else
    {
      root = json_node_new (JSON_NODE_OBJECT);
      json_node_set_object (root, fj_message_get_params (message));
    }
  generator = json_generator_new ();
  json_generator_set_root (generator, root);
  json = json_generator_to_data (generator, &length);
  state->body = g_bytes_new_take (json, length);

  /* DESIGN.md's estimates: input = body bytes / 4, output = max_tokens. */
  state->input_estimate = length / 4;
  state->output_reserve = json_object_get_int_member_with_default (fj_message_get_params (message),
                                                                   "max_tokens", 0);

  /* The task keeps itself alive until it is returned. */
  start_attempt (g_steal_pointer (&task));
}

/**
 * fj_client_send_finish:
 * @self: a #FjClient
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Client.send_async]. On success the reply is in the
 * message. On failure @error holds an %FJ_ERROR code (or
 * %G_IO_ERROR_CANCELLED) whose message carries the HTTP status, the
 * server's error type and message, and the request id; the message keeps
 * any text that had arrived.
 *
 * Returns: %TRUE if the reply is complete
 *
 * Since: 1.0
 */
gboolean
fj_client_send_finish (FjClient      *self,
                       GAsyncResult  *result,
                       GError       **error)
{
  g_return_val_if_fail (FJ_IS_CLIENT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * fj_client_send:
 * @self: a #FjClient
 * @message: the #FjMessage to send
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends @message and waits for the reply, running a main context of its
 * own meanwhile, so it can be called from any thread. Signals of @message
 * are emitted on the calling thread.
 *
 * See [method@Client.send_async].
 *
 * Returns: %TRUE if the reply is complete
 *
 * Since: 1.0
 */
gboolean
fj_client_send (FjClient      *self,
                FjMessage     *message,
                GCancellable  *cancellable,
                GError       **error)
{
  FjSyncCall call;
  gboolean ret;

  g_return_val_if_fail (FJ_IS_CLIENT (self), FALSE);
  g_return_val_if_fail (FJ_IS_MESSAGE (message), FALSE);
  g_return_val_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable), FALSE);

  _fj_sync_call_begin (&call);
  _fj_sync_call_add_client (&call, self);
  fj_client_send_async (self, message, cancellable, _fj_sync_call_done, &call);
  ret = fj_client_send_finish (self, _fj_sync_call_wait (&call), error);
  _fj_sync_call_end (&call);

  return ret;
}

/* ---------------------------------------------------------------------- */
/* Generic calls (the Message Batches endpoints)                          */
/* ---------------------------------------------------------------------- */

typedef struct
{
  FjClient     *client;
  GMainContext *context;
  SessionPool  *pool;
  SessionSlot  *slot;
  char         *method;
  char         *url;
  GBytes       *body;
  SoupMessage  *soup_msg;
  RetryWait     retry;
  guint         attempt;
} CallState;

static void call_attempt (GTask *task);

static void
call_end_attempt (CallState *state)
{
  if (state->slot != NULL)
    {
      release_slot (state->slot);
      state->slot = NULL;
    }
  g_clear_object (&state->soup_msg);
}

static void
call_state_free (gpointer data)
{
  CallState *state = data;

  call_end_attempt (state);
  retry_wait_clear (&state->retry);
  g_clear_pointer (&state->body, g_bytes_unref);
  g_free (state->method);
  g_free (state->url);
  g_clear_pointer (&state->context, g_main_context_unref);
  g_clear_object (&state->client);
  g_free (state);
}

static gboolean
call_retry_timer_cb (gpointer user_data)
{
  GTask *task = user_data;
  CallState *state = g_task_get_task_data (task);

  retry_wait_clear (&state->retry);
  call_attempt (task);

  return G_SOURCE_REMOVE;
}

static gboolean
call_retry_cancelled_cb (GCancellable *cancellable,
                         gpointer      user_data)
{
  GTask *task = user_data;
  CallState *state = g_task_get_task_data (task);

  retry_wait_clear (&state->retry);
  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled while waiting to retry");
  g_object_unref (task);

  return G_SOURCE_REMOVE;
}

/* Takes @error; retries when @retryable (or the server says so) and
 * attempts are left, else fails the task. */
static void
call_fail_or_retry (GTask    *task,
                    GError   *error,
                    gboolean  retryable)
{
  CallState *state = g_task_get_task_data (task);
  double hint = retry_after_hint (state->soup_msg);
  const char *should = state->soup_msg ? header (state->soup_msg, "x-should-retry") : NULL;
  guint status = state->soup_msg ? soup_message_get_status (state->soup_msg) : 0;
  double delay;

  if (g_strcmp0 (should, "true") == 0)
    retryable = TRUE;
  else if (g_strcmp0 (should, "false") == 0)
    retryable = FALSE;

  if (status == 429)
    _fj_rate_limiter_pause (state->client->limiter,
                            hint >= 0 ? hint : backoff_delay (state->attempt - 1),
                            "HTTP 429 rate_limit_error");

  call_end_attempt (state);

  if (!retryable || state->attempt > state->client->max_retries)
    {
      if (state->attempt > 1)
        g_prefix_error (&error, "after %u attempts: ", state->attempt);
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  delay = hint >= 0 ? hint : backoff_delay (state->attempt - 1);
  g_debug ("%s %s: attempt %u failed (%s); retrying in %.3f s",
           state->method, state->url, state->attempt, error->message, delay);
  g_error_free (error);

  retry_wait_start (&state->retry, task, state->context, delay,
                    call_retry_timer_cb, call_retry_cancelled_cb);
}

static void
call_read_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  GTask *task = user_data;
  CallState *state = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  guint status;

  bytes = soup_session_send_and_read_finish (SOUP_SESSION (object), result, &error);
  if (bytes == NULL)
    {
      if (g_cancellable_is_cancelled (g_task_get_cancellable (task)))
        {
          call_end_attempt (state);
          g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled");
          g_object_unref (task);
        }
      else if (error->domain == G_TLS_ERROR)
        {
          call_end_attempt (state);
          g_task_return_new_error (task, FJ_ERROR, FJ_ERROR_TLS, "TLS error talking to %s: %s",
                                   state->client->base_url, error->message);
          g_object_unref (task);
        }
      else
        call_fail_or_retry (task,
                            g_error_new (FJ_ERROR, FJ_ERROR_CONNECTION, "cannot reach %s: %s",
                                         state->client->base_url, error->message),
                            TRUE);
      return;
    }

  status = soup_message_get_status (state->soup_msg);
  _fj_rate_limiter_observe (state->client->limiter,
                            soup_message_get_response_headers (state->soup_msg));
  g_debug ("%s %s: HTTP %u", state->method, state->url, status);

  if (status >= 200 && status < 300)
    {
      call_end_attempt (state);
      g_task_return_pointer (task, g_steal_pointer (&bytes), (GDestroyNotify) g_bytes_unref);
      g_object_unref (task);
      return;
    }

  call_fail_or_retry (task,
                      http_error (state->client, status, header (state->soup_msg, "request-id"),
                                  g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes)),
                      status_is_retryable (status));
}

static void
call_attempt (GTask *task)
{
  CallState *state = g_task_get_task_data (task);
  FjClient *self = state->client;
  SoupMessageHeaders *headers;

  state->attempt++;

  if (g_cancellable_is_cancelled (g_task_get_cancellable (task)))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled");
      g_object_unref (task);
      return;
    }

  state->soup_msg = soup_message_new (state->method, state->url);
  if (state->soup_msg == NULL)
    {
      g_task_return_new_error (task, FJ_ERROR, FJ_ERROR_INVALID_REQUEST,
                               "invalid URL “%s”", state->url);
      g_object_unref (task);
      return;
    }

  headers = soup_message_get_request_headers (state->soup_msg);
  if (self->api_key != NULL)
    soup_message_headers_replace (headers, "x-api-key", self->api_key);
  if (self->auth_token != NULL)
    {
      g_autofree char *bearer = g_strconcat ("Bearer ", self->auth_token, NULL);

      soup_message_headers_replace (headers, "Authorization", bearer);
      memset (bearer, 0, strlen (bearer));
    }
  soup_message_headers_replace (headers, "anthropic-version", self->api_version);
  soup_message_headers_replace (headers, "Accept", "application/json");
  if (state->body != NULL)
    set_request_body (state->soup_msg, state->body);

  state->slot = acquire_slot (self, state->pool);
  g_debug ("%s %s (attempt %u)", state->method, state->url, state->attempt);
  soup_session_send_and_read_async (state->slot->session, state->soup_msg, G_PRIORITY_DEFAULT,
                                    g_task_get_cancellable (task), call_read_cb, task);
}

/* See fj-client-private.h. */
void
_fj_client_call_async (FjClient            *self,
                       const char          *method,
                       const char          *path_or_url,
                       GBytes              *body,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  CallState *state;

  g_return_if_fail (FJ_IS_CLIENT (self));
  g_return_if_fail (method != NULL);
  g_return_if_fail (path_or_url != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, _fj_client_call_async);

  if (!fj_client_check_base_url (self, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (!fj_client_get_has_credentials (self))
    {
      g_task_return_new_error (task, FJ_ERROR, FJ_ERROR_AUTHENTICATION,
                               "no credentials for %s: set ANTHROPIC_API_KEY or "
                               "ANTHROPIC_AUTH_TOKEN, or the client's api-key",
                               self->base_url);
      return;
    }

  state = g_new0 (CallState, 1);
  state->client = g_object_ref (self);
  state->context = g_main_context_ref_thread_default ();
  state->pool = get_pool (self, state->context);
  state->method = g_strdup (method);
  if (g_str_has_prefix (path_or_url, "http://") || g_str_has_prefix (path_or_url, "https://"))
    state->url = g_strdup (path_or_url);
  else
    state->url = g_strconcat (self->base_url, path_or_url, NULL);
  state->body = body ? g_bytes_ref (body) : NULL;
  g_task_set_task_data (task, state, call_state_free);

  call_attempt (g_steal_pointer (&task));
}

/* See fj-client-private.h. */
GBytes *
_fj_client_call_finish (FjClient      *self,
                        GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (FJ_IS_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
