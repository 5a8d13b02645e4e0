using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TokenAdmin.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ClientCertificates : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Certificate_KeyId",
                table: "TokenConfigs",
                type: "TEXT",
                maxLength: 43,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Certificate_KeyType",
                table: "TokenConfigs",
                type: "TEXT",
                maxLength: 20,
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "Certificate_NotAfter",
                table: "TokenConfigs",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Certificate_Protected",
                table: "TokenConfigs",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Certificate_Subject",
                table: "TokenConfigs",
                type: "TEXT",
                maxLength: 1000,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Certificate_Thumbprint",
                table: "TokenConfigs",
                type: "TEXT",
                maxLength: 40,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Certificate_KeyId",
                table: "FunctionalAccounts",
                type: "TEXT",
                maxLength: 43,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Certificate_KeyType",
                table: "FunctionalAccounts",
                type: "TEXT",
                maxLength: 20,
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "Certificate_NotAfter",
                table: "FunctionalAccounts",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Certificate_Protected",
                table: "FunctionalAccounts",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Certificate_Subject",
                table: "FunctionalAccounts",
                type: "TEXT",
                maxLength: 1000,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Certificate_Thumbprint",
                table: "FunctionalAccounts",
                type: "TEXT",
                maxLength: 40,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ClientAssertionAlgorithm",
                table: "FunctionalAccounts",
                type: "TEXT",
                maxLength: 10,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ClientAssertionAudience",
                table: "FunctionalAccounts",
                type: "TEXT",
                maxLength: 20,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ClientAuthentication",
                table: "FunctionalAccounts",
                type: "TEXT",
                maxLength: 40,
                nullable: false,
                // Existing accounts keep what they did: the method chosen from the provider's metadata.
                defaultValue: "automatic");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Certificate_KeyId",
                table: "TokenConfigs");

            migrationBuilder.DropColumn(
                name: "Certificate_KeyType",
                table: "TokenConfigs");

            migrationBuilder.DropColumn(
                name: "Certificate_NotAfter",
                table: "TokenConfigs");

            migrationBuilder.DropColumn(
                name: "Certificate_Protected",
                table: "TokenConfigs");

            migrationBuilder.DropColumn(
                name: "Certificate_Subject",
                table: "TokenConfigs");

            migrationBuilder.DropColumn(
                name: "Certificate_Thumbprint",
                table: "TokenConfigs");

            migrationBuilder.DropColumn(
                name: "Certificate_KeyId",
                table: "FunctionalAccounts");

            migrationBuilder.DropColumn(
                name: "Certificate_KeyType",
                table: "FunctionalAccounts");

            migrationBuilder.DropColumn(
                name: "Certificate_NotAfter",
                table: "FunctionalAccounts");

            migrationBuilder.DropColumn(
                name: "Certificate_Protected",
                table: "FunctionalAccounts");

            migrationBuilder.DropColumn(
                name: "Certificate_Subject",
                table: "FunctionalAccounts");

            migrationBuilder.DropColumn(
                name: "Certificate_Thumbprint",
                table: "FunctionalAccounts");

            migrationBuilder.DropColumn(
                name: "ClientAssertionAlgorithm",
                table: "FunctionalAccounts");

            migrationBuilder.DropColumn(
                name: "ClientAssertionAudience",
                table: "FunctionalAccounts");

            migrationBuilder.DropColumn(
                name: "ClientAuthentication",
                table: "FunctionalAccounts");
        }
    }
}
