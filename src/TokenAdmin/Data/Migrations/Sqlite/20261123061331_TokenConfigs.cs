using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TokenAdmin.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class TokenConfigs : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "TokenConfigs",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Name = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    NormalizedName = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    Template = table.Column<string>(type: "TEXT", maxLength: 60, nullable: false),
                    Valid = table.Column<bool>(type: "INTEGER", nullable: false),
                    Flow = table.Column<string>(type: "TEXT", maxLength: 30, nullable: false),
                    Yaml = table.Column<string>(type: "TEXT", nullable: false),
                    ExpiringSoonDays = table.Column<int>(type: "INTEGER", nullable: false),
                    ClientSecretProtected = table.Column<string>(type: "TEXT", nullable: true),
                    PasswordProtected = table.Column<string>(type: "TEXT", nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    CreatedBy = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    ChangedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    ChangedBy = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Version = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_TokenConfigs", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "AuthorizationRequests",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    StateHash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    TokenConfigId = table.Column<int>(type: "INTEGER", nullable: false),
                    CodeVerifierProtected = table.Column<string>(type: "TEXT", nullable: false),
                    Nonce = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    RedirectUri = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: false),
                    AdminId = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    BrowserBindingHash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    ExpiresAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    UsedAt = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AuthorizationRequests", x => x.Id);
                    table.ForeignKey(
                        name: "FK_AuthorizationRequests_TokenConfigs_TokenConfigId",
                        column: x => x.TokenConfigId,
                        principalTable: "TokenConfigs",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "TokenStates",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    TokenConfigId = table.Column<int>(type: "INTEGER", nullable: false),
                    AccessTokenProtected = table.Column<string>(type: "TEXT", nullable: true),
                    AccessTokenExpiresAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    TokenType = table.Column<string>(type: "TEXT", maxLength: 40, nullable: true),
                    GrantedScope = table.Column<string>(type: "TEXT", nullable: true),
                    RefreshTokenProtected = table.Column<string>(type: "TEXT", nullable: true),
                    RefreshTokenExpiresAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    RefreshTokenExpiryEstimated = table.Column<bool>(type: "INTEGER", nullable: false),
                    RefreshTokenRevokedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    IdTokenProtected = table.Column<string>(type: "TEXT", nullable: true),
                    ObtainedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    LastRefreshAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    LastErrorCode = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    LastErrorDescription = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true),
                    LastErrorAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    ConsecutiveFailures = table.Column<int>(type: "INTEGER", nullable: false),
                    Version = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_TokenStates", x => x.Id);
                    table.ForeignKey(
                        name: "FK_TokenStates_TokenConfigs_TokenConfigId",
                        column: x => x.TokenConfigId,
                        principalTable: "TokenConfigs",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_AuthorizationRequests_ExpiresAt",
                table: "AuthorizationRequests",
                column: "ExpiresAt");

            migrationBuilder.CreateIndex(
                name: "IX_AuthorizationRequests_StateHash",
                table: "AuthorizationRequests",
                column: "StateHash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_AuthorizationRequests_TokenConfigId",
                table: "AuthorizationRequests",
                column: "TokenConfigId");

            migrationBuilder.CreateIndex(
                name: "IX_TokenConfigs_NormalizedName",
                table: "TokenConfigs",
                column: "NormalizedName",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_TokenStates_TokenConfigId",
                table: "TokenStates",
                column: "TokenConfigId",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "AuthorizationRequests");

            migrationBuilder.DropTable(
                name: "TokenStates");

            migrationBuilder.DropTable(
                name: "TokenConfigs");
        }
    }
}
