using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TokenAdmin.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class MailAccounts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "MailAccounts",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Login = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Host = table.Column<string>(type: "TEXT", maxLength: 253, nullable: false),
                    Type = table.Column<int>(type: "INTEGER", nullable: false),
                    Port = table.Column<int>(type: "INTEGER", nullable: false),
                    Authentication = table.Column<int>(type: "INTEGER", nullable: false),
                    PasswordProtected = table.Column<string>(type: "TEXT", nullable: true),
                    TokenSourceKind = table.Column<int>(type: "INTEGER", nullable: true),
                    TokenSourceId = table.Column<int>(type: "INTEGER", nullable: true),
                    SaslMechanism = table.Column<int>(type: "INTEGER", nullable: false),
                    ImapFolder = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    KeepOnServer = table.Column<bool>(type: "INTEGER", nullable: false),
                    FetchIntervalMinutes = table.Column<int>(type: "INTEGER", nullable: false),
                    MaxMessagesPerRun = table.Column<int>(type: "INTEGER", nullable: false),
                    MaxMessageSizeKb = table.Column<int>(type: "INTEGER", nullable: false),
                    Valid = table.Column<bool>(type: "INTEGER", nullable: false),
                    Comment = table.Column<string>(type: "TEXT", maxLength: 250, nullable: false),
                    LastFetchAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    LastFetchCount = table.Column<int>(type: "INTEGER", nullable: true),
                    LastError = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true),
                    LastErrorAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    CreatedBy = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    ChangedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    ChangedBy = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Version = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_MailAccounts", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "FetchedMessages",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    MailAccountId = table.Column<int>(type: "INTEGER", nullable: false),
                    ServerKey = table.Column<string>(type: "TEXT", maxLength: 300, nullable: false),
                    MessageId = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true),
                    From = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: false),
                    Subject = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: false),
                    Date = table.Column<DateTime>(type: "TEXT", nullable: true),
                    Size = table.Column<long>(type: "INTEGER", nullable: false),
                    SpoolPath = table.Column<string>(type: "TEXT", maxLength: 400, nullable: false),
                    FetchedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    ParseError = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_FetchedMessages", x => x.Id);
                    table.ForeignKey(
                        name: "FK_FetchedMessages_MailAccounts_MailAccountId",
                        column: x => x.MailAccountId,
                        principalTable: "MailAccounts",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_FetchedMessages_MailAccountId_ServerKey",
                table: "FetchedMessages",
                columns: new[] { "MailAccountId", "ServerKey" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_MailAccounts_TokenSourceKind_TokenSourceId",
                table: "MailAccounts",
                columns: new[] { "TokenSourceKind", "TokenSourceId" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "FetchedMessages");

            migrationBuilder.DropTable(
                name: "MailAccounts");
        }
    }
}
