/* fj-spec.h
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

#include "fj-agent-runner.h"
#include "fj-client.h"
#include "fj-fork-join-task.h"
#include "fj-plugin-registry.h"
#include "fj-version-macros.h"

G_BEGIN_DECLS

#define FJ_TYPE_SPEC (fj_spec_get_type ())

FJ_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (FjSpec, fj_spec, FJ, SPEC, GObject)

FJ_AVAILABLE_IN_ALL
FjSpec           *fj_spec_new                  (FjPluginRegistry  *registry) G_GNUC_WARN_UNUSED_RESULT;
FJ_AVAILABLE_IN_ALL
gboolean          fj_spec_load_from_file       (FjSpec            *self,
                                                const char        *path,
                                                GError           **error);
FJ_AVAILABLE_IN_ALL
gboolean          fj_spec_load_from_data       (FjSpec            *self,
                                                const char        *data,
                                                gssize             length,
                                                const char        *filename,
                                                GError           **error);
FJ_AVAILABLE_IN_ALL
FjPluginRegistry *fj_spec_get_registry         (FjSpec            *self);
FJ_AVAILABLE_IN_ALL
const char       *fj_spec_get_path             (FjSpec            *self);
FJ_AVAILABLE_IN_ALL
const char       *fj_spec_get_sha256           (FjSpec            *self);
FJ_AVAILABLE_IN_ALL
const char       *fj_spec_get_input            (FjSpec            *self);
FJ_AVAILABLE_IN_ALL
const char       *fj_spec_get_description      (FjSpec            *self);
FJ_AVAILABLE_IN_ALL
GListModel       *fj_spec_get_agents           (FjSpec            *self);
FJ_AVAILABLE_IN_ALL
double            fj_spec_get_default_timeout  (FjSpec            *self);
FJ_AVAILABLE_IN_ALL
void              fj_spec_set_default_timeout  (FjSpec            *self,
                                                double             seconds);
FJ_AVAILABLE_IN_ALL
guint             fj_spec_get_min_successes    (FjSpec            *self);
FJ_AVAILABLE_IN_ALL
guint             fj_spec_get_max_concurrent   (FjSpec            *self);
FJ_AVAILABLE_IN_ALL
double            fj_spec_get_deadline         (FjSpec            *self);
FJ_AVAILABLE_IN_ALL
double            fj_spec_get_agent_timeout    (FjSpec            *self);
FJ_AVAILABLE_IN_ALL
FjRunMode         fj_spec_get_mode             (FjSpec            *self);
FJ_AVAILABLE_IN_ALL
gboolean          fj_spec_set_mode             (FjSpec            *self,
                                                FjRunMode          mode,
                                                GError           **error);
FJ_AVAILABLE_IN_ALL
FjCacheMode       fj_spec_get_cache            (FjSpec            *self);
FJ_AVAILABLE_IN_ALL
double            fj_spec_get_poll_interval    (FjSpec            *self);
FJ_AVAILABLE_IN_ALL
const char       *fj_spec_get_synthesis_plugin (FjSpec            *self);
FJ_AVAILABLE_IN_ALL
const char * const *fj_spec_get_warnings       (FjSpec            *self);
FJ_AVAILABLE_IN_ALL
gboolean          fj_spec_get_allow_insecure_http (FjSpec         *self);
FJ_AVAILABLE_IN_ALL
gboolean          fj_spec_configure_client     (FjSpec            *self,
                                                FjClient          *client,
                                                GError           **error);
FJ_AVAILABLE_IN_ALL
char            **fj_spec_dup_client_names     (FjSpec            *self) G_GNUC_WARN_UNUSED_RESULT;
FJ_AVAILABLE_IN_ALL
FjProvider        fj_spec_get_client_provider  (FjSpec            *self,
                                                const char        *name);
FJ_AVAILABLE_IN_ALL
const char       *fj_spec_get_client_base_url  (FjSpec            *self,
                                                const char        *name);
FJ_AVAILABLE_IN_ALL
const char       *fj_spec_get_client_api_key_env (FjSpec          *self,
                                                const char        *name);
FJ_AVAILABLE_IN_ALL
FjClient         *fj_spec_get_client           (FjSpec            *self,
                                                const char        *name);
FJ_AVAILABLE_IN_ALL
void              fj_spec_set_client           (FjSpec            *self,
                                                const char        *name,
                                                FjClient          *client);
FJ_AVAILABLE_IN_ALL
const char       *fj_spec_get_agent_client_name (FjSpec           *self,
                                                guint              position);
FJ_AVAILABLE_IN_ALL
const char       *fj_spec_get_synthesis_client_name (FjSpec       *self);
FJ_AVAILABLE_IN_ALL
gboolean          fj_spec_get_uses_default_client (FjSpec         *self);
FJ_AVAILABLE_IN_ALL
FjForkJoinTask   *fj_spec_create_task          (FjSpec            *self,
                                                FjClient          *client,
                                                GError           **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
