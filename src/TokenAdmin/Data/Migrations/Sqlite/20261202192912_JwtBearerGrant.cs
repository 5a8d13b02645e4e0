using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TokenAdmin.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class JwtBearerGrant : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "ServiceAccountKey_ClientEmail",
                table: "TokenConfigs",
                type: "TEXT",
                maxLength: 320,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ServiceAccountKey_PrivateKeyId",
                table: "TokenConfigs",
                type: "TEXT",
                maxLength: 200,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ServiceAccountKey_Protected",
                table: "TokenConfigs",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ServiceAccountKey_TokenUri",
                table: "TokenConfigs",
                type: "TEXT",
                maxLength: 2000,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "AssertionSubject",
                table: "FunctionalAccounts",
                type: "TEXT",
                maxLength: 320,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ServiceAccountKey_ClientEmail",
                table: "FunctionalAccounts",
                type: "TEXT",
                maxLength: 320,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ServiceAccountKey_PrivateKeyId",
                table: "FunctionalAccounts",
                type: "TEXT",
                maxLength: 200,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ServiceAccountKey_Protected",
                table: "FunctionalAccounts",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ServiceAccountKey_TokenUri",
                table: "FunctionalAccounts",
                type: "TEXT",
                maxLength: 2000,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "ServiceAccountKey_ClientEmail",
                table: "TokenConfigs");

            migrationBuilder.DropColumn(
                name: "ServiceAccountKey_PrivateKeyId",
                table: "TokenConfigs");

            migrationBuilder.DropColumn(
                name: "ServiceAccountKey_Protected",
                table: "TokenConfigs");

            migrationBuilder.DropColumn(
                name: "ServiceAccountKey_TokenUri",
                table: "TokenConfigs");

            migrationBuilder.DropColumn(
                name: "AssertionSubject",
                table: "FunctionalAccounts");

            migrationBuilder.DropColumn(
                name: "ServiceAccountKey_ClientEmail",
                table: "FunctionalAccounts");

            migrationBuilder.DropColumn(
                name: "ServiceAccountKey_PrivateKeyId",
                table: "FunctionalAccounts");

            migrationBuilder.DropColumn(
                name: "ServiceAccountKey_Protected",
                table: "FunctionalAccounts");

            migrationBuilder.DropColumn(
                name: "ServiceAccountKey_TokenUri",
                table: "FunctionalAccounts");
        }
    }
}
