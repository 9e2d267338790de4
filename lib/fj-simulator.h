/* fj-simulator.h
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
#include <json-glib/json-glib.h>

#include "fj-version-macros.h"

G_BEGIN_DECLS

#define FJ_TYPE_SIMULATOR (fj_simulator_get_type ())

FJ_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (FjSimulator, fj_simulator, FJ, SIMULATOR, GObject)

FJ_AVAILABLE_IN_ALL
FjSimulator     *fj_simulator_new                      (void) G_GNUC_WARN_UNUSED_RESULT;
FJ_AVAILABLE_IN_ALL
gboolean         fj_simulator_load_scenario_from_file  (FjSimulator      *self,
                                                        const char       *path,
                                                        GError          **error);
FJ_AVAILABLE_IN_ALL
gboolean         fj_simulator_load_scenario_from_data  (FjSimulator      *self,
                                                        const char       *data,
                                                        gssize            length,
                                                        GError          **error);
FJ_AVAILABLE_IN_ALL
gboolean         fj_simulator_start                    (FjSimulator      *self,
                                                        GError          **error);
FJ_AVAILABLE_IN_ALL
void             fj_simulator_stop                     (FjSimulator      *self);
FJ_AVAILABLE_IN_ALL
gboolean         fj_simulator_get_running              (FjSimulator      *self);
FJ_AVAILABLE_IN_ALL
guint            fj_simulator_get_port                 (FjSimulator      *self);
FJ_AVAILABLE_IN_ALL
void             fj_simulator_set_port                 (FjSimulator      *self,
                                                        guint             port);
FJ_AVAILABLE_IN_ALL
char            *fj_simulator_dup_base_url             (FjSimulator      *self) G_GNUC_WARN_UNUSED_RESULT;
FJ_AVAILABLE_IN_ALL
void             fj_simulator_set_api_key              (FjSimulator      *self,
                                                        const char       *api_key);
FJ_AVAILABLE_IN_ALL
GTlsCertificate *fj_simulator_get_tls_certificate      (FjSimulator      *self);
FJ_AVAILABLE_IN_ALL
void             fj_simulator_set_tls_certificate      (FjSimulator      *self,
                                                        GTlsCertificate  *certificate);
FJ_AVAILABLE_IN_ALL
guint64          fj_simulator_get_seed                 (FjSimulator      *self);
FJ_AVAILABLE_IN_ALL
void             fj_simulator_set_seed                 (FjSimulator      *self,
                                                        guint64           seed);
FJ_AVAILABLE_IN_ALL
double           fj_simulator_get_latency              (FjSimulator      *self);
FJ_AVAILABLE_IN_ALL
void             fj_simulator_set_latency              (FjSimulator      *self,
                                                        double            seconds);
FJ_AVAILABLE_IN_ALL
double           fj_simulator_get_latency_max          (FjSimulator      *self);
FJ_AVAILABLE_IN_ALL
void             fj_simulator_set_latency_max          (FjSimulator      *self,
                                                        double            seconds);
FJ_AVAILABLE_IN_ALL
guint            fj_simulator_get_output_tokens        (FjSimulator      *self);
FJ_AVAILABLE_IN_ALL
void             fj_simulator_set_output_tokens        (FjSimulator      *self,
                                                        guint             output_tokens);
FJ_AVAILABLE_IN_ALL
double           fj_simulator_get_tokens_per_second    (FjSimulator      *self);
FJ_AVAILABLE_IN_ALL
void             fj_simulator_set_tokens_per_second    (FjSimulator      *self,
                                                        double            tokens_per_second);
FJ_AVAILABLE_IN_ALL
gboolean         fj_simulator_get_record_prompts       (FjSimulator      *self);
FJ_AVAILABLE_IN_ALL
void             fj_simulator_set_record_prompts       (FjSimulator      *self,
                                                        gboolean          record_prompts);
FJ_AVAILABLE_IN_ALL
guint            fj_simulator_get_n_requests           (FjSimulator      *self);
FJ_AVAILABLE_IN_ALL
guint            fj_simulator_get_n_connections        (FjSimulator      *self);
FJ_AVAILABLE_IN_ALL
guint            fj_simulator_get_n_in_flight          (FjSimulator      *self);
FJ_AVAILABLE_IN_ALL
guint            fj_simulator_get_max_in_flight        (FjSimulator      *self);
FJ_AVAILABLE_IN_ALL
guint            fj_simulator_get_n_disconnects        (FjSimulator      *self);
FJ_AVAILABLE_IN_ALL
guint            fj_simulator_get_attempts             (FjSimulator      *self,
                                                        const char       *agent);
FJ_AVAILABLE_IN_ALL
JsonNode        *fj_simulator_get_stats                (FjSimulator      *self) G_GNUC_WARN_UNUSED_RESULT;
FJ_AVAILABLE_IN_ALL
void             fj_simulator_reset_stats              (FjSimulator      *self);

G_END_DECLS
