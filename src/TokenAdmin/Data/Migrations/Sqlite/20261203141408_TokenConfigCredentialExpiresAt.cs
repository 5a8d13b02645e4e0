using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TokenAdmin.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class TokenConfigCredentialExpiresAt : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTime>(
                name: "CredentialExpiresAt",
                table: "TokenConfigs",
                type: "TEXT",
                nullable: true);

            // Existing configs get the value TokenConfig.DeriveColumns would give them: the earlier of the certificate's
            // NotAfter and, when a client secret is held, its expiry (dates are stored as sortable text).
            migrationBuilder.Sql("""
                UPDATE "TokenConfigs" SET "CredentialExpiresAt" = CASE
                    WHEN "ClientSecretProtected" IS NOT NULL AND "ClientSecretExpiresAt" IS NOT NULL
                        AND ("Certificate_NotAfter" IS NULL OR "ClientSecretExpiresAt" < "Certificate_NotAfter") THEN "ClientSecretExpiresAt"
                    ELSE "Certificate_NotAfter" END;
                """);

            migrationBuilder.CreateIndex(
                name: "IX_TokenConfigs_CredentialExpiresAt",
                table: "TokenConfigs",
                column: "CredentialExpiresAt");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_TokenConfigs_CredentialExpiresAt",
                table: "TokenConfigs");

            migrationBuilder.DropColumn(
                name: "CredentialExpiresAt",
                table: "TokenConfigs");
        }
    }
}
