-- AlterEnum
ALTER TYPE "actor_kind" ADD VALUE 'anonymous';

-- DropIndex
DROP INDEX "audit_events_at_idx";

-- AlterTable
ALTER TABLE "audit_events" ADD COLUMN     "actor_name" TEXT,
ADD COLUMN     "actor_token_id" TEXT,
ADD COLUMN     "request_id" TEXT,
ADD COLUMN     "status" INTEGER;

-- CreateIndex
CREATE INDEX "audit_events_at_id_idx" ON "audit_events"("at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "audit_events_actor_user_id_at_id_idx" ON "audit_events"("actor_user_id", "at" DESC, "id" DESC);
