using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TokenAdmin.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class GraphMailAccounts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "GraphCloud",
                table: "MailAccounts",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "GraphEndpoint",
                table: "MailAccounts",
                type: "TEXT",
                maxLength: 300,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "GraphSyncLink",
                table: "MailAccounts",
                type: "TEXT",
                maxLength: 4000,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "MoveToFolder",
                table: "MailAccounts",
                type: "TEXT",
                maxLength: 200,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "GraphCloud",
                table: "MailAccounts");

            migrationBuilder.DropColumn(
                name: "GraphEndpoint",
                table: "MailAccounts");

            migrationBuilder.DropColumn(
                name: "GraphSyncLink",
                table: "MailAccounts");

            migrationBuilder.DropColumn(
                name: "MoveToFolder",
                table: "MailAccounts");
        }
    }
}
