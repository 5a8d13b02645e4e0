using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TokenAdmin.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class TokenStateStanding : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "Standing",
                table: "TokenStates",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            // Existing states get the standing TokenState.DeriveColumns would give them (0 dead, 1 failing, 2 working, 3 no tokens).
            migrationBuilder.Sql("""
                UPDATE "TokenStates" SET "Standing" = CASE
                    WHEN "AlertCondition" = 'dead' OR "RefreshTokenRevokedAt" IS NOT NULL THEN 0
                    WHEN "AlertCondition" = 'failing' THEN 1
                    WHEN "AccessTokenProtected" IS NOT NULL OR "RefreshTokenProtected" IS NOT NULL THEN 2
                    ELSE 3 END;
                """);

            migrationBuilder.CreateIndex(
                name: "IX_TokenStates_Standing_FailingSince",
                table: "TokenStates",
                columns: new[] { "Standing", "FailingSince" });

            migrationBuilder.CreateIndex(
                name: "IX_TokenStates_Standing_RefreshTokenExpiresAt",
                table: "TokenStates",
                columns: new[] { "Standing", "RefreshTokenExpiresAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_TokenStates_Standing_FailingSince",
                table: "TokenStates");

            migrationBuilder.DropIndex(
                name: "IX_TokenStates_Standing_RefreshTokenExpiresAt",
                table: "TokenStates");

            migrationBuilder.DropColumn(
                name: "Standing",
                table: "TokenStates");
        }
    }
}
