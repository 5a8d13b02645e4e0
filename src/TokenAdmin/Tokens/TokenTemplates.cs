namespace TokenAdmin.Tokens;

/// <summary>A shipped starting point for a token config (Templates/*.yaml, embedded).</summary>
public sealed class TokenTemplate
{
    public string Id { get; set; } = "";
    public string DisplayName { get; set; } = "";
    public string Description { get; set; } = "";
    public TokenConfigDocument Config { get; set; } = new();

    /// <summary>A new document from this template; the caller fills in name and client.</summary>
    public TokenConfigDocument NewDocument()
    {
        var document = Config.Clone();
        document.Template = Id;
        return document;
    }
}

public static class TokenTemplates
{
    public const string GoogleMail = "GoogleMail";
    public const string GoogleServiceAccount = "GoogleServiceAccount";
    public const string MicrosoftExchangeOnline = "MicrosoftExchangeOnline";
    public const string Microsoft365ClientCredentials = "Microsoft365ClientCredentials";
    public const string MicrosoftExchangeOnlineAppOnly = "MicrosoftExchangeOnlineAppOnly";
    public const string Oidc = "Oidc";
    public const string Custom = "Custom";

    private static readonly string[] Order = [GoogleMail, GoogleServiceAccount, MicrosoftExchangeOnline, MicrosoftExchangeOnlineAppOnly, Microsoft365ClientCredentials, Oidc, Custom];

    public static IReadOnlyList<TokenTemplate> All { get; } = Load();

    public static TokenTemplate? Find(string? id) => All.FirstOrDefault(t => string.Equals(t.Id, id, StringComparison.Ordinal));

    private static List<TokenTemplate> Load()
    {
        var assembly = typeof(TokenTemplates).Assembly;
        return Order.Select(id =>
        {
            using var stream = assembly.GetManifestResourceStream($"Templates.{id}.yaml")
                ?? throw new InvalidOperationException($"The template {id} is not embedded.");
            using var reader = new StreamReader(stream);
            var template = TokenConfigYaml.Read<TokenTemplate>(reader.ReadToEnd())!;
            template.Config.Template = template.Id;
            return template;
        }).ToList();
    }
}
