-- CreateEnum
CREATE TYPE "user_role" AS ENUM ('admin', 'operator', 'viewer');

-- CreateEnum
CREATE TYPE "executor_status" AS ENUM ('online', 'offline', 'draining', 'removed');

-- CreateEnum
CREATE TYPE "executor_event_type" AS ENUM ('registered', 'online', 'offline', 'draining', 'removed', 'deregistered');

-- CreateEnum
CREATE TYPE "config_kind" AS ENUM ('func', 'flow', 'conn', 'global');

-- CreateEnum
CREATE TYPE "schedule_type" AS ENUM ('cron', 'fixed_rate', 'once', 'manual');

-- CreateEnum
CREATE TYPE "misfire_policy" AS ENUM ('skip', 'fire_once_now', 'catch_up');

-- CreateEnum
CREATE TYPE "block_strategy" AS ENUM ('serial', 'discard', 'replace', 'parallel');

-- CreateEnum
CREATE TYPE "routing_strategy" AS ENUM ('any', 'round_robin', 'consistent_hash', 'failover', 'broadcast', 'pinned');

-- CreateEnum
CREATE TYPE "retry_backoff" AS ENUM ('fixed', 'exponential');

-- CreateEnum
CREATE TYPE "run_status" AS ENUM ('pending', 'running', 'succeeded', 'failed', 'timed_out', 'terminated', 'lost', 'skipped');

-- CreateEnum
CREATE TYPE "trigger_type" AS ENUM ('cron', 'fixed_rate', 'once', 'manual', 'api', 'parent', 'retry', 'misfire');

-- CreateEnum
CREATE TYPE "log_level" AS ENUM ('debug', 'info', 'warn', 'error');

-- CreateEnum
CREATE TYPE "alert_channel" AS ENUM ('webhook', 'email');

-- CreateEnum
CREATE TYPE "alert_delivery_status" AS ENUM ('pending', 'delivered', 'failed');

-- CreateEnum
CREATE TYPE "actor_kind" AS ENUM ('user', 'token', 'system');

-- CreateTable
CREATE TABLE "users" (
    "id" TEXT NOT NULL,
    "username" TEXT NOT NULL,
    "password_hash" TEXT NOT NULL,
    "role" "user_role" NOT NULL,
    "disabled" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sessions" (
    "id" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sessions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_tokens" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),
    "expires_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "scenes" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "paused" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "scenes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "scene_grants" (
    "user_id" TEXT NOT NULL,
    "scene_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "scene_grants_pkey" PRIMARY KEY ("user_id","scene_id")
);

-- CreateTable
CREATE TABLE "executor_groups" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "registration_token_hash" TEXT,
    "token_rotated_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "executor_groups_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "executors" (
    "id" TEXT NOT NULL,
    "instance_id" TEXT NOT NULL,
    "group_id" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "version" TEXT NOT NULL,
    "functions" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "concurrency" INTEGER NOT NULL,
    "status" "executor_status" NOT NULL,
    "registered_at" TIMESTAMPTZ(3) NOT NULL,
    "last_heartbeat_at" TIMESTAMPTZ(3) NOT NULL,
    "offline_at" TIMESTAMPTZ(3),
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "executors_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "executor_events" (
    "id" TEXT NOT NULL,
    "executor_id" TEXT NOT NULL,
    "type" "executor_event_type" NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "details" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "executor_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "config_documents" (
    "id" TEXT NOT NULL,
    "kind" "config_kind" NOT NULL,
    "name" TEXT NOT NULL,
    "current_version" INTEGER NOT NULL,
    "yaml" TEXT NOT NULL,
    "parsed" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "config_documents_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "config_versions" (
    "id" TEXT NOT NULL,
    "document_id" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "yaml" TEXT NOT NULL,
    "parsed" JSONB NOT NULL,
    "created_by" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "config_versions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "jobs" (
    "id" TEXT NOT NULL,
    "scene_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "flow_name" TEXT NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "paused" BOOLEAN NOT NULL DEFAULT false,
    "schedule_type" "schedule_type" NOT NULL,
    "cron_expr" TEXT,
    "timezone" TEXT NOT NULL DEFAULT 'UTC',
    "fixed_rate_ms" INTEGER,
    "once_at" TIMESTAMPTZ(3),
    "start_at" TIMESTAMPTZ(3),
    "end_at" TIMESTAMPTZ(3),
    "misfire_policy" "misfire_policy" NOT NULL DEFAULT 'skip',
    "catch_up_limit" INTEGER NOT NULL DEFAULT 100,
    "block_strategy" "block_strategy" NOT NULL DEFAULT 'serial',
    "routing" "routing_strategy" NOT NULL DEFAULT 'any',
    "routing_key" TEXT,
    "pinned_executor" TEXT,
    "executor_group_id" TEXT NOT NULL,
    "timeout_ms" INTEGER,
    "retry_attempts" INTEGER NOT NULL DEFAULT 0,
    "retry_backoff" "retry_backoff" NOT NULL DEFAULT 'fixed',
    "retry_delay_ms" INTEGER NOT NULL DEFAULT 1000,
    "params" JSONB NOT NULL DEFAULT '{}',
    "child_job_ids" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "alert_settings" JSONB NOT NULL DEFAULT '{}',
    "next_fire_at" TIMESTAMPTZ(3),
    "last_fire_at" TIMESTAMPTZ(3),
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_by" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "jobs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "runs" (
    "id" TEXT NOT NULL,
    "job_id" TEXT,
    "scene_id" TEXT,
    "flow_name" TEXT NOT NULL,
    "status" "run_status" NOT NULL DEFAULT 'pending',
    "skip_reason" TEXT,
    "trigger_type" "trigger_type" NOT NULL,
    "triggered_by" TEXT,
    "scheduled_at" TIMESTAMPTZ(3) NOT NULL,
    "triggered_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "attempt" INTEGER NOT NULL DEFAULT 1,
    "max_attempts" INTEGER NOT NULL DEFAULT 1,
    "parent_run_id" TEXT,
    "executor_instance_id" TEXT,
    "executor_group" TEXT,
    "shard_index" INTEGER NOT NULL DEFAULT 0,
    "shard_total" INTEGER NOT NULL DEFAULT 1,
    "params" JSONB NOT NULL DEFAULT '{}',
    "summary" JSONB,
    "error_message" TEXT,
    "error_code" TEXT,
    "duration_ms" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "run_log_lines" (
    "run_id" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "level" "log_level" NOT NULL,
    "func_name" TEXT,
    "message" TEXT NOT NULL,
    "fields" JSONB,

    CONSTRAINT "run_log_lines_pkey" PRIMARY KEY ("run_id","seq")
);

-- CreateTable
CREATE TABLE "alert_deliveries" (
    "id" TEXT NOT NULL,
    "run_id" TEXT NOT NULL,
    "channel" "alert_channel" NOT NULL,
    "target" TEXT NOT NULL,
    "status" "alert_delivery_status" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3),
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "alert_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_events" (
    "id" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor_user_id" TEXT,
    "actor_kind" "actor_kind" NOT NULL,
    "action" TEXT NOT NULL,
    "target_type" TEXT,
    "target_id" TEXT,
    "ip" TEXT,
    "details" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "audit_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "users_username_key" ON "users"("username");

-- CreateIndex
CREATE UNIQUE INDEX "sessions_token_hash_key" ON "sessions"("token_hash");

-- CreateIndex
CREATE INDEX "sessions_user_id_idx" ON "sessions"("user_id");

-- CreateIndex
CREATE INDEX "sessions_expires_at_idx" ON "sessions"("expires_at");

-- CreateIndex
CREATE UNIQUE INDEX "api_tokens_token_hash_key" ON "api_tokens"("token_hash");

-- CreateIndex
CREATE INDEX "api_tokens_user_id_idx" ON "api_tokens"("user_id");

-- CreateIndex
CREATE UNIQUE INDEX "scenes_name_key" ON "scenes"("name");

-- CreateIndex
CREATE INDEX "scene_grants_scene_id_idx" ON "scene_grants"("scene_id");

-- CreateIndex
CREATE UNIQUE INDEX "executor_groups_name_key" ON "executor_groups"("name");

-- CreateIndex
CREATE UNIQUE INDEX "executors_instance_id_key" ON "executors"("instance_id");

-- CreateIndex
CREATE INDEX "executors_group_id_status_idx" ON "executors"("group_id", "status");

-- CreateIndex
CREATE INDEX "executor_events_executor_id_at_idx" ON "executor_events"("executor_id", "at" DESC);

-- CreateIndex
CREATE INDEX "executor_events_at_idx" ON "executor_events"("at");

-- CreateIndex
CREATE UNIQUE INDEX "config_documents_kind_name_key" ON "config_documents"("kind", "name");

-- CreateIndex
CREATE INDEX "config_versions_created_by_idx" ON "config_versions"("created_by");

-- CreateIndex
CREATE UNIQUE INDEX "config_versions_document_id_version_key" ON "config_versions"("document_id", "version");

-- CreateIndex
CREATE INDEX "jobs_enabled_paused_next_fire_at_idx" ON "jobs"("enabled", "paused", "next_fire_at");

-- CreateIndex
CREATE INDEX "jobs_executor_group_id_idx" ON "jobs"("executor_group_id");

-- CreateIndex
CREATE INDEX "jobs_created_by_idx" ON "jobs"("created_by");

-- CreateIndex
CREATE UNIQUE INDEX "jobs_scene_id_name_key" ON "jobs"("scene_id", "name");

-- CreateIndex
CREATE INDEX "runs_job_id_triggered_at_id_idx" ON "runs"("job_id", "triggered_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "runs_status_triggered_at_id_idx" ON "runs"("status", "triggered_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "runs_scene_id_triggered_at_id_idx" ON "runs"("scene_id", "triggered_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "runs_triggered_at_id_idx" ON "runs"("triggered_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "runs_active_idx" ON "runs"("executor_instance_id", "triggered_at") WHERE (status = ANY (ARRAY['pending'::run_status, 'running'::run_status]));

-- CreateIndex
CREATE INDEX "runs_finished_at_idx" ON "runs"("finished_at");

-- CreateIndex
CREATE INDEX "runs_parent_run_id_idx" ON "runs"("parent_run_id");

-- CreateIndex
CREATE UNIQUE INDEX "runs_fire_key" ON "runs"("job_id", "scheduled_at", "shard_index", "attempt") WHERE (trigger_type = ANY (ARRAY['cron'::trigger_type, 'fixed_rate'::trigger_type, 'once'::trigger_type, 'misfire'::trigger_type]));

-- CreateIndex
CREATE INDEX "alert_deliveries_status_next_attempt_at_idx" ON "alert_deliveries"("status", "next_attempt_at");

-- CreateIndex
CREATE UNIQUE INDEX "alert_deliveries_run_id_channel_target_key" ON "alert_deliveries"("run_id", "channel", "target");

-- CreateIndex
CREATE INDEX "audit_events_at_idx" ON "audit_events"("at" DESC);

-- CreateIndex
CREATE INDEX "audit_events_target_type_target_id_idx" ON "audit_events"("target_type", "target_id");

-- AddForeignKey
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "scene_grants" ADD CONSTRAINT "scene_grants_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "scene_grants" ADD CONSTRAINT "scene_grants_scene_id_fkey" FOREIGN KEY ("scene_id") REFERENCES "scenes"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "executors" ADD CONSTRAINT "executors_group_id_fkey" FOREIGN KEY ("group_id") REFERENCES "executor_groups"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "executor_events" ADD CONSTRAINT "executor_events_executor_id_fkey" FOREIGN KEY ("executor_id") REFERENCES "executors"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "config_versions" ADD CONSTRAINT "config_versions_document_id_fkey" FOREIGN KEY ("document_id") REFERENCES "config_documents"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "config_versions" ADD CONSTRAINT "config_versions_created_by_fkey" FOREIGN KEY ("created_by") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_scene_id_fkey" FOREIGN KEY ("scene_id") REFERENCES "scenes"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_executor_group_id_fkey" FOREIGN KEY ("executor_group_id") REFERENCES "executor_groups"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_created_by_fkey" FOREIGN KEY ("created_by") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "runs" ADD CONSTRAINT "runs_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "runs" ADD CONSTRAINT "runs_scene_id_fkey" FOREIGN KEY ("scene_id") REFERENCES "scenes"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "runs" ADD CONSTRAINT "runs_parent_run_id_fkey" FOREIGN KEY ("parent_run_id") REFERENCES "runs"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "run_log_lines" ADD CONSTRAINT "run_log_lines_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alert_deliveries" ADD CONSTRAINT "alert_deliveries_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
