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
        {            migrationBuilder.AddColumn<int>(
                name: "FunctionalAccountId",
                table: "TokenStates",
                type: "INTEGER",
                nullable: true);
            migrationBuilder.AddColumn<DateTime>(
                name: "IdTokenExpiresAt",
                table: "TokenStates",
                type: "TEXT",
                nullable: true);
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

            // Note: edited by hand. As generated, making TokenConfigId nullable and adding the check constraint and the
            // foreign keys rebuilt TokenStates and AuthorizationRequests with "PRAGMA foreign_keys = 0" around the
            // rebuild; SQLite ignores that pragma inside a transaction, so EF Core split the migration into several
            // transactions and warned that a crash in between "would need to be reverted manually". Nothing refers to
            // these two tables, so the rebuild needs no pragma: below is the generated rebuild SQL, unchanged, in the
            // migration's one transaction. The resulting schema (sqlite_master) is the same, byte for byte.

            migrationBuilder.Sql("""
                CREATE TABLE "ef_temp_TokenStates" (
                    "Id" INTEGER NOT NULL CONSTRAINT "PK_TokenStates" PRIMARY KEY AUTOINCREMENT,
                    "AccessTokenExpiresAt" TEXT NULL,
                    "AccessTokenProtected" TEXT NULL,
                    "ConsecutiveFailures" INTEGER NOT NULL,
                    "FunctionalAccountId" INTEGER NULL,
                    "GrantedScope" TEXT NULL,
                    "IdTokenExpiresAt" TEXT NULL,
                    "IdTokenProtected" TEXT NULL,
                    "LastErrorAt" TEXT NULL,
                    "LastErrorCode" TEXT NULL,
                    "LastErrorDescription" TEXT NULL,
                    "LastRefreshAt" TEXT NULL,
                    "LeaseOwner" TEXT NULL,
                    "LeaseUntil" TEXT NULL,
                    "ObtainedAt" TEXT NULL,
                    "RefreshTokenExpiresAt" TEXT NULL,
                    "RefreshTokenExpiryEstimated" INTEGER NOT NULL,
                    "RefreshTokenProtected" TEXT NULL,
                    "RefreshTokenRevokedAt" TEXT NULL,
                    "TokenConfigId" INTEGER NULL,
                    "TokenType" TEXT NULL,
                    "Version" TEXT NOT NULL,
                    CONSTRAINT "CK_TokenStates_OneSource" CHECK (("TokenConfigId" IS NULL) <> ("FunctionalAccountId" IS NULL)),
                    CONSTRAINT "FK_TokenStates_FunctionalAccounts_FunctionalAccountId" FOREIGN KEY ("FunctionalAccountId") REFERENCES "FunctionalAccounts" ("Id") ON DELETE CASCADE,
                    CONSTRAINT "FK_TokenStates_TokenConfigs_TokenConfigId" FOREIGN KEY ("TokenConfigId") REFERENCES "TokenConfigs" ("Id") ON DELETE CASCADE
                );
                """);

            migrationBuilder.Sql("""
                INSERT INTO "ef_temp_TokenStates" ("Id", "AccessTokenExpiresAt", "AccessTokenProtected", "ConsecutiveFailures", "FunctionalAccountId", "GrantedScope", "IdTokenExpiresAt", "IdTokenProtected", "LastErrorAt", "LastErrorCode", "LastErrorDescription", "LastRefreshAt", "LeaseOwner", "LeaseUntil", "ObtainedAt", "RefreshTokenExpiresAt", "RefreshTokenExpiryEstimated", "RefreshTokenProtected", "RefreshTokenRevokedAt", "TokenConfigId", "TokenType", "Version")
                SELECT "Id", "AccessTokenExpiresAt", "AccessTokenProtected", "ConsecutiveFailures", "FunctionalAccountId", "GrantedScope", "IdTokenExpiresAt", "IdTokenProtected", "LastErrorAt", "LastErrorCode", "LastErrorDescription", "LastRefreshAt", "LeaseOwner", "LeaseUntil", "ObtainedAt", "RefreshTokenExpiresAt", "RefreshTokenExpiryEstimated", "RefreshTokenProtected", "RefreshTokenRevokedAt", "TokenConfigId", "TokenType", "Version"
                FROM "TokenStates";
                """);

            migrationBuilder.Sql("""
                CREATE TABLE "ef_temp_AuthorizationRequests" (
                    "Id" INTEGER NOT NULL CONSTRAINT "PK_AuthorizationRequests" PRIMARY KEY AUTOINCREMENT,
                    "AdminId" TEXT NOT NULL,
                    "BrowserBindingHash" TEXT NOT NULL,
                    "CodeVerifierProtected" TEXT NOT NULL,
                    "CreatedAt" TEXT NOT NULL,
                    "ExpiresAt" TEXT NOT NULL,
                    "FunctionalAccountId" INTEGER NULL,
                    "Nonce" TEXT NULL,
                    "RedirectUri" TEXT NOT NULL,
                    "StateHash" TEXT NOT NULL,
                    "TokenConfigId" INTEGER NULL,
                    "UsedAt" TEXT NULL,
                    CONSTRAINT "FK_AuthorizationRequests_FunctionalAccounts_FunctionalAccountId" FOREIGN KEY ("FunctionalAccountId") REFERENCES "FunctionalAccounts" ("Id") ON DELETE CASCADE,
                    CONSTRAINT "FK_AuthorizationRequests_TokenConfigs_TokenConfigId" FOREIGN KEY ("TokenConfigId") REFERENCES "TokenConfigs" ("Id") ON DELETE CASCADE
                );
                """);

            migrationBuilder.Sql("""
                INSERT INTO "ef_temp_AuthorizationRequests" ("Id", "AdminId", "BrowserBindingHash", "CodeVerifierProtected", "CreatedAt", "ExpiresAt", "FunctionalAccountId", "Nonce", "RedirectUri", "StateHash", "TokenConfigId", "UsedAt")
                SELECT "Id", "AdminId", "BrowserBindingHash", "CodeVerifierProtected", "CreatedAt", "ExpiresAt", "FunctionalAccountId", "Nonce", "RedirectUri", "StateHash", "TokenConfigId", "UsedAt"
                FROM "AuthorizationRequests";
                """);

            migrationBuilder.Sql("""
                DROP TABLE "TokenStates";
                """);

            migrationBuilder.Sql("""
                ALTER TABLE "ef_temp_TokenStates" RENAME TO "TokenStates";
                """);

            migrationBuilder.Sql("""
                DROP TABLE "AuthorizationRequests";
                """);

            migrationBuilder.Sql("""
                ALTER TABLE "ef_temp_AuthorizationRequests" RENAME TO "AuthorizationRequests";
                """);

            migrationBuilder.Sql("""
                CREATE UNIQUE INDEX "IX_TokenStates_FunctionalAccountId" ON "TokenStates" ("FunctionalAccountId");
                """);

            migrationBuilder.Sql("""
                CREATE UNIQUE INDEX "IX_TokenStates_TokenConfigId" ON "TokenStates" ("TokenConfigId");
                """);

            migrationBuilder.Sql("""
                CREATE INDEX "IX_AuthorizationRequests_ExpiresAt" ON "AuthorizationRequests" ("ExpiresAt");
                """);

            migrationBuilder.Sql("""
                CREATE INDEX "IX_AuthorizationRequests_FunctionalAccountId" ON "AuthorizationRequests" ("FunctionalAccountId");
                """);

            migrationBuilder.Sql("""
                CREATE UNIQUE INDEX "IX_AuthorizationRequests_StateHash" ON "AuthorizationRequests" ("StateHash");
                """);

            migrationBuilder.Sql("""
                CREATE INDEX "IX_AuthorizationRequests_TokenConfigId" ON "AuthorizationRequests" ("TokenConfigId");
                """);
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
