using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TokenAdmin.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class IncomingApi : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "SharedThroughApi",
                table: "TokenConfigs",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<bool>(
                name: "CreateApiUsers",
                table: "OidcProfiles",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<bool>(
                name: "SharedThroughApi",
                table: "FunctionalAccounts",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "SharedThroughApi",
                table: "TokenConfigs");

            migrationBuilder.DropColumn(
                name: "CreateApiUsers",
                table: "OidcProfiles");

            migrationBuilder.DropColumn(
                name: "SharedThroughApi",
                table: "FunctionalAccounts");
        }
    }
}
