/*
 * migrations.c: MLflow's alembic revisions, oldest first, as mlflowd's own
 * upgrade steps (see migrations.h). Learnt from the migrations in MLflow's
 * wheel (mlflow/store/db_migrations/versions); the table and index changes
 * of every step are made by the rebuild to storage/schema.sql's layout, so
 * a step here carries only the data its migration moves, renames that a
 * copy by column name would lose, and refusals where mlflowd does not
 * move the data the migration would.
 */
#include "migrations.h"

#include "migrate_data.h"

const struct mlf_migration mlf_migrations[] = {
    {.head = "451aebb31d03", .what = "add_metric_step"},
    {.head = "90e64c465722",
     .what = "migrate_user_column_to_tags",
     .refuse_if = "SELECT 1",
     .refuse_why = "stores of MLflow 1.x before 1.0 (this migration copies run users into tags) are not upgraded by "
                   "mlflowd; upgrade with MLflow's own `mlflow db upgrade` first"},
    {.head = "181f10493468", .what = "allow_nulls_for_metric_values"},
    {.head = "df50e92ffc5e", .what = "add_experiment_tags_table"},
    {.head = "7ac759974ad8", .what = "update_run_tags_with_larger_limit"},
    {.head = "89d4b8295536",
     .what = "create_latest_metrics_table",
     .refuse_if = "SELECT 1",
     .refuse_why = "stores of MLflow 1.x before 1.4 (this migration fills latest_metrics) are not upgraded by mlflowd; "
                   "upgrade with MLflow's own `mlflow db upgrade` first"},
    {.head = "2b4d017a5e9b", .what = "add_model_registry_tables_to_db"},
    {.head = "cfd24bdc0731", .what = "update_run_status_constraint_with_killed"},
    {.head = "0a8213491aaa", .what = "drop_duplicate_killed_constraint"},
    {.head = "728d730b5ebd", .what = "add_registered_model_tags_table"},
    {.head = "27a6a02d2cf1", .what = "add_model_version_tags_table"},
    {.head = "84291f40a231", .what = "add_run_link_to_model_version"},
    {.head = "a8c4a736bde6", .what = "allow_nulls_for_run_id"},
    {.head = "39d1c3be5f05", .what = "add_is_nan_constraint_for_metrics_tables_if_necessary"},
    {.head = "c48cb773bb87", .what = "reset_default_value_for_is_nan_in_metrics_table_for_mysql"},
    {.head = "bd07f7e963c5", .what = "create_index_on_run_uuid"},
    {.head = "0c779009ac13", .what = "add_deleted_time_field_to_runs_table"},
    {.head = "cc1f77228345", .what = "change_param_value_length_to_500"},
    {.head = "97727af70f4d", .what = "creation_time_last_update_time_experiments"},
    {.head = "3500859a5d39", .what = "add_model_aliases_table"},
    {.head = "7f2a7d5fae7d", .what = "add_datasets_inputs_input_tags_tables"},
    {.head = "2d6e25af4d3e", .what = "increase_max_param_val_length"},
    {.head = "acf3f17fdcc7", .what = "add_storage_location_field_to_model_"},
    {.head = "867495a8f9d4", .what = "add_trace_tables"},
    {.head = "5b0e9adcef9c", .what = "add_cascade_deletion_to_trace_tables_fk"},
    {.head = "4465047574b1", .what = "increase_max_dataset_schema_size"},
    {.head = "f5a4f2784254", .what = "increase_run_tag_value_limit"},
    {.head = "0584bdc529eb", .what = "add_cascading_deletion_to_datasets_from_experiments"},
    {.head = "400f98739977", .what = "add_logged_model_tables"},
    {.head = "6953534de441", .what = "add_step_to_inputs_table"},
    {.head = "bda7b8c39065", .what = "increase_model_version_tag_value_limit"},
    {.head = "cbc13b556ace", .what = "add_v3_trace_schema_columns"},
    {.head = "770bee3ae1dd", .what = "add_assessments_table"},
    {.head = "a1b2c3d4e5f6", .what = "add_spans_table"},
    {.head = "de4033877273", .what = "create_entity_associations"},
    {.head = "1a0cddfcaa16", .what = "add_webhooks_and_webhook_events_tables"},
    {.head = "534353b11cbc", .what = "add_scorer_table"},
    {.head = "71994744cf8e", .what = "add_evaluation_datasets"},
    {.head = "3da73c924c2f", .what = "add_outputs_to_dataset_record"},
    {.head = "bf29a5ff90ea", .what = "add_jobs_table"},
    {.head = "1bd49d398cd23", .what = "add_secrets_tables"},
    {.head = "b7c8d9e0f1a2", .what = "add_trace_metrics_table"},
    {.head = "5d2d30f0abce",
     .what = "update_job_table",
     .before = "ALTER TABLE jobs RENAME COLUMN function_fullname TO job_name;",
     .when = "SELECT 1 FROM pragma_table_info('jobs') WHERE name = 'function_fullname'"},
    {.head = "c9d4e5f6a7b8", .what = "add_routing_strategy_to_endpoints"},
    {.head = "2c33131f4dae", .what = "add_online_scoring_configs_table"},
    {.head = "d3e4f5a6b7c8", .what = "add_display_name_to_endpoint_bindings"},
    {.head = "d0e1f2a3b4c5", .what = "add_experiment_id_to_endpoints"},
    {.head = "c8d9e0f1a2b3", .what = "add_span_metrics_and_dimension_attributes"},
    {.head = "1b5f0d9ad7c1",
     .what = "add_workspace_columns_and_catalog",
     .after = "INSERT OR IGNORE INTO workspaces (name, description) VALUES ('default', 'Default workspace for legacy "
              "resources');"},
    {.head = "e1f2a3b4c5d6", .what = "add_budget_policies_table"},
    {.head = "76601a5f987d", .what = "add_issues_table"},
    {.head = "c3d6457b6d8a", .what = "add_status_details_column_to_jobs_table"},
    {.head = "a5b4c3d2e1f0", .what = "add_metrics_run_key_step_index"},
    {.head = "ae8bbe7743c9", .what = "add_guardrails_tables"},
    {.head = "7d34483879f0", .what = "add_model_version_tags_workspace_index"},
    {.head = "da6fb0208061", .what = "add_workspaces_trace_archival_location"},
    {.head = "89d3d66ed43f", .what = "add_label_schemas_table"},
    {.head = "b7e4c1a90f23", .what = "add_review_queue_tables"},
    {.head = "a8b9c0d1e2f3", .what = "add_mcp_server_registry_tables"},
    {.head = "c1d2e3f4a5b6", .what = "add_span_experiment_start_time_index"},
    {.head = "c3d9e7f1a2b4", .what = "add_target_value_to_budget_policies"},
    {.head = "6f8d9c3b2a1e", .what = "add_experiment_fk_cascades"},
    {.head = "1971f2d9a75b", .what = "add_trace_archival_candidate_index"},
    {.head = "17e22815139b", .what = "increase_experiment_tag_value_limit"},
    {.head = "b7e2c1a4d9f3", .what = "add_jobs_creator"},
    {.head = "75868b020152",
     .what = "add_sql_trace_analytics_schema",
     .when = "SELECT 1 FROM trace_info LIMIT 1",
     .refuse_fn = mlf_trace_analytics_refuse,
     .refuse_why = "the store holds spans or assessments of missing traces, or span dimension attributes other than "
                   "model and provider strings, on which MLflow's own migration stops too",
     .before_fn = mlf_trace_analytics_before,
     .after_fn = mlf_trace_analytics_after},
    {.head = "dc11669786a5",
     .what = "add_job_executor_persistence_model",
     .after = "UPDATE jobs SET status = 5, last_update_time = CAST((julianday('now') - 2440587.5) * 86400000 AS "
              "INTEGER) WHERE status IN (0, 1);"},
    {.head = "e7d1f4b2a9c6", .what = "add_skill_registry_tables"},
    {.head = "8b6ad64cb8f5",
     .what = "extend_issue_contract",
     .after = "UPDATE issues SET last_seen_timestamp = created_timestamp;",
     .refuse_fn = mlf_issue_categories_refuse,
     .refuse_why = "the store holds issue categories that are not a JSON array of strings (MLflow's own migration "
                   "stops on them) or that hold a Greek capital sigma, whose lower case mlflowd does not derive as "
                   "Python does: upgrade with MLflow's own `mlflow db upgrade`",
     .after_fn = mlf_issue_categories_after},
    {.head = "f4a9b2c7d1e6", .what = "make_mcp_versions_case_sensitive"},
};

const int mlf_nmigrations = (int)(sizeof mlf_migrations / sizeof *mlf_migrations);
