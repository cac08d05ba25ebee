-- AlterTable
ALTER TABLE "runs" ADD COLUMN     "dispatched_at" TIMESTAMPTZ(3),
ADD COLUMN     "target_queue" TEXT;

-- CreateIndex
CREATE INDEX "runs_job_active_idx" ON "runs"("job_id", "triggered_at", "id") WHERE (status = ANY (ARRAY['pending'::run_status, 'running'::run_status]));

-- CreateIndex
CREATE INDEX "runs_pending_dispatched_idx" ON "runs"("dispatched_at", "id") WHERE (status = 'pending'::run_status);
