CREATE TABLE "snapshots" (
	"originator_id" text NOT NULL,
	"version" bigint NOT NULL,
	"payload" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "snapshots_originator_id_version_pk" PRIMARY KEY("originator_id","version")
);
--> statement-breakpoint
CREATE INDEX "events_entity_type_first_idx" ON "events" USING btree ("entity_type","originator_id") WHERE version = 1;