using TokenAdmin.FunctionalAccounts;
using Flows = TokenAdmin.Tokens.TokenFlows;

namespace TokenAdmin.Pages.Forms;

/// <summary>
/// One grant (flow) a form offers: the words the admin reads instead of the enum name, and which groups of fields it
/// needs. The forms show a field group for the grants that need it (data-when, site.js; without the script the server
/// renders the chosen grant's fields and "Show the fields" re-renders after a change). A new grant is one more line
/// in <see cref="GrantChoices.TokenFlows"/> or <see cref="GrantChoices.AccountGrants"/>.
/// </summary>
/// <param name="SignIn">A person signs in at the provider: authorization endpoint, prompt, login and domain hint.</param>
/// <param name="UserPassword">The user's name and password are sent (resource owner password).</param>
/// <param name="RefreshToken">The provider hands out refresh tokens: refresh endpoint and lifetime fields.</param>
/// <param name="ClientSecret">The client authenticates with a secret (not a signed assertion of its own).</param>
/// <param name="Assertion">The JWT bearer grant: the service account key and the mailbox to act as.</param>
/// <param name="Device">The device authorization grant: a person enters a code at the provider; its device authorization endpoint.</param>
public sealed record GrantChoice(string Value, string Text, bool SignIn = false, bool UserPassword = false, bool RefreshToken = false, bool ClientSecret = true, bool Assertion = false, bool Device = false);

public static class GrantChoices
{
    /// <summary>The flows of a token config.</summary>
    public static readonly IReadOnlyList<GrantChoice> TokenFlows =
    [
        new(Flows.AuthorizationCode, "Authorization code (a person signs in at the provider)", SignIn: true, RefreshToken: true),
        new(Flows.ClientCredentials, "Client credentials (the application itself, no person)"),
        new(Flows.Password, "Password (a user's name and password, legacy)", UserPassword: true, RefreshToken: true),
        new(Flows.JwtBearer, "JWT bearer (a service account acting for a mailbox)", ClientSecret: false, Assertion: true),
        new(Flows.DeviceCode, "Device code (a person signs in on any device with a code)", RefreshToken: true, Device: true),
    ];

    /// <summary>The grant types of a functional account.</summary>
    public static readonly IReadOnlyList<GrantChoice> AccountGrants =
    [
        new(AccountGrantTypes.ClientCredentials, "Client credentials (the application itself, no person)"),
        new(AccountGrantTypes.Password, "Password (a user's name and password, legacy)", UserPassword: true, RefreshToken: true),
        new(AccountGrantTypes.AuthorizationCode, "Authorization code (a person signs in at the provider)", SignIn: true, RefreshToken: true),
        new(AccountGrantTypes.JwtBearer, "JWT bearer (a service account acting for a mailbox)", ClientSecret: false, Assertion: true),
        new(AccountGrantTypes.DeviceCode, "Device code (a person signs in on any device with a code)", RefreshToken: true, Device: true),
    ];

    /// <summary>The data-when value of a field group: the grants that need it, space-separated.</summary>
    public static string When(this IReadOnlyList<GrantChoice> choices, Func<GrantChoice, bool> needs) =>
        string.Join(' ', choices.Where(needs).Select(c => c.Value));

    /// <summary>Whether the chosen grant needs the group (an unknown grant shows everything, so nothing is hidden by a typo).</summary>
    public static bool Needs(this IReadOnlyList<GrantChoice> choices, string? chosen, Func<GrantChoice, bool> needs) =>
        choices.FirstOrDefault(c => c.Value == chosen) is not { } choice || needs(choice);

    /// <summary>The words for a grant in lists and messages; the value itself when it is not known.</summary>
    public static string Describe(this IReadOnlyList<GrantChoice> choices, string? value) =>
        choices.FirstOrDefault(c => c.Value == value) is { } choice ? choice.Text[..(choice.Text.IndexOf(" (", StringComparison.Ordinal) is var at and > 0 ? at : choice.Text.Length)] : value ?? "";
}
