/* fj-cli.h — what the forkjoin-tool subcommands share
 *
 * Copyright 2026 The forkjoin authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <forkjoin.h>

G_BEGIN_DECLS

/* Exit statuses, as DESIGN.md says. */
#define FJ_EXIT_OK          0   /* complete or degraded */
#define FJ_EXIT_FAILED      1   /* quorum not met or synthesis failed */
#define FJ_EXIT_USAGE       2   /* bad usage, bad spec, missing credentials */
#define FJ_EXIT_INTERRUPTED 130 /* SIGINT, after printing partial results */

/* One entry per subcommand: argv[0] is the subcommand's name. */
int fj_cmd_run      (int argc, char **argv);
int fj_cmd_resume   (int argc, char **argv);
int fj_cmd_bench    (int argc, char **argv);
int fj_cmd_batch    (int argc, char **argv);
int fj_cmd_simulate (int argc, char **argv);
int fj_cmd_plugins  (int argc, char **argv);
int fj_cmd_validate (int argc, char **argv);

/* "forkjoin-tool: " + message + "\n" on stderr. */
void              fj_cli_printerr        (const char   *format,
                                          ...) G_GNUC_PRINTF (1, 2);

/* A spec error's problems (one per line in @message), each on its own
 * line of stderr with the program's prefix, as validate prints them. */
void              fj_cli_print_problems  (const char   *message);

/* The default registry with its default directories loaded. */
FjPluginRegistry *fj_cli_get_registry    (void);

/* Loads @path with the default registry; prints the spec's warnings
 * (deprecated models) to stderr as "forkjoin-tool: warning: ...". */
FjSpec           *fj_cli_load_spec       (const char   *path,
                                          GError      **error);

/* The same for a spec's text, @path naming it in errors. */
FjSpec           *fj_cli_load_spec_from_data (const char *text,
                                              const char *path,
                                              GError    **error);

/* --prices FILE when given, else $FORKJOIN_PRICES when set, else the
 * built-in table (fj_prices_get_default()). */
FjPrices         *fj_cli_load_prices     (const char   *path,
                                          GError      **error);

/* The client a command talks to.  @simulate NULL: the real API, with
 * credentials from --api-key-file (@api_key_file), ANTHROPIC_API_KEY or
 * ANTHROPIC_AUTH_TOKEN (ANTHROPIC_BASE_URL honoured); none is an
 * FJ_ERROR_AUTHENTICATION error naming them and --simulate.  @simulate
 * "" : an in-process simulator with the default scenario; otherwise the
 * scenario file to load.  The simulator (started on loopback, random key)
 * is returned in @simulator so it lives as long as the client.
 * The key file is refused when its mode lets group or others read it.
 * When the spec last loaded by fj_cli_load_spec() sets allow_insecure_http
 * and the base URL is plain HTTP and not loopback, prints a warning (the
 * spec refuses such a URL otherwise, in fj_spec_create_task()).  When
 * nothing in that spec sends with this client (every agent and the
 * synthesis name a client of "clients"), it needs no credentials. */
FjClient         *fj_cli_create_client   (const char   *simulate,
                                          const char   *api_key_file,
                                          FjSimulator **simulator,
                                          GError      **error);

/* Points every client of @spec's "clients" at @simulator (the one
 * fj_cli_create_client() started), with its key: an anthropic client at
 * its base URL, an openai one at the base URL + "/v1".  Without a
 * simulator, does nothing: the spec makes its clients from their
 * base_url and api_key_env when the task is made. */
void              fj_cli_setup_named_clients (FjSpec      *spec,
                                              FjSimulator *simulator);

/* Which client each agent of @spec sends with, for the reports: after
 * this, fj_cli_get_agent_client() answers for @spec's agents.  Only a
 * spec with "clients" names them. */
void              fj_cli_set_agent_clients (FjSpec      *spec);
/* TRUE when the agents' clients are worth naming (the spec has "clients"). */
gboolean          fj_cli_has_agent_clients (void);
/* The name in "clients" of the client @agent_name sends with, or NULL for
 * the run's client. */
const char       *fj_cli_get_agent_client  (const char  *agent_name);

/* For `resume --batch` and `batch`: the client of the batch's endpoint
 * (its base URL as recorded; credentials as fj_cli_create_client() finds
 * them for the real API). */
FjClient         *fj_cli_create_batch_client (FjBatch     *batch,
                                              const char  *api_key_file,
                                              GError     **error);

/* Reads a whole file, naming it in the error. */
char             *fj_cli_read_file       (const char   *path,
                                          gsize        *length,
                                          GError      **error);

/* Parses a subcommand's options.  While parsing, the program name reads
 * "forkjoin-tool COMMAND" so that --help shows the right usage line.  On a
 * bad option, prints "forkjoin-tool: COMMAND: ..." with a pointer to
 * --help and returns FALSE (the command then exits FJ_EXIT_USAGE).
 * A bare "--simulate" is read as "--simulate=" so that it never takes the
 * next word as its optional SCENARIO. */
gboolean          fj_cli_parse_options   (GOptionContext *context,
                                          const char     *command,
                                          int            *argc,
                                          char         ***argv);

/* What `run` and `resume` share (fj-cmd-run.c). */
typedef struct
{
  /* run only */
  char     *input;
  char     *input_file;
  /* run and resume */
  int       max_concurrent;   /* < 0: the spec's */
  double    timeout;          /* < 0: the spec's defaults.timeout */
  double    deadline;         /* < 0: the spec's runner.deadline */
  gboolean  sequential;
  gboolean  json;
  gboolean  markdown;
  char     *output;
  gboolean  events;
  char     *simulate;         /* NULL: the API; "": default scenario; else a file */
  char     *timeline;
  char     *api_key_file;
  char     *prices;
  gboolean  batch;            /* run in batch mode (--batch) */
  char     *state;            /* where the batch state goes (--state FILE) */
  /* resume only */
  gboolean  force;
  char     *batch_state;      /* resume --batch STATE */
  FjBatch  *batch_to_resume;  /* loaded from batch_state */
} FjRunOptions;

void              fj_run_options_init    (FjRunOptions   *options);
void              fj_run_options_clear   (FjRunOptions   *options);
/* The options of `run` (@resume FALSE) or `resume` (@resume TRUE) as
 * @context's main group, storing into @options. */
void              fj_run_options_add     (FjRunOptions   *options,
                                          GOptionContext *context,
                                          gboolean        resume);
/* Checks combinations after parsing: -1 when fine, else the exit status
 * after printing why. */
int               fj_run_options_check   (FjRunOptions   *options,
                                          const char     *command);
/* Runs @spec on @input with @options (prices, client, progress, events,
 * Ctrl-C, output, timeline) and returns the exit status.  With
 * @previous_results (one FjAgentResult per agent of @spec, in order), the
 * agents whose previous result succeeded are kept (resume). */
int               fj_run_execute         (FjRunOptions   *options,
                                          const char     *command,
                                          FjSpec         *spec,
                                          const char     *input,
                                          GPtrArray      *previous_results);

G_END_DECLS
