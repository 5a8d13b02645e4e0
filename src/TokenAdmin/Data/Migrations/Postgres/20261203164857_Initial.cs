using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace TokenAdmin.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "AdminUsers",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    UserName = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    NormalizedUserName = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    PasswordHash = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    FailedSignIns = table.Column<int>(type: "integer", nullable: false),
                    LockedUntil = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    LastSignInAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    SecurityStamp = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Disabled = table.Column<bool>(type: "boolean", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AdminUsers", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "AlertChannels",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    Kind = table.Column<int>(type: "integer", nullable: false),
                    Target = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false),
                    SecretProtected = table.Column<string>(type: "text", nullable: true),
                    EventTypes = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: false),
                    Sources = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false),
                    Enabled = table.Column<bool>(type: "boolean", nullable: false),
                    DigestMode = table.Column<int>(type: "integer", nullable: false),
                    DigestAt = table.Column<TimeOnly>(type: "time without time zone", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    CreatedBy = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    ChangedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    ChangedBy = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Version = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AlertChannels", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "AlertEvents",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    EventId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Type = table.Column<string>(type: "character varying(60)", maxLength: 60, nullable: false),
                    SourceKind = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    SourceId = table.Column<int>(type: "integer", nullable: true),
                    SourceName = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    State = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    Message = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: false),
                    Link = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: true),
                    Details = table.Column<string>(type: "text", nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    DispatchedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AlertEvents", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "AuditEntries",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    At = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    Actor = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Action = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    Target = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    Details = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AuditEntries", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "CallLogEntries",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    At = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    Direction = table.Column<int>(type: "integer", nullable: false),
                    WebService = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    Invoker = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    Method = table.Column<string>(type: "character varying(10)", maxLength: 10, nullable: false),
                    Url = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: false),
                    StatusCode = table.Column<int>(type: "integer", nullable: true),
                    DurationMs = table.Column<long>(type: "bigint", nullable: false),
                    RequestHeaders = table.Column<string>(type: "text", nullable: false),
                    RequestBody = table.Column<string>(type: "text", nullable: true),
                    ResponseHeaders = table.Column<string>(type: "text", nullable: false),
                    ResponseBody = table.Column<string>(type: "text", nullable: true),
                    Error = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    Caller = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_CallLogEntries", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "DataProtectionKeys",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    FriendlyName = table.Column<string>(type: "text", nullable: true),
                    Xml = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DataProtectionKeys", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "MailAccounts",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Login = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Host = table.Column<string>(type: "character varying(253)", maxLength: 253, nullable: false),
                    Type = table.Column<int>(type: "integer", nullable: false),
                    Port = table.Column<int>(type: "integer", nullable: false),
                    Authentication = table.Column<int>(type: "integer", nullable: false),
                    PasswordProtected = table.Column<string>(type: "text", nullable: true),
                    TokenSourceKind = table.Column<int>(type: "integer", nullable: true),
                    TokenSourceId = table.Column<int>(type: "integer", nullable: true),
                    SaslMechanism = table.Column<int>(type: "integer", nullable: false),
                    ImapFolder = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    KeepOnServer = table.Column<bool>(type: "boolean", nullable: false),
                    GraphCloud = table.Column<int>(type: "integer", nullable: true),
                    GraphEndpoint = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: true),
                    MoveToFolder = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    GraphSyncLink = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    FetchIntervalMinutes = table.Column<int>(type: "integer", nullable: false),
                    MaxMessagesPerRun = table.Column<int>(type: "integer", nullable: false),
                    MaxMessageSizeKb = table.Column<int>(type: "integer", nullable: false),
                    Valid = table.Column<bool>(type: "boolean", nullable: false),
                    Comment = table.Column<string>(type: "character varying(250)", maxLength: 250, nullable: false),
                    LastFetchAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    LastFetchCount = table.Column<int>(type: "integer", nullable: true),
                    LastError = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    LastErrorAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    ConsecutiveFetchFailures = table.Column<int>(type: "integer", nullable: false),
                    AlertCondition = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    CreatedBy = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    ChangedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    ChangedBy = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Version = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_MailAccounts", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "OidcProfiles",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    NormalizedName = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    DiscoveryUrl = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false),
                    ClientId = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: false),
                    ClientSecretProtected = table.Column<string>(type: "text", nullable: true),
                    ClientSecretExpiresAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    DiscoveryCacheSeconds = table.Column<int>(type: "integer", nullable: false),
                    CaCertificatePath = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    ClientCertificatePath = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    ClientKeyPath = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    ClientKeyPasswordProtected = table.Column<string>(type: "text", nullable: true),
                    VerifyHostname = table.Column<bool>(type: "boolean", nullable: false),
                    VerifyCertificate = table.Column<bool>(type: "boolean", nullable: false),
                    UseNonce = table.Column<bool>(type: "boolean", nullable: false),
                    RandLength = table.Column<int>(type: "integer", nullable: false),
                    RandTtlSeconds = table.Column<int>(type: "integer", nullable: false),
                    LeewaySeconds = table.Column<int>(type: "integer", nullable: false),
                    UidClaim = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    RoleMapYaml = table.Column<string>(type: "text", nullable: true),
                    UserMapYaml = table.Column<string>(type: "text", nullable: true),
                    AcceptIncomingTokens = table.Column<bool>(type: "boolean", nullable: false),
                    IncomingOrder = table.Column<int>(type: "integer", nullable: false),
                    CreateApiUsers = table.Column<bool>(type: "boolean", nullable: false),
                    RestrictUserLogin = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true),
                    RestrictScope = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    RestrictAudience = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    RestrictAuthorizedParty = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    CreatedBy = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    ChangedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    ChangedBy = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Version = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_OidcProfiles", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "Settings",
                columns: table => new
                {
                    Name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    Value = table.Column<string>(type: "text", nullable: false),
                    ChangedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    ChangedBy = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Settings", x => x.Name);
                });

            migrationBuilder.CreateTable(
                name: "SetupTokens",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    TokenHash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    ExpiresAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    UsedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_SetupTokens", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "TokenConfigs",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    NormalizedName = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    Template = table.Column<string>(type: "character varying(60)", maxLength: 60, nullable: false),
                    Valid = table.Column<bool>(type: "boolean", nullable: false),
                    SharedThroughApi = table.Column<bool>(type: "boolean", nullable: false),
                    Flow = table.Column<string>(type: "character varying(30)", maxLength: 30, nullable: false),
                    Yaml = table.Column<string>(type: "text", nullable: false),
                    ExpiringSoonDays = table.Column<int>(type: "integer", nullable: false),
                    ClientSecretProtected = table.Column<string>(type: "text", nullable: true),
                    ClientSecretExpiresAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    PasswordProtected = table.Column<string>(type: "text", nullable: true),
                    CredentialExpiresAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    CreatedBy = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    ChangedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    ChangedBy = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Version = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Certificate_KeyId = table.Column<string>(type: "character varying(43)", maxLength: 43, nullable: true),
                    Certificate_KeyType = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: true),
                    Certificate_NotAfter = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    Certificate_Protected = table.Column<string>(type: "text", nullable: true),
                    Certificate_Subject = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    Certificate_Thumbprint = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: true),
                    ServiceAccountKey_ClientEmail = table.Column<string>(type: "character varying(320)", maxLength: 320, nullable: true),
                    ServiceAccountKey_PrivateKeyId = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    ServiceAccountKey_Protected = table.Column<string>(type: "text", nullable: true),
                    ServiceAccountKey_TokenUri = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_TokenConfigs", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "UpdaterRuns",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    StartedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    FinishedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    TriggeredBy = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Refreshed = table.Column<int>(type: "integer", nullable: false),
                    Failed = table.Column<int>(type: "integer", nullable: false),
                    Skipped = table.Column<int>(type: "integer", nullable: false),
                    Cancelled = table.Column<bool>(type: "boolean", nullable: false),
                    Details = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_UpdaterRuns", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "WebServices",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    NormalizedName = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    BaseUrl = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false),
                    Authentication = table.Column<int>(type: "integer", nullable: false),
                    BasicUserName = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    BasicPasswordProtected = table.Column<string>(type: "text", nullable: true),
                    TokenSourceKind = table.Column<int>(type: "integer", nullable: true),
                    TokenSourceId = table.Column<int>(type: "integer", nullable: true),
                    TokenType = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    AllowUnencrypted = table.Column<bool>(type: "boolean", nullable: false),
                    Enabled = table.Column<bool>(type: "boolean", nullable: false),
                    Comment = table.Column<string>(type: "character varying(250)", maxLength: 250, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    CreatedBy = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    ChangedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    ChangedBy = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Version = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    ConsecutiveCallFailures = table.Column<int>(type: "integer", nullable: false),
                    CallFailingSince = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    LastCallFailedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    LastCallError = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    AlertCondition = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_WebServices", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "AdminSessions",
                columns: table => new
                {
                    Id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    AdminUserId = table.Column<int>(type: "integer", nullable: true),
                    Subject = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    ExpiresAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AdminSessions", x => x.Id);
                    table.ForeignKey(
                        name: "FK_AdminSessions_AdminUsers_AdminUserId",
                        column: x => x.AdminUserId,
                        principalTable: "AdminUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "AlertDeliveries",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    AlertEventId = table.Column<long>(type: "bigint", nullable: false),
                    ChannelId = table.Column<int>(type: "integer", nullable: true),
                    ChannelName = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    Status = table.Column<int>(type: "integer", nullable: false),
                    Attempts = table.Column<int>(type: "integer", nullable: false),
                    NextAttemptAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    LeaseOwner = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    LeaseUntil = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    LastError = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    CompletedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AlertDeliveries", x => x.Id);
                    table.ForeignKey(
                        name: "FK_AlertDeliveries_AlertChannels_ChannelId",
                        column: x => x.ChannelId,
                        principalTable: "AlertChannels",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "FK_AlertDeliveries_AlertEvents_AlertEventId",
                        column: x => x.AlertEventId,
                        principalTable: "AlertEvents",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "FetchedMessages",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    MailAccountId = table.Column<int>(type: "integer", nullable: false),
                    ServerKey = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    MessageId = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    From = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: false),
                    Subject = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: false),
                    Date = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    Size = table.Column<long>(type: "bigint", nullable: false),
                    SpoolPath = table.Column<string>(type: "character varying(400)", maxLength: 400, nullable: false),
                    FetchedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    ParseError = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true)
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

            migrationBuilder.CreateTable(
                name: "ApiUsers",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Login = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    NormalizedLogin = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    OidcProfileId = table.Column<int>(type: "integer", nullable: true),
                    Email = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: true),
                    FirstName = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    LastName = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    DisplayName = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: true),
                    MappedRoles = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: false),
                    ManualRoles = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: false),
                    Valid = table.Column<bool>(type: "boolean", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    CreatedBy = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    ChangedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    ChangedBy = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    LastImportedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
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
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    NormalizedName = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    OidcProfileId = table.Column<int>(type: "integer", nullable: false),
                    GrantType = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    Scope = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false),
                    Username = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true),
                    PasswordProtected = table.Column<string>(type: "text", nullable: true),
                    Resources = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    ResourceParameterName = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    ResourcePerParameter = table.Column<bool>(type: "boolean", nullable: false),
                    TokenType = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    RefreshTokenLifetimeDays = table.Column<int>(type: "integer", nullable: true),
                    RefreshTokenSliding = table.Column<bool>(type: "boolean", nullable: false),
                    Valid = table.Column<bool>(type: "boolean", nullable: false),
                    SharedThroughApi = table.Column<bool>(type: "boolean", nullable: false),
                    ClientAuthentication = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    ClientAssertionAlgorithm = table.Column<string>(type: "character varying(10)", maxLength: 10, nullable: true),
                    ClientAssertionAudience = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: true),
                    AssertionSubject = table.Column<string>(type: "character varying(320)", maxLength: 320, nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    CreatedBy = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    ChangedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    ChangedBy = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Version = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Certificate_KeyId = table.Column<string>(type: "character varying(43)", maxLength: 43, nullable: true),
                    Certificate_KeyType = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: true),
                    Certificate_NotAfter = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    Certificate_Protected = table.Column<string>(type: "text", nullable: true),
                    Certificate_Subject = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    Certificate_Thumbprint = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: true),
                    ServiceAccountKey_ClientEmail = table.Column<string>(type: "character varying(320)", maxLength: 320, nullable: true),
                    ServiceAccountKey_PrivateKeyId = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    ServiceAccountKey_Protected = table.Column<string>(type: "text", nullable: true),
                    ServiceAccountKey_TokenUri = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    SignIn_DomainHint = table.Column<string>(type: "character varying(253)", maxLength: 253, nullable: true),
                    SignIn_LoginHint = table.Column<string>(type: "character varying(320)", maxLength: 320, nullable: true),
                    SignIn_Prompt = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: true)
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

            migrationBuilder.CreateTable(
                name: "Invokers",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    WebServiceId = table.Column<int>(type: "integer", nullable: false),
                    Name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    NormalizedName = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    Method = table.Column<string>(type: "character varying(10)", maxLength: 10, nullable: false),
                    Path = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false),
                    TimeoutSeconds = table.Column<int>(type: "integer", nullable: false),
                    Comment = table.Column<string>(type: "character varying(250)", maxLength: 250, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    CreatedBy = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    ChangedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    ChangedBy = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Version = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Invokers", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Invokers_WebServices_WebServiceId",
                        column: x => x.WebServiceId,
                        principalTable: "WebServices",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "WebServiceHeaders",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    WebServiceId = table.Column<int>(type: "integer", nullable: false),
                    Name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    Value = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: false),
                    Secret = table.Column<bool>(type: "boolean", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_WebServiceHeaders", x => x.Id);
                    table.ForeignKey(
                        name: "FK_WebServiceHeaders_WebServices_WebServiceId",
                        column: x => x.WebServiceId,
                        principalTable: "WebServices",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "AuthorizationRequests",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    StateHash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    TokenConfigId = table.Column<int>(type: "integer", nullable: true),
                    FunctionalAccountId = table.Column<int>(type: "integer", nullable: true),
                    CodeVerifierProtected = table.Column<string>(type: "text", nullable: false),
                    Nonce = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    RedirectUri = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false),
                    AdminId = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    BrowserBindingHash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    ExpiresAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    UsedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AuthorizationRequests", x => x.Id);
                    table.ForeignKey(
                        name: "FK_AuthorizationRequests_FunctionalAccounts_FunctionalAccountId",
                        column: x => x.FunctionalAccountId,
                        principalTable: "FunctionalAccounts",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
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
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    TokenConfigId = table.Column<int>(type: "integer", nullable: true),
                    FunctionalAccountId = table.Column<int>(type: "integer", nullable: true),
                    AccessTokenProtected = table.Column<string>(type: "text", nullable: true),
                    AccessTokenExpiresAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    TokenType = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: true),
                    GrantedScope = table.Column<string>(type: "text", nullable: true),
                    RefreshTokenProtected = table.Column<string>(type: "text", nullable: true),
                    RefreshTokenExpiresAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    RefreshTokenExpiryEstimated = table.Column<bool>(type: "boolean", nullable: false),
                    RefreshTokenRevokedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    IdTokenProtected = table.Column<string>(type: "text", nullable: true),
                    IdTokenExpiresAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    ObtainedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    LastRefreshAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    LastErrorCode = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    LastErrorDescription = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    LastErrorAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    ConsecutiveFailures = table.Column<int>(type: "integer", nullable: false),
                    FailingSince = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    AlertCondition = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: true),
                    Standing = table.Column<int>(type: "integer", nullable: false),
                    LeaseOwner = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    LeaseUntil = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    Version = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_TokenStates", x => x.Id);
                    table.CheckConstraint("CK_TokenStates_OneSource", "(\"TokenConfigId\" IS NULL) <> (\"FunctionalAccountId\" IS NULL)");
                    table.ForeignKey(
                        name: "FK_TokenStates_FunctionalAccounts_FunctionalAccountId",
                        column: x => x.FunctionalAccountId,
                        principalTable: "FunctionalAccounts",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_TokenStates_TokenConfigs_TokenConfigId",
                        column: x => x.TokenConfigId,
                        principalTable: "TokenConfigs",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_AdminSessions_AdminUserId",
                table: "AdminSessions",
                column: "AdminUserId");

            migrationBuilder.CreateIndex(
                name: "IX_AdminSessions_ExpiresAt",
                table: "AdminSessions",
                column: "ExpiresAt");

            migrationBuilder.CreateIndex(
                name: "IX_AdminUsers_NormalizedUserName",
                table: "AdminUsers",
                column: "NormalizedUserName",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_AlertChannels_Name",
                table: "AlertChannels",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_AlertDeliveries_AlertEventId_ChannelId",
                table: "AlertDeliveries",
                columns: new[] { "AlertEventId", "ChannelId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_AlertDeliveries_ChannelId",
                table: "AlertDeliveries",
                column: "ChannelId");

            migrationBuilder.CreateIndex(
                name: "IX_AlertDeliveries_Status_NextAttemptAt",
                table: "AlertDeliveries",
                columns: new[] { "Status", "NextAttemptAt" });

            migrationBuilder.CreateIndex(
                name: "IX_AlertEvents_CreatedAt",
                table: "AlertEvents",
                column: "CreatedAt");

            migrationBuilder.CreateIndex(
                name: "IX_AlertEvents_DispatchedAt",
                table: "AlertEvents",
                column: "DispatchedAt");

            migrationBuilder.CreateIndex(
                name: "IX_AlertEvents_EventId",
                table: "AlertEvents",
                column: "EventId",
                unique: true);

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
                name: "IX_AuditEntries_At",
                table: "AuditEntries",
                column: "At");

            migrationBuilder.CreateIndex(
                name: "IX_AuthorizationRequests_ExpiresAt",
                table: "AuthorizationRequests",
                column: "ExpiresAt");

            migrationBuilder.CreateIndex(
                name: "IX_AuthorizationRequests_FunctionalAccountId",
                table: "AuthorizationRequests",
                column: "FunctionalAccountId");

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
                name: "IX_CallLogEntries_At",
                table: "CallLogEntries",
                column: "At");

            migrationBuilder.CreateIndex(
                name: "IX_CallLogEntries_WebService_At",
                table: "CallLogEntries",
                columns: new[] { "WebService", "At" });

            migrationBuilder.CreateIndex(
                name: "IX_FetchedMessages_MailAccountId_ServerKey",
                table: "FetchedMessages",
                columns: new[] { "MailAccountId", "ServerKey" },
                unique: true);

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
                name: "IX_Invokers_WebServiceId_NormalizedName",
                table: "Invokers",
                columns: new[] { "WebServiceId", "NormalizedName" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_MailAccounts_TokenSourceKind_TokenSourceId",
                table: "MailAccounts",
                columns: new[] { "TokenSourceKind", "TokenSourceId" });

            migrationBuilder.CreateIndex(
                name: "IX_OidcProfiles_NormalizedName",
                table: "OidcProfiles",
                column: "NormalizedName",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_SetupTokens_TokenHash",
                table: "SetupTokens",
                column: "TokenHash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_TokenConfigs_CredentialExpiresAt",
                table: "TokenConfigs",
                column: "CredentialExpiresAt");

            migrationBuilder.CreateIndex(
                name: "IX_TokenConfigs_NormalizedName",
                table: "TokenConfigs",
                column: "NormalizedName",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_TokenStates_FunctionalAccountId",
                table: "TokenStates",
                column: "FunctionalAccountId",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_TokenStates_Standing_FailingSince",
                table: "TokenStates",
                columns: new[] { "Standing", "FailingSince" });

            migrationBuilder.CreateIndex(
                name: "IX_TokenStates_Standing_RefreshTokenExpiresAt",
                table: "TokenStates",
                columns: new[] { "Standing", "RefreshTokenExpiresAt" },
                filter: "\"RefreshTokenProtected\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_TokenStates_TokenConfigId",
                table: "TokenStates",
                column: "TokenConfigId",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_WebServiceHeaders_WebServiceId",
                table: "WebServiceHeaders",
                column: "WebServiceId");

            migrationBuilder.CreateIndex(
                name: "IX_WebServices_NormalizedName",
                table: "WebServices",
                column: "NormalizedName",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_WebServices_TokenSourceKind_TokenSourceId",
                table: "WebServices",
                columns: new[] { "TokenSourceKind", "TokenSourceId" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "AdminSessions");

            migrationBuilder.DropTable(
                name: "AlertDeliveries");

            migrationBuilder.DropTable(
                name: "ApiUsers");

            migrationBuilder.DropTable(
                name: "AuditEntries");

            migrationBuilder.DropTable(
                name: "AuthorizationRequests");

            migrationBuilder.DropTable(
                name: "CallLogEntries");

            migrationBuilder.DropTable(
                name: "DataProtectionKeys");

            migrationBuilder.DropTable(
                name: "FetchedMessages");

            migrationBuilder.DropTable(
                name: "Invokers");

            migrationBuilder.DropTable(
                name: "Settings");

            migrationBuilder.DropTable(
                name: "SetupTokens");

            migrationBuilder.DropTable(
                name: "TokenStates");

            migrationBuilder.DropTable(
                name: "UpdaterRuns");

            migrationBuilder.DropTable(
                name: "WebServiceHeaders");

            migrationBuilder.DropTable(
                name: "AdminUsers");

            migrationBuilder.DropTable(
                name: "AlertChannels");

            migrationBuilder.DropTable(
                name: "AlertEvents");

            migrationBuilder.DropTable(
                name: "MailAccounts");

            migrationBuilder.DropTable(
                name: "FunctionalAccounts");

            migrationBuilder.DropTable(
                name: "TokenConfigs");

            migrationBuilder.DropTable(
                name: "WebServices");

            migrationBuilder.DropTable(
                name: "OidcProfiles");
        }
    }
}
