ALTER TABLE "users" ADD COLUMN "token_generation" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "files_uploader_open_idx" ON "files" USING btree ("uploader_id") WHERE "files"."status" in ('pending', 'processing');--> statement-breakpoint
CREATE INDEX "files_uploader_processed_idx" ON "files" USING btree ("uploader_id","processed_at");--> statement-breakpoint
CREATE INDEX "files_pending_created_idx" ON "files" USING btree ("created_at") WHERE "files"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "refresh_tokens_user_live_idx" ON "refresh_tokens" USING btree ("user_id") WHERE "refresh_tokens"."revoked_at" is null;