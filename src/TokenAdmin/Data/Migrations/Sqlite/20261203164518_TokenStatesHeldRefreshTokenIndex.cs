using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TokenAdmin.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class TokenStatesHeldRefreshTokenIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_TokenStates_Standing_RefreshTokenExpiresAt",
                table: "TokenStates");

            migrationBuilder.CreateIndex(
                name: "IX_TokenStates_Standing_RefreshTokenExpiresAt",
                table: "TokenStates",
                columns: new[] { "Standing", "RefreshTokenExpiresAt" },
                filter: "\"RefreshTokenProtected\" IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_TokenStates_Standing_RefreshTokenExpiresAt",
                table: "TokenStates");

            migrationBuilder.CreateIndex(
                name: "IX_TokenStates_Standing_RefreshTokenExpiresAt",
                table: "TokenStates",
                columns: new[] { "Standing", "RefreshTokenExpiresAt" });
        }
    }
}
