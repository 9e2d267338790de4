/* fj-test-utils.h — helpers shared by the C test suites
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <forkjoin.h>

G_BEGIN_DECLS

/* The key every test uses.  Deliberately not shaped like a real key; tests
 * assert it never shows up in errors, logs or output. */
#define FJ_TEST_API_KEY "fj-test-key-7f3a9c1d"

void         fj_test_init              (int          *argc,
                                        char       ***argv);

/* A started simulator on 127.0.0.1 that requires FJ_TEST_API_KEY, with the
 * scenario @scenario_json (may be NULL). */
FjSimulator *fj_test_simulator_new     (const char   *scenario_json);

/* A client for @sim that sends FJ_TEST_API_KEY. */
FjClient    *fj_test_client_new        (FjSimulator  *sim);

/* The factor timing bounds are widened by: FJ_TEST_TIME_SCALE (a number
 * >= 1, set by the sanitizer and valgrind runs), 1 when unset.  Scale upper
 * bounds on wall time with it, never the behaviour under test. */
double       fj_test_time_scale        (void);

/* Iterates the thread-default main context until *@flag is TRUE, failing
 * the test after @timeout_seconds (times fj_test_time_scale()). */
void         fj_test_wait_for          (gboolean     *flag,
                                        double        timeout_seconds);

/* Iterates the thread-default main context for @seconds. */
void         fj_test_run_for           (double        seconds);

/* Stores the GAsyncResult in *(GAsyncResult **) user_data (a ref). */
void         fj_test_async_result_cb   (GObject      *source,
                                        GAsyncResult *result,
                                        gpointer      user_data);

/* Waits for *@result to be set by fj_test_async_result_cb(), failing the
 * test after @timeout_seconds (times fj_test_time_scale()). */
GAsyncResult *fj_test_wait_result      (GAsyncResult **result,
                                        double         timeout_seconds);

/* Sends @message with @client and waits up to @timeout_seconds (times
 * fj_test_time_scale()); returns the error, or NULL.  An error message
 * must not contain FJ_TEST_API_KEY. */
GError      *fj_test_send_and_wait     (FjClient      *client,
                                        FjMessage     *message,
                                        GCancellable  *cancellable,
                                        double         timeout_seconds);

/* The path of a file in ../shared/fixtures, or NULL (and the test is
 * skipped with a message saying so) when the folder is absent. */
char        *fj_test_shared_fixture    (const char   *name);

/* The contents of a shared fixture with its '#' note lines removed, or NULL
 * (test skipped) when the folder is absent. */
char        *fj_test_load_fixture      (const char   *name,
                                        gsize        *length);

/* Asserts that @text does not contain FJ_TEST_API_KEY. */
void         fj_test_assert_no_key     (const char   *text);

G_END_DECLS
