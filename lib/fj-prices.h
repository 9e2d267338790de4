/* fj-prices.h
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

#include "fj-usage.h"
#include "fj-version-macros.h"

G_BEGIN_DECLS

#define FJ_TYPE_PRICES (fj_prices_get_type ())

FJ_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (FjPrices, fj_prices, FJ, PRICES, GObject)

FJ_AVAILABLE_IN_ALL
FjPrices   *fj_prices_new                (void) G_GNUC_WARN_UNUSED_RESULT;
FJ_AVAILABLE_IN_ALL
FjPrices   *fj_prices_get_default        (void);
FJ_AVAILABLE_IN_ALL
gboolean    fj_prices_load_from_file     (FjPrices     *self,
                                          const char   *path,
                                          GError      **error);
FJ_AVAILABLE_IN_ALL
gboolean    fj_prices_load_from_data     (FjPrices     *self,
                                          const char   *data,
                                          gssize        length,
                                          const char   *filename,
                                          GError      **error);
FJ_AVAILABLE_IN_ALL
const char *fj_prices_get_date           (FjPrices     *self);
FJ_AVAILABLE_IN_ALL
const char *fj_prices_get_source         (FjPrices     *self);
FJ_AVAILABLE_IN_ALL
gboolean    fj_prices_lookup             (FjPrices     *self,
                                          const char   *model,
                                          double       *input,
                                          double       *output,
                                          double       *cache_write,
                                          double       *cache_read);
FJ_AVAILABLE_IN_ALL
double      fj_prices_compute            (FjPrices     *self,
                                          const char   *model,
                                          FjUsage      *usage);
FJ_AVAILABLE_IN_ALL
double      fj_prices_compute_without_cache (FjPrices   *self,
                                             const char *model,
                                             FjUsage    *usage);
FJ_AVAILABLE_IN_ALL
const char *fj_prices_get_note           (FjPrices     *self,
                                          const char   *model);
FJ_AVAILABLE_IN_ALL
double      fj_prices_get_batch_discount (FjPrices     *self);
FJ_AVAILABLE_IN_ALL
char      **fj_prices_dup_models         (FjPrices     *self) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
