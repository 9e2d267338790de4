/* fj-client.h
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (FORKJOIN_INSIDE) && !defined (FORKJOIN_COMPILATION)
# error "Only <forkjoin.h> can be included directly."
#endif

#include <gio/gio.h>

#include "fj-message.h"
#include "fj-version-macros.h"

G_BEGIN_DECLS

/**
 * FJ_CLIENT_DEFAULT_BASE_URL:
 *
 * The base URL of the public Anthropic API, used when neither the
 * [property@Client:base-url] property nor `ANTHROPIC_BASE_URL` is set.
 *
 * Since: 1.0
 */
#define FJ_CLIENT_DEFAULT_BASE_URL "https://api.anthropic.com"

/**
 * FJ_CLIENT_DEFAULT_API_VERSION:
 *
 * The `anthropic-version` header sent by default.
 *
 * Since: 1.0
 */
#define FJ_CLIENT_DEFAULT_API_VERSION "2023-06-01"

/**
 * FjProvider:
 * @FJ_PROVIDER_ANTHROPIC: the Anthropic Messages API: `POST {base}/v1/messages`
 * @FJ_PROVIDER_OPENAI: an OpenAI-compatible Chat Completions server (Ollama,
 *   llama.cpp's server, vLLM, …): `POST {base}/chat/completions`, the base
 *   URL including `/v1`
 *
 * The protocol a [class@Client] speaks.
 *
 * Since: 1.0
 */
typedef enum
{
  FJ_PROVIDER_ANTHROPIC,
  FJ_PROVIDER_OPENAI,
} FjProvider;

#define FJ_TYPE_CLIENT (fj_client_get_type ())

FJ_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (FjClient, fj_client, FJ, CLIENT, GObject)

FJ_AVAILABLE_IN_ALL
FjClient     *fj_client_new                          (void) G_GNUC_WARN_UNUSED_RESULT;
FJ_AVAILABLE_IN_ALL
FjClient     *fj_client_new_for_base_url             (const char     *base_url) G_GNUC_WARN_UNUSED_RESULT;
FJ_AVAILABLE_IN_ALL
FjProvider    fj_client_get_provider                 (FjClient       *self);
FJ_AVAILABLE_IN_ALL
void          fj_client_set_provider                 (FjClient       *self,
                                                      FjProvider      provider);
FJ_AVAILABLE_IN_ALL
const char   *fj_client_get_base_url                 (FjClient       *self);
FJ_AVAILABLE_IN_ALL
void          fj_client_set_base_url                 (FjClient       *self,
                                                      const char     *base_url);
FJ_AVAILABLE_IN_ALL
void          fj_client_set_api_key                  (FjClient       *self,
                                                      const char     *api_key);
FJ_AVAILABLE_IN_ALL
void          fj_client_set_auth_token               (FjClient       *self,
                                                      const char     *auth_token);
FJ_AVAILABLE_IN_ALL
gboolean      fj_client_get_has_credentials          (FjClient       *self);
FJ_AVAILABLE_IN_ALL
const char   *fj_client_get_api_version              (FjClient       *self);
FJ_AVAILABLE_IN_ALL
void          fj_client_set_api_version              (FjClient       *self,
                                                      const char     *api_version);
FJ_AVAILABLE_IN_ALL
guint         fj_client_get_max_retries              (FjClient       *self);
FJ_AVAILABLE_IN_ALL
void          fj_client_set_max_retries              (FjClient       *self,
                                                      guint           max_retries);
FJ_AVAILABLE_IN_ALL
double        fj_client_get_idle_timeout             (FjClient       *self);
FJ_AVAILABLE_IN_ALL
void          fj_client_set_idle_timeout             (FjClient       *self,
                                                      double          seconds);
FJ_AVAILABLE_IN_ALL
guint         fj_client_get_connections_per_session  (FjClient       *self);
FJ_AVAILABLE_IN_ALL
void          fj_client_set_connections_per_session  (FjClient       *self,
                                                      guint           n_connections);
FJ_AVAILABLE_IN_ALL
guint64       fj_client_get_max_reply_size           (FjClient       *self);
FJ_AVAILABLE_IN_ALL
void          fj_client_set_max_reply_size           (FjClient       *self,
                                                      guint64         max_reply_size);
FJ_AVAILABLE_IN_ALL
guint64       fj_client_get_max_line_length          (FjClient       *self);
FJ_AVAILABLE_IN_ALL
void          fj_client_set_max_line_length          (FjClient       *self,
                                                      guint64         max_line_length);
FJ_AVAILABLE_IN_ALL
gboolean      fj_client_get_allow_insecure_http      (FjClient       *self);
FJ_AVAILABLE_IN_ALL
void          fj_client_set_allow_insecure_http      (FjClient       *self,
                                                      gboolean        allow_insecure_http);
FJ_AVAILABLE_IN_ALL
gboolean      fj_client_is_insecure                  (FjClient       *self);
FJ_AVAILABLE_IN_ALL
gboolean      fj_client_check_base_url               (FjClient       *self,
                                                      GError        **error);
FJ_AVAILABLE_IN_ALL
guint         fj_client_get_n_sessions               (FjClient       *self);
FJ_AVAILABLE_IN_ALL
GTlsDatabase *fj_client_get_tls_database             (FjClient       *self);
FJ_AVAILABLE_IN_ALL
void          fj_client_set_tls_database             (FjClient       *self,
                                                      GTlsDatabase   *database);
FJ_AVAILABLE_IN_ALL
guint         fj_client_get_requests_per_minute      (FjClient       *self);
FJ_AVAILABLE_IN_ALL
void          fj_client_set_requests_per_minute      (FjClient       *self,
                                                      guint           limit);
FJ_AVAILABLE_IN_ALL
guint         fj_client_get_input_tokens_per_minute  (FjClient       *self);
FJ_AVAILABLE_IN_ALL
void          fj_client_set_input_tokens_per_minute  (FjClient       *self,
                                                      guint           limit);
FJ_AVAILABLE_IN_ALL
guint         fj_client_get_output_tokens_per_minute (FjClient       *self);
FJ_AVAILABLE_IN_ALL
void          fj_client_set_output_tokens_per_minute (FjClient       *self,
                                                      guint           limit);
FJ_AVAILABLE_IN_ALL
gboolean      fj_client_get_shared_pause             (FjClient       *self);
FJ_AVAILABLE_IN_ALL
void          fj_client_set_shared_pause             (FjClient       *self,
                                                      gboolean        shared_pause);
FJ_AVAILABLE_IN_ALL
guint         fj_client_get_width                    (FjClient       *self);
FJ_AVAILABLE_IN_ALL
void          fj_client_send_async                   (FjClient       *self,
                                                      FjMessage      *message,
                                                      GCancellable   *cancellable,
                                                      GAsyncReadyCallback callback,
                                                      gpointer        user_data);
FJ_AVAILABLE_IN_ALL
gboolean      fj_client_send_finish                  (FjClient       *self,
                                                      GAsyncResult   *result,
                                                      GError        **error);
FJ_AVAILABLE_IN_ALL
gboolean      fj_client_send                         (FjClient       *self,
                                                      FjMessage      *message,
                                                      GCancellable   *cancellable,
                                                      GError        **error);

G_END_DECLS
