-- CreateIndex
CREATE INDEX "runs_job_id_status_triggered_at_id_idx" ON "runs"("job_id", "status", "triggered_at" DESC, "id" DESC);
