using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Tokens;

/// <summary>Token configs to seed, and the before/after view of an installation that export/import tests compare.</summary>
internal static class TokenTransferData
{
    public const string GoogleSecret = "google-client-secret-1f9a";
    public const string ArchiveSecret = "archive: \"secret\" #1 ~";
    public const string LegacyClientSecret = "legacy-client-secret-77";

    // Note: "null" read back as plain YAML would become no value at all; an export must keep it a string.
    public const string LegacyPassword = "null";

    public static string FixturePath(string name) => Path.Combine(AppContext.BaseDirectory, "Tokens", "Fixtures", name);

    public static TokenConfigDocument Google(string name = "Support mailbox")
    {
        var document = TokenTemplates.Find(TokenTemplates.GoogleMail)!.NewDocument();
        document.Name = name;
        document.ClientId = "402715590831-support.apps.googleusercontent.com";
        return document;
    }

    public static TokenConfigDocument Archive(string name = "Archive app")
    {
        var document = TokenTemplates.Find(TokenTemplates.Microsoft365ClientCredentials)!.NewDocument();
        document.Name = name;
        document.ClientId = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
        document.Tenant = "contoso.onmicrosoft.com";
        document.Valid = false;
        return document;
    }

    public static TokenConfigDocument Legacy(string name = "Legacy API")
    {
        var document = TokenTemplates.Find(TokenTemplates.Custom)!.NewDocument();
        document.Name = name;
        document.Flow = TokenFlows.Password;
        document.ClientId = "legacy-api";
        document.Username = "svc-tokenadmin";
        document.Scope = "api.read api.write";
        document.Endpoints = new TokenEndpoints { Token = "https://auth.example.com/oauth2/token" };
        document.Parameters.Token["resource"] = "https://api.example.com";
        return document;
    }

    /// <summary>The three configs above, with their secrets.</summary>
    public static async Task SeedAsync(TokenAdminFactory app)
    {
        await CreateAsync(app, Google(), new TokenConfigSecrets(GoogleSecret));
        await CreateAsync(app, Archive(), new TokenConfigSecrets(ArchiveSecret));
        await CreateAsync(app, Legacy(), new TokenConfigSecrets(LegacyClientSecret, LegacyPassword));
    }

    public static async Task CreateAsync(TokenAdminFactory app, TokenConfigDocument document, TokenConfigSecrets secrets)
    {
        using var scope = app.Services.CreateScope();
        var result = await scope.ServiceProvider.GetRequiredService<TokenConfigService>().CreateAsync(document, secrets, "test", CancellationToken.None);
        Assert.True(result.Succeeded, string.Join("; ", result.Errors.Select(e => $"{e.Key}: {e.Value}")));
    }

    public static async Task<TokenImportResult> ImportAsync(TokenAdminFactory app, string yaml, bool overwrite = false) =>
        await ImportAsync(app, Encoding.UTF8.GetBytes(yaml), overwrite);

    public static async Task<TokenImportResult> ImportAsync(TokenAdminFactory app, byte[] content, bool overwrite = false)
    {
        using var scope = app.Services.CreateScope();
        using var stream = new MemoryStream(content);
        return await TokenConfigTransfer.Create(scope.ServiceProvider).ImportAsync(stream, overwrite, "test", "import.yaml", CancellationToken.None);
    }

    public static async Task<TokenExportResult> ExportAsync(TokenAdminFactory app, bool includeSecrets, params string[] names)
    {
        using var scope = app.Services.CreateScope();
        return await TokenConfigTransfer.Create(scope.ServiceProvider).ExportAsync(names, includeSecrets, "test", CancellationToken.None);
    }

    /// <summary>Everything an import could change, per config, ordered by name; equal snapshots mean nothing changed.</summary>
    public static Task<List<string>> SnapshotAsync(TokenAdminFactory app) =>
        app.WithDbAsync(db => db.TokenConfigs.AsNoTracking().OrderBy(c => c.NormalizedName)
            .Select(c => $"{c.Name}|{c.Template}|{c.Flow}|{c.Valid}|{c.Version}|{c.ChangedAt:O}|{c.ClientSecretProtected}|{c.PasswordProtected}\n{c.Yaml}")
            .ToListAsync());

    public static async Task<(TokenConfig Config, TokenConfigDocument Document, string? ClientSecret, string? Password)> LoadAsync(TokenAdminFactory app, string name)
    {
        using var scope = app.Services.CreateScope();
        var service = scope.ServiceProvider.GetRequiredService<TokenConfigService>();
        var config = await service.FindByNameAsync(name, CancellationToken.None);
        Assert.NotNull(config);
        return (config, TokenConfigYaml.Parse(config.Yaml), service.ClientSecret(config), service.Password(config));
    }

    public static string Errors(TokenImportResult result) => string.Join("\n", result.Errors.Select(e => e.ToString()));
}
