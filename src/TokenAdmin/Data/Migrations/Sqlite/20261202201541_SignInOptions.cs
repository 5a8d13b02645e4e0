using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TokenAdmin.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class SignInOptions : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "SignIn_DomainHint",
                table: "FunctionalAccounts",
                type: "TEXT",
                maxLength: 253,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "SignIn_LoginHint",
                table: "FunctionalAccounts",
                type: "TEXT",
                maxLength: 320,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "SignIn_Prompt",
                table: "FunctionalAccounts",
                type: "TEXT",
                maxLength: 20,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "SignIn_DomainHint",
                table: "FunctionalAccounts");

            migrationBuilder.DropColumn(
                name: "SignIn_LoginHint",
                table: "FunctionalAccounts");

            migrationBuilder.DropColumn(
                name: "SignIn_Prompt",
                table: "FunctionalAccounts");
        }
    }
}
