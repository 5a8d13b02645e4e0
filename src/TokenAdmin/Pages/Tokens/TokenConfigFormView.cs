namespace TokenAdmin.Pages.Tokens;

/// <summary>What the shared add/edit form renders.</summary>
public sealed record TokenConfigFormView(TokenConfigInput Input, IReadOnlyDictionary<string, string> Errors, bool HasClientSecret, bool HasPassword, TokenAdmin.Tokens.ClientCertificate? Certificate = null,
    TokenAdmin.Tokens.ServiceAccountKey? ServiceAccountKey = null);
