ALTER TABLE "packs" ADD COLUMN "dataset" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "packs" ADD COLUMN "tables" jsonb DEFAULT '[]'::jsonb NOT NULL;