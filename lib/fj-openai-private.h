/* fj-openai-private.h
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

#include "fj-message.h"

G_BEGIN_DECLS

/* The OpenAI Chat Completions protocol (PROTOCOL.md section 8), translated
 * to and from the Anthropic Messages shapes that FjMessage keeps, so that
 * everything above FjClient works the same with either provider. */

/* A Chat Completions request body for the Anthropic-style @params
 * (model, max_tokens, system, messages with text, tool_use and tool_result
 * blocks, tools, temperature, top_p, stop_sequences, stream): the system
 * prompt as the first message, text-only content as a plain string,
 * tool_use blocks as tool_calls, tool_result blocks as "tool" messages.
 * A stream asks for usage through stream_options. */
JsonNode       *_fj_openai_build_request     (JsonObject      *params);

/* "end_turn" for "stop", "max_tokens" for "length", "tool_use" for
 * "tool_calls" (and for "stop" when @had_tool_calls), "refusal" for
 * "content_filter"; any other value is passed on. NULL for NULL. */
const char     *_fj_openai_map_finish_reason (const char      *finish_reason,
                                              gboolean         had_tool_calls);

/* Turns the data payloads of a streamed reply into the Anthropic stream
 * events, fed to the message as they are made. */
typedef struct _FjOpenaiStream FjOpenaiStream;

FjOpenaiStream *_fj_openai_stream_new        (FjMessage       *message);
void            _fj_openai_stream_free       (FjOpenaiStream  *self);
/* One SSE data payload: a chat.completion.chunk, or `[DONE]`, which ends
 * the reply (message_stop; anything after it is ignored). A chunk with an
 * `error` member fails with the error's message, as an Anthropic `error`
 * event would. */
gboolean        _fj_openai_stream_feed       (FjOpenaiStream  *self,
                                              const char      *data,
                                              gsize            length,
                                              GError         **error);
gboolean        _fj_openai_stream_get_done   (FjOpenaiStream  *self);

/* A non-streamed `chat.completion` body, loaded into @message as the
 * equivalent Anthropic Message. */
gboolean        _fj_openai_load_reply        (FjMessage       *message,
                                              const char      *data,
                                              gsize            length,
                                              GError         **error);

/* The error for an HTTP error reply with the body @data
 * (`{"error": {"message", "type", "code"}}`, type and code optional): the
 * FJ_ERROR code comes from @status alone (OpenAI-style servers use their
 * own type names), 503 and 529 being FJ_ERROR_OVERLOADED. */
GError         *_fj_openai_api_error         (guint            status,
                                              const char      *data,
                                              gsize            length,
                                              const char      *request_id);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FjOpenaiStream, _fj_openai_stream_free)

G_END_DECLS
