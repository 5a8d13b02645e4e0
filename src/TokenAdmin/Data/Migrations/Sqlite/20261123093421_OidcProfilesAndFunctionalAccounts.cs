using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TokenAdmin.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class OidcProfilesAndFunctionalAccounts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AlterColumn<int>(
                name: "TokenConfigId",
                table: "TokenStates",
                type: "INTEGER",
                nullable: true,
                oldClrType: typeof(int),
                oldType: "INTEGER");

            migrationBuilder.AddColumn<int>(
                name: "FunctionalAccountId",
                table: "TokenStates",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "IdTokenExpiresAt",
                table: "TokenStates",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AlterColumn<int>(
                name: "TokenConfigId",
                table: "AuthorizationRequests",
                type: "INTEGER",
                nullable: true,
                oldClrType: typeof(int),
                oldType: "INTEGER");

            migrationBuilder.AddColumn<int>(
                name: "FunctionalAccountId",
                table: "AuthorizationRequests",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "OidcProfiles",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Name = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    NormalizedName = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    DiscoveryUrl = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: false),
                    ClientId = table.Column<string>(type: "TEXT", maxLength: 500, nullable: false),
                    ClientSecretProtected = table.Column<string>(type: "TEXT", nullable: true),
                    DiscoveryCacheSeconds = table.Column<int>(type: "INTEGER", nullable: false),
                    CaCertificatePath = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true),
                    ClientCertificatePath = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true),
                    ClientKeyPath = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true),
                    ClientKeyPasswordProtected = table.Column<string>(type: "TEXT", nullable: true),
                    VerifyHostname = table.Column<bool>(type: "INTEGER", nullable: false),
                    VerifyCertificate = table.Column<bool>(type: "INTEGER", nullable: false),
                    UseNonce = table.Column<bool>(type: "INTEGER", nullable: false),
                    RandLength = table.Column<int>(type: "INTEGER", nullable: false),
                    RandTtlSeconds = table.Column<int>(type: "INTEGER", nullable: false),
                    LeewaySeconds = table.Column<int>(type: "INTEGER", nullable: false),
                    UidClaim = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    RoleMapYaml = table.Column<string>(type: "TEXT", nullable: true),
                    UserMapYaml = table.Column<string>(type: "TEXT", nullable: true),
                    AcceptIncomingTokens = table.Column<bool>(type: "INTEGER", nullable: false),
                    IncomingOrder = table.Column<int>(type: "INTEGER", nullable: false),
                    RestrictUserLogin = table.Column<string>(type: "TEXT", maxLength: 500, nullable: true),
                    RestrictScope = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true),
                    RestrictAudience = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true),
                    RestrictAuthorizedParty = table.Column<string>(type: "TEXT", maxLength: 500, nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    CreatedBy = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    ChangedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    ChangedBy = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Version = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_OidcProfiles", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "ApiUsers",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Login = table.Column<string>(type: "TEXT", maxLength: 300, nullable: false),
                    NormalizedLogin = table.Column<string>(type: "TEXT", maxLength: 300, nullable: false),
                    OidcProfileId = table.Column<int>(type: "INTEGER", nullable: true),
                    Email = table.Column<string>(type: "TEXT", maxLength: 300, nullable: true),
                    FirstName = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    LastName = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    DisplayName = table.Column<string>(type: "TEXT", maxLength: 300, nullable: true),
                    MappedRoles = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: false),
                    ManualRoles = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: false),
                    Valid = table.Column<bool>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    CreatedBy = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    ChangedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    ChangedBy = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    LastImportedAt = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ApiUsers", x => x.Id);
                    table.ForeignKey(
                        name: "FK_ApiUsers_OidcProfiles_OidcProfileId",
                        column: x => x.OidcProfileId,
                        principalTable: "OidcProfiles",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                });

            migrationBuilder.CreateTable(
                name: "FunctionalAccounts",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Name = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    NormalizedName = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    OidcProfileId = table.Column<int>(type: "INTEGER", nullable: false),
                    GrantType = table.Column<string>(type: "TEXT", maxLength: 40, nullable: false),
                    Scope = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: false),
                    Username = table.Column<string>(type: "TEXT", maxLength: 500, nullable: true),
                    PasswordProtected = table.Column<string>(type: "TEXT", nullable: true),
                    Resources = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true),
                    ResourceParameterName = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    ResourcePerParameter = table.Column<bool>(type: "INTEGER", nullable: false),
                    TokenType = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    Valid = table.Column<bool>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    CreatedBy = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    ChangedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    ChangedBy = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Version = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_FunctionalAccounts", x => x.Id);
                    table.ForeignKey(
                        name: "FK_FunctionalAccounts_OidcProfiles_OidcProfileId",
                        column: x => x.OidcProfileId,
                        principalTable: "OidcProfiles",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateIndex(
                name: "IX_TokenStates_FunctionalAccountId",
                table: "TokenStates",
                column: "FunctionalAccountId",
                unique: true);

            migrationBuilder.AddCheckConstraint(
                name: "CK_TokenStates_OneSource",
                table: "TokenStates",
                sql: "(\"TokenConfigId\" IS NULL) <> (\"FunctionalAccountId\" IS NULL)");

            migrationBuilder.CreateIndex(
                name: "IX_AuthorizationRequests_FunctionalAccountId",
                table: "AuthorizationRequests",
                column: "FunctionalAccountId");

            migrationBuilder.CreateIndex(
                name: "IX_ApiUsers_NormalizedLogin",
                table: "ApiUsers",
                column: "NormalizedLogin",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_ApiUsers_OidcProfileId",
                table: "ApiUsers",
                column: "OidcProfileId");

            migrationBuilder.CreateIndex(
                name: "IX_FunctionalAccounts_NormalizedName",
                table: "FunctionalAccounts",
                column: "NormalizedName",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_FunctionalAccounts_OidcProfileId",
                table: "FunctionalAccounts",
                column: "OidcProfileId");

            migrationBuilder.CreateIndex(
                name: "IX_OidcProfiles_NormalizedName",
                table: "OidcProfiles",
                column: "NormalizedName",
                unique: true);

            migrationBuilder.AddForeignKey(
                name: "FK_AuthorizationRequests_FunctionalAccounts_FunctionalAccountId",
                table: "AuthorizationRequests",
                column: "FunctionalAccountId",
                principalTable: "FunctionalAccounts",
                principalColumn: "Id",
                onDelete: ReferentialAction.Cascade);

            migrationBuilder.AddForeignKey(
                name: "FK_TokenStates_FunctionalAccounts_FunctionalAccountId",
                table: "TokenStates",
                column: "FunctionalAccountId",
                principalTable: "FunctionalAccounts",
                principalColumn: "Id",
                onDelete: ReferentialAction.Cascade);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_AuthorizationRequests_FunctionalAccounts_FunctionalAccountId",
                table: "AuthorizationRequests");

            migrationBuilder.DropForeignKey(
                name: "FK_TokenStates_FunctionalAccounts_FunctionalAccountId",
                table: "TokenStates");

            migrationBuilder.DropTable(
                name: "ApiUsers");

            migrationBuilder.DropTable(
                name: "FunctionalAccounts");

            migrationBuilder.DropTable(
                name: "OidcProfiles");

            migrationBuilder.DropIndex(
                name: "IX_TokenStates_FunctionalAccountId",
                table: "TokenStates");

            migrationBuilder.DropCheckConstraint(
                name: "CK_TokenStates_OneSource",
                table: "TokenStates");

            migrationBuilder.DropIndex(
                name: "IX_AuthorizationRequests_FunctionalAccountId",
                table: "AuthorizationRequests");

            migrationBuilder.DropColumn(
                name: "FunctionalAccountId",
                table: "TokenStates");

            migrationBuilder.DropColumn(
                name: "IdTokenExpiresAt",
                table: "TokenStates");

            migrationBuilder.DropColumn(
                name: "FunctionalAccountId",
                table: "AuthorizationRequests");

            migrationBuilder.AlterColumn<int>(
                name: "TokenConfigId",
                table: "TokenStates",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0,
                oldClrType: typeof(int),
                oldType: "INTEGER",
                oldNullable: true);

            migrationBuilder.AlterColumn<int>(
                name: "TokenConfigId",
                table: "AuthorizationRequests",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0,
                oldClrType: typeof(int),
                oldType: "INTEGER",
                oldNullable: true);
        }
    }
}
