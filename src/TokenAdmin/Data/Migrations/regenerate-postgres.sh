#!/usr/bin/env bash
# Regenerates the PostgreSQL migrations (Data/Migrations/Postgres) from the current EF Core model: deletes them and
# adds one migration, "Initial", for PostgresTokenAdminDb. Nothing here is written by hand, so after merging model
# changes (new entities, columns, indexes) run this again instead of editing the generated files.
#
# Until the first PostgreSQL installation exists, one regenerated "Initial" is all there is. Once a release has
# shipped with PostgreSQL support, stop regenerating and add migrations on top instead:
#   dotnet ef migrations add NAME --context PostgresTokenAdminDb --output-dir Data/Migrations/Postgres --namespace TokenAdmin.Data.Migrations.Postgres
# Adding a migration never connects to a database.
set -euo pipefail
project="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$project"
rm -rf Data/Migrations/Postgres
dotnet ef migrations add Initial --context PostgresTokenAdminDb \
  --output-dir Data/Migrations/Postgres --namespace TokenAdmin.Data.Migrations.Postgres
# Note: with --namespace, dotnet ef writes the model snapshot under a folder named after the namespace's first part
# (TokenAdmin/Data/Migrations/Postgres inside the project). Moved beside the migration, so the rm -rf above removes it
# next time: a snapshot left over elsewhere makes "Initial" a mere difference to an old model, which fails on an
# empty database.
stray="TokenAdmin/Data/Migrations/Postgres/PostgresTokenAdminDbModelSnapshot.cs"
if [ -f "$stray" ]; then
  mv "$stray" Data/Migrations/Postgres/
  rm -rf TokenAdmin
fi
