using Microsoft.AspNetCore.Mvc.ModelBinding;
using TokenAdmin.Tokens;

namespace TokenAdmin.Pages.Tokens;

/// <summary>What the shared add/edit form renders: the input, the template (fixed once saved) and what is stored.</summary>
public sealed record TokenConfigFormView(TokenConfigInput Input, TokenTemplate? Template, bool HasClientSecret, bool HasPassword, ClientCertificate? Certificate = null,
    ServiceAccountKey? ServiceAccountKey = null)
{
    private TokenConfigDocument? TemplateConfig => Template?.Config;

    /// <summary>The template's endpoints name a tenant (Microsoft): the Tenant field applies.</summary>
    public bool UsesTenant => Template is null || Template.Id == TokenTemplates.Custom
        || new[] { TemplateConfig!.Endpoints.Authorization, TemplateConfig.Endpoints.Token, TemplateConfig.Issuer }.Any(u => u?.Contains("{tenant}", StringComparison.Ordinal) == true);

    /// <summary>The endpoints come from a discovery document (the OpenID Connect template).</summary>
    public bool UsesDiscovery => Template?.Id == TokenTemplates.Oidc;

    /// <summary>Microsoft's own sign-in parameter (domain_hint) applies to its templates and to hand-written ones.</summary>
    public bool UsesDomainHint => Template is null || Template.Id is TokenTemplates.Custom or TokenTemplates.Oidc || UsesTenant;

    public static void ForgetSecrets(ModelStateDictionary modelState, TokenConfigInput input)
    {
        input.ForgetSecrets();
        modelState.ForgetValues("Input.ClientSecret", "Input.Password", "Input.ClientCertificatePassword");
    }

    /// <summary>The validator's and the service's messages next to their fields, each naming the field by its label.</summary>
    public static void AddErrors(ModelStateDictionary modelState, IEnumerable<KeyValuePair<string, string>> errors, IModelMetadataProvider metadata) =>
        modelState.AddLabelledErrors(errors, TokenConfigInput.FieldOf, metadata, typeof(TokenConfigInput));
}
