using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Admin;
using TokenAdmin.Data;
using TokenAdmin.Secrets;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.WebServices;

/// <summary>What an admin enters for a web service. The basic password and secret header values are write-only.</summary>
public sealed class WebServiceInput
{
    /// <summary>What a stored secret header value is shown as; sent back unchanged it keeps the stored value.</summary>
    public const string SecretMask = "********";

    [Required(ErrorMessage = "{0} is required.")]
    [Display(Name = "Name")]
    public string Name { get; set; } = "";
    [Required(ErrorMessage = "{0} is required.")]
    [Display(Name = "Base URL")]
    public string BaseUrl { get; set; } = "";
    [Display(Name = "Authentication")]
    public WebServiceAuthentication Authentication { get; set; }
    [Display(Name = "User name")]
    public string? BasicUserName { get; set; }
    /// <summary>Empty keeps the stored password.</summary>
    [Display(Name = "Password")]
    public string? BasicPassword { get; set; }
    /// <summary>"TokenConfig:12" or "FunctionalAccount:3".</summary>
    [Display(Name = "Token source")]
    public string? TokenSource { get; set; }
    [Display(Name = "Token type")]
    public string TokenType { get; set; } = WebServiceTokenTypes.AccessToken;
    /// <summary>Consent to send the credential over plain http to another machine (audited, shown in red).</summary>
    [Display(Name = "Allow unencrypted")]
    public bool AllowUnencrypted { get; set; }
    /// <summary>One "Name: value" per line.</summary>
    [Display(Name = "Headers")]
    public string? Headers { get; set; }
    /// <summary>One "Name: value" per line; a value of <see cref="SecretMask"/> keeps the stored one.</summary>
    [Display(Name = "Secret headers")]
    public string? SecretHeaders { get; set; }
    [Display(Name = "Enabled")]
    public bool Enabled { get; set; } = true;
    [Display(Name = "Comment")]
    public string? Comment { get; set; }

    public static WebServiceInput From(WebService w) => new()
    {
        Name = w.Name,
        BaseUrl = w.BaseUrl,
        Authentication = w.Authentication,
        BasicUserName = w.BasicUserName,
        TokenSource = w.TokenSource is { } s ? s.Key : null,
        TokenType = w.TokenType,
        AllowUnencrypted = w.AllowUnencrypted,
        Headers = string.Join("\n", w.Headers.Where(h => !h.Secret).Select(h => $"{h.Name}: {h.Value}")),
        SecretHeaders = string.Join("\n", w.Headers.Where(h => h.Secret).Select(h => $"{h.Name}: {SecretMask}")),
        Enabled = w.Enabled,
        Comment = w.Comment,
    };
}

public sealed class InvokerInput
{
    [Required(ErrorMessage = "{0} is required.")]
    [Display(Name = "Name")]
    public string Name { get; set; } = "";
    [Display(Name = "HTTP method")]
    public string Method { get; set; } = "POST";
    [Display(Name = "Path")]
    public string Path { get; set; } = "";
    /// <summary>Empty: <see cref="Invoker.DefaultTimeoutSeconds"/>.</summary>
    [Display(Name = "Timeout (seconds)")]
    public int? TimeoutSeconds { get; set; }
    [Display(Name = "Comment")]
    public string? Comment { get; set; }

    public static InvokerInput From(Invoker i) => new() { Name = i.Name, Method = i.Method, Path = i.Path, TimeoutSeconds = i.TimeoutSeconds, Comment = i.Comment };
}

public sealed record WebServiceSaveResult(Dictionary<string, string> Errors, int Id = 0, string Name = "")
{
    public bool Succeeded => Errors.Count == 0;
    public static WebServiceSaveResult Fail(string field, string message) => new(new Dictionary<string, string> { [field] = message });
}

/// <summary>Creates, changes and deletes web services and their invokers: validated, audited, secrets encrypted.</summary>
public sealed partial class WebServiceService(TokenAdminDb db, TokenSourcePicker sources, ISecretProtector protector, TimeProvider time)
{
    public static readonly IReadOnlyList<string> Methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];

    private static readonly HashSet<string> ReservedHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Authorization", "Proxy-Authorization", "Host", "Content-Length", "Transfer-Encoding", "Connection", "Cookie", "Expect", "Upgrade",
    };

    public Task<List<WebService>> ListAsync(CancellationToken cancellationToken) =>
        db.WebServices.AsNoTracking().Include(w => w.Invokers).OrderBy(w => w.Name).ToListAsync(cancellationToken);

    public Task<WebService?> FindAsync(int id, CancellationToken cancellationToken) =>
        db.WebServices.AsNoTracking().Include(w => w.Headers).Include(w => w.Invokers).AsSplitQuery().SingleOrDefaultAsync(w => w.Id == id, cancellationToken);

    public Task<WebService?> FindByNameAsync(string name, CancellationToken cancellationToken) =>
        db.WebServices.AsNoTracking().Include(w => w.Headers).Include(w => w.Invokers).AsSplitQuery()
            .SingleOrDefaultAsync(w => w.NormalizedName == WebService.Normalize(name), cancellationToken);

    public Task<Invoker?> FindInvokerAsync(int id, CancellationToken cancellationToken) =>
        db.Invokers.AsNoTracking().Include(i => i.WebService).SingleOrDefaultAsync(i => i.Id == id, cancellationToken);

    /// <summary>
    /// The secrets a web service sends (basic password, secret header values, its current bearer token), so a page
    /// showing a remote answer can mask them wherever the remote side echoes them.
    /// </summary>
    public async Task<IReadOnlyList<string>> SentSecretsAsync(int webServiceId, ITokenProvider tokens, CancellationToken cancellationToken)
    {
        var service = await FindAsync(webServiceId, cancellationToken);
        if (service is null)
        {
            return [];
        }

        var headers = new List<KeyValuePair<string, string>>();
        try
        {
            if (service.BasicPasswordProtected is { } password)
            {
                headers.Add(new("Authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{service.BasicUserName}:{protector.Unprotect(password)}"))));
            }

            headers.AddRange(service.Headers.Where(h => h.Secret).Select(h => new KeyValuePair<string, string>(h.Name, protector.Unprotect(h.Value))));
            if (service.TokenSource is { } source)
            {
                headers.Add(new("Authorization", (await tokens.GetTokenAsync(source, cancellationToken)).AuthorizationHeader));
            }
        }
        catch (Exception ex) when (ex is SecretUnreadableException or TokenUnavailableException)
        {
            // Nothing more to mask: what cannot be read was not sent either.
        }

        return CallRedaction.KnownSecrets(headers, service.Headers.Where(h => h.Secret).Select(h => h.Name).ToHashSet(StringComparer.OrdinalIgnoreCase));
    }

    /// <summary>Token configs and functional accounts a web service may take its bearer token from.</summary>
    public Task<IReadOnlyList<(string Value, string Name)>> TokenSourcesAsync(CancellationToken cancellationToken) => sources.ChoicesAsync(cancellationToken);

    public async Task<WebServiceSaveResult> CreateAsync(WebServiceInput input, string actor, CancellationToken cancellationToken)
    {
        var (errors, headers) = await ValidateAsync(input, null, cancellationToken);
        if (errors.Count > 0)
        {
            return new WebServiceSaveResult(errors);
        }

        var now = time.GetUtcNow().UtcDateTime;
        var service = new WebService { CreatedAt = now, CreatedBy = actor };
        Apply(service, input, headers, actor, now);
        db.WebServices.Add(service);
        AuditLog.Add(db, time, actor, "web-service.created", service.Name, Describe(service));
        AuditUnencrypted(service, false, actor);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            return WebServiceSaveResult.Fail(nameof(input.Name), $"A web service named {service.Name} was added at the same moment. Choose another name.");
        }

        return new WebServiceSaveResult([], service.Id, service.Name);
    }

    public async Task<WebServiceSaveResult> UpdateAsync(int id, string version, WebServiceInput input, string actor, CancellationToken cancellationToken)
    {
        var service = await db.WebServices.Include(w => w.Headers).Include(w => w.Invokers).AsSplitQuery().SingleOrDefaultAsync(w => w.Id == id, cancellationToken);
        if (service is null)
        {
            return WebServiceSaveResult.Fail("", "This web service no longer exists.");
        }

        if (service.Version != version)
        {
            return WebServiceSaveResult.Fail("", $"{service.ChangedBy} changed this web service at {service.ChangedAt:yyyy-MM-dd HH:mm:ss} UTC while you were editing. Reload it and make your change again.");
        }

        var (errors, headers) = await ValidateAsync(input, service, cancellationToken);
        if (errors.Count > 0)
        {
            return new WebServiceSaveResult(errors);
        }

        var before = Describe(service);
        var wasAllowed = service.AllowUnencrypted;
        var passwordChanged = !string.IsNullOrEmpty(input.BasicPassword);
        Apply(service, input, headers, actor, time.GetUtcNow().UtcDateTime);
        AuditUnencrypted(service, wasAllowed, actor);
        var after = Describe(service);
        AuditLog.Add(db, time, actor, "web-service.updated", service.Name,
            (before == after ? "" : $"{before} → {after}") + (passwordChanged ? " (password changed)" : ""));
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            return WebServiceSaveResult.Fail("", "Someone changed this web service at the same moment. Reload it and make your change again.");
        }
        catch (DbUpdateException)
        {
            return WebServiceSaveResult.Fail(nameof(input.Name), $"A web service named {service.Name} exists already. Choose another name.");
        }

        return new WebServiceSaveResult([], service.Id, service.Name);
    }

    /// <summary>Refused while the web service has invokers: deleting it would silently break whoever calls them.</summary>
    /// <summary>What still hangs on the web service (its invokers, which other systems may call), named for the delete page.</summary>
    public static IReadOnlyList<string> Uses(WebService service) =>
        service.Invokers.Select(i => i.Name).Order(StringComparer.Ordinal).Select(n => $"invoker '{n}'").ToList();

    public async Task<(bool Deleted, string Message)> DeleteAsync(int id, string actor, CancellationToken cancellationToken)
    {
        var service = await db.WebServices.Include(w => w.Invokers).SingleOrDefaultAsync(w => w.Id == id, cancellationToken);
        if (service is null)
        {
            return (false, "This web service no longer exists.");
        }

        if (service.Invokers.Count > 0)
        {
            return (false, $"Web service {service.Name} still has {service.Invokers.Count} invoker(s): {string.Join(", ", service.Invokers.Select(i => i.Name).Order(StringComparer.Ordinal))}. Delete them first.");
        }

        db.WebServices.Remove(service);
        AuditLog.Add(db, time, actor, "web-service.deleted", service.Name);
        await db.SaveChangesAsync(cancellationToken);
        return (true, $"Web service {service.Name} deleted.");
    }

    public async Task<WebServiceSaveResult> CreateInvokerAsync(int webServiceId, InvokerInput input, string actor, CancellationToken cancellationToken)
    {
        var service = await db.WebServices.SingleOrDefaultAsync(w => w.Id == webServiceId, cancellationToken);
        if (service is null)
        {
            return WebServiceSaveResult.Fail("", "This web service no longer exists.");
        }

        var errors = await ValidateInvokerAsync(input, service, null, cancellationToken);
        if (errors.Count > 0)
        {
            return new WebServiceSaveResult(errors);
        }

        var now = time.GetUtcNow().UtcDateTime;
        var invoker = new Invoker { WebServiceId = service.Id, CreatedAt = now, CreatedBy = actor };
        Apply(invoker, input, actor, now);
        db.Invokers.Add(invoker);
        AuditLog.Add(db, time, actor, "invoker.created", $"{service.Name}/{invoker.Name}", Describe(invoker));
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            return WebServiceSaveResult.Fail(nameof(input.Name), $"An invoker named {invoker.Name} was added at the same moment. Choose another name.");
        }

        return new WebServiceSaveResult([], invoker.Id, invoker.Name);
    }

    public async Task<WebServiceSaveResult> UpdateInvokerAsync(int id, string version, InvokerInput input, string actor, CancellationToken cancellationToken)
    {
        var invoker = await db.Invokers.Include(i => i.WebService).SingleOrDefaultAsync(i => i.Id == id, cancellationToken);
        if (invoker is null)
        {
            return WebServiceSaveResult.Fail("", "This invoker no longer exists.");
        }

        if (invoker.Version != version)
        {
            return WebServiceSaveResult.Fail("", $"{invoker.ChangedBy} changed this invoker at {invoker.ChangedAt:yyyy-MM-dd HH:mm:ss} UTC while you were editing. Reload it and make your change again.");
        }

        var errors = await ValidateInvokerAsync(input, invoker.WebService!, invoker.Id, cancellationToken);
        if (errors.Count > 0)
        {
            return new WebServiceSaveResult(errors);
        }

        var before = Describe(invoker);
        Apply(invoker, input, actor, time.GetUtcNow().UtcDateTime);
        var after = Describe(invoker);
        AuditLog.Add(db, time, actor, "invoker.updated", $"{invoker.WebService!.Name}/{invoker.Name}", before == after ? "" : $"{before} → {after}");
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            return WebServiceSaveResult.Fail("", "Someone changed this invoker at the same moment. Reload it and make your change again.");
        }

        return new WebServiceSaveResult([], invoker.Id, invoker.Name);
    }

    public async Task<(bool Deleted, string Message)> DeleteInvokerAsync(int id, string actor, CancellationToken cancellationToken)
    {
        var invoker = await db.Invokers.Include(i => i.WebService).SingleOrDefaultAsync(i => i.Id == id, cancellationToken);
        if (invoker is null)
        {
            return (false, "This invoker no longer exists.");
        }

        db.Invokers.Remove(invoker);
        AuditLog.Add(db, time, actor, "invoker.deleted", $"{invoker.WebService!.Name}/{invoker.Name}");
        await db.SaveChangesAsync(cancellationToken);
        return (true, $"Invoker {invoker.Name} of web service {invoker.WebService.Name} deleted.");
    }

    /// <summary>Every problem of <paramref name="input"/> by field name, and the headers it describes when there is none.</summary>
    public async Task<(Dictionary<string, string> Errors, List<WebServiceHeader> Headers)> ValidateAsync(WebServiceInput input, WebService? existing, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string>();
        input.Name = input.Name?.Trim() ?? "";
        input.BaseUrl = input.BaseUrl?.Trim() ?? "";
        input.BasicUserName = input.BasicUserName?.Trim();
        if (!NameRegex().IsMatch(input.Name))
        {
            // Note: "is required" only where nothing was given; a given but unusable name is told what a name may hold.
            errors[nameof(input.Name)] = input.Name.Length == 0
                ? "Name is required."
                : "Name: 1 to 100 letters, digits, dots, dashes or underscores (it is part of the API address).";
        }
        else if (await db.WebServices.AnyAsync(w => w.NormalizedName == WebService.Normalize(input.Name) && (existing == null || w.Id != existing.Id), cancellationToken))
        {
            errors[nameof(input.Name)] = $"A web service named {input.Name} exists already.";
        }

        if (CheckBaseUrl(input.BaseUrl) is { } urlError)
        {
            errors[nameof(input.BaseUrl)] = urlError;
        }
        else if (WebService.SendsCredentialsUnencrypted(input.BaseUrl, input.Authentication) && !input.AllowUnencrypted)
        {
            // Note: as token endpoints and mail servers: a credential crosses the network only encrypted, unless an admin says otherwise.
            errors[nameof(input.BaseUrl)] = "With plain http to another machine, the password or token would cross the network unencrypted. "
                + "Use an https address, or tick \"Allow unencrypted\" if the network between TokenAdmin and this web service is trusted.";
        }
        else if (existing is not null)
        {
            // Every invoker must still make a valid address with the new base URL.
            foreach (var invoker in existing.Invokers)
            {
                if (!Uri.TryCreate(SampleUrl(input.BaseUrl, invoker.Path), UriKind.Absolute, out _))
                {
                    errors[nameof(input.BaseUrl)] = $"With this base URL, invoker {invoker.Name} ({invoker.Path}) would not make a valid address.";
                    break;
                }
            }
        }

        switch (input.Authentication)
        {
            case WebServiceAuthentication.None:
                break;
            case WebServiceAuthentication.Basic:
                if (string.IsNullOrEmpty(input.BasicUserName) || input.BasicUserName.Length > 200 || input.BasicUserName.Contains(':', StringComparison.Ordinal) || input.BasicUserName.Any(char.IsControl))
                {
                    errors[nameof(input.BasicUserName)] = "Enter the user name for basic authentication (up to 200 characters, no colon).";
                }

                if (string.IsNullOrEmpty(input.BasicPassword) && existing?.BasicPasswordProtected is null)
                {
                    errors[nameof(input.BasicPassword)] = "Enter the password for basic authentication.";
                }
                else if (input.BasicPassword?.Length > 1000 || input.BasicPassword?.Any(char.IsControl) == true)
                {
                    errors[nameof(input.BasicPassword)] = "The password is longer than 1000 characters or holds control characters.";
                }

                break;
            case WebServiceAuthentication.TokenConfig or WebServiceAuthentication.FunctionalAccount:
                await ValidateTokenSourceAsync(input, errors, cancellationToken);
                break;
            default:
                errors[nameof(input.Authentication)] = "Choose none, basic, a token config or a functional account.";
                break;
        }

        if (!WebServiceTokenTypes.All.Contains(input.TokenType))
        {
            errors[nameof(input.TokenType)] = "Choose access token or ID token.";
        }

        var headers = new List<WebServiceHeader>();
        ParseHeaders(input.Headers, secret: false, existing, headers, errors);
        ParseHeaders(input.SecretHeaders, secret: true, existing, headers, errors);
        var duplicate = headers.GroupBy(h => h.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            errors.TryAdd(nameof(input.Headers), $"The header {duplicate.Key} is given twice.");
        }

        if (headers.Count > 30)
        {
            errors.TryAdd(nameof(input.Headers), "At most 30 extra headers.");
        }

        if ((input.Comment?.Length ?? 0) > 250)
        {
            errors[nameof(input.Comment)] = "The comment is longer than 250 characters.";
        }

        return (errors, headers);
    }

    public async Task<Dictionary<string, string>> ValidateInvokerAsync(InvokerInput input, WebService service, int? existingId, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string>();
        input.Name = input.Name?.Trim() ?? "";
        input.Method = input.Method?.Trim().ToUpperInvariant() ?? "";
        input.Path = input.Path?.Trim() ?? "";
        if (!NameRegex().IsMatch(input.Name))
        {
            // Note: "is required" only where nothing was given; a given but unusable name is told what a name may hold.
            errors[nameof(input.Name)] = input.Name.Length == 0
                ? "Name is required."
                : "Name: 1 to 100 letters, digits, dots, dashes or underscores (it is part of the API address).";
        }
        else if (await db.Invokers.AnyAsync(i => i.WebServiceId == service.Id && i.NormalizedName == WebService.Normalize(input.Name) && (existingId == null || i.Id != existingId), cancellationToken))
        {
            errors[nameof(input.Name)] = $"Web service {service.Name} has an invoker named {input.Name} already.";
        }

        if (!Methods.Contains(input.Method))
        {
            errors[nameof(input.Method)] = $"Choose one of {string.Join(", ", Methods)}.";
        }

        if (input.Path.Length > 2000 || input.Path.Any(c => char.IsControl(c) || c == ' ' || c == '#'))
        {
            errors[nameof(input.Path)] = "The path is up to 2000 characters without spaces or #, e.g. /tickets/{ticketId}.";
        }
        else if (input.Path.Contains("://", StringComparison.Ordinal))
        {
            errors[nameof(input.Path)] = "The path is relative to the web service's base URL: give /tickets, not a whole address.";
        }
        else if (input.Path.Count(c => c == '{') != input.Path.Count(c => c == '}') || input.Path.Count(c => c == '{') != WebServiceInvoker.Placeholders(input.Path).Count)
        {
            errors[nameof(input.Path)] = "Placeholders are written {name} with letters, digits, dots, dashes or underscores, each once.";
        }
        else if (!Uri.TryCreate(SampleUrl(service.BaseUrl, input.Path), UriKind.Absolute, out _))
        {
            errors[nameof(input.Path)] = "With the web service's base URL this path does not make a valid address.";
        }

        input.TimeoutSeconds ??= Invoker.DefaultTimeoutSeconds;
        if (input.TimeoutSeconds is < Invoker.MinTimeoutSeconds or > Invoker.MaxTimeoutSeconds)
        {
            errors[nameof(input.TimeoutSeconds)] = $"The timeout must be {Invoker.MinTimeoutSeconds} to {Invoker.MaxTimeoutSeconds} seconds (empty: {Invoker.DefaultTimeoutSeconds}).";
        }

        if ((input.Comment?.Length ?? 0) > 250)
        {
            errors[nameof(input.Comment)] = "The comment is longer than 250 characters.";
        }

        return errors;
    }

    private async Task ValidateTokenSourceAsync(WebServiceInput input, Dictionary<string, string> errors, CancellationToken cancellationToken)
    {
        var source = TokenSource.Parse(input.TokenSource ?? "");
        var wanted = input.Authentication == WebServiceAuthentication.TokenConfig ? TokenSourceKind.TokenConfig : TokenSourceKind.FunctionalAccount;
        if (source is null || source.Value.Kind != wanted)
        {
            errors[nameof(input.TokenSource)] = wanted == TokenSourceKind.TokenConfig
                ? "Choose the token config that gives this web service its token."
                : "Choose the functional account that gives this web service its token.";
        }
        else if (wanted == TokenSourceKind.TokenConfig && !await db.TokenConfigs.AnyAsync(c => c.Id == source.Value.Id, cancellationToken))
        {
            errors[nameof(input.TokenSource)] = "That token config no longer exists.";
        }
        else if (wanted == TokenSourceKind.FunctionalAccount)
        {
            var account = await db.FunctionalAccounts.AsNoTracking().Where(a => a.Id == source.Value.Id).Select(a => new { a.Name, a.TokenType }).SingleOrDefaultAsync(cancellationToken);
            if (account is null)
            {
                errors[nameof(input.TokenSource)] = "That functional account no longer exists.";
            }
            else if (account.TokenType != input.TokenType)
            {
                // Note: a functional account decides which token it hands out; a mismatch would send the wrong one silently.
                errors[nameof(input.TokenType)] = $"Functional account {account.Name} hands out {(account.TokenType == WebServiceTokenTypes.IdToken ? "ID tokens" : "access tokens")}: choose that token type here, or change it on the account.";
            }
        }
    }

    private void ParseHeaders(string? text, bool secret, WebService? existing, List<WebServiceHeader> headers, Dictionary<string, string> errors)
    {
        var field = secret ? nameof(WebServiceInput.SecretHeaders) : nameof(WebServiceInput.Headers);
        foreach (var raw in (text ?? "").Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0)
            {
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var name = colon > 0 ? line[..colon].Trim() : "";
            var value = colon > 0 ? line[(colon + 1)..].Trim() : "";
            if (!HeaderNameRegex().IsMatch(name))
            {
                errors.TryAdd(field, $"Write each header as Name: value on its own line ('{(secret ? "(secret)" : Shorten(line))}' is not).");
                continue;
            }

            if (ReservedHeaders.Contains(name))
            {
                errors.TryAdd(field, $"{name} cannot be set as an extra header{(name.Equals("Authorization", StringComparison.OrdinalIgnoreCase) ? ": choose the authentication above" : "")}.");
                continue;
            }

            if (value.Length == 0 || value.Length > 1000 || value.Any(char.IsControl))
            {
                errors.TryAdd(field, $"The value of header {name} must be 1 to 1000 characters without control characters.");
                continue;
            }

            if (!secret)
            {
                headers.Add(new WebServiceHeader { Name = name, Value = value });
            }
            else if (value == WebServiceInput.SecretMask)
            {
                var stored = existing?.Headers.FirstOrDefault(h => h.Secret && h.Name.Equals(name, StringComparison.OrdinalIgnoreCase));
                if (stored is null)
                {
                    errors.TryAdd(field, $"Enter the value of secret header {name}.");
                    continue;
                }

                headers.Add(new WebServiceHeader { Name = name, Value = stored.Value, Secret = true });
            }
            else
            {
                headers.Add(new WebServiceHeader { Name = name, Value = protector.Protect(value), Secret = true });
            }
        }
    }

    private void Apply(WebService service, WebServiceInput input, List<WebServiceHeader> headers, string actor, DateTime now)
    {
        service.Name = input.Name;
        service.NormalizedName = WebService.Normalize(input.Name);
        service.BaseUrl = input.BaseUrl;
        service.Authentication = input.Authentication;
        service.TokenType = input.TokenType;
        // Note: only kept while it matters, so it is never silently in force for a later http address.
        service.AllowUnencrypted = input.AllowUnencrypted && WebService.SendsCredentialsUnencrypted(input.BaseUrl, input.Authentication);
        if (input.Authentication == WebServiceAuthentication.Basic)
        {
            service.BasicUserName = input.BasicUserName;
            if (!string.IsNullOrEmpty(input.BasicPassword))
            {
                service.BasicPasswordProtected = protector.Protect(input.BasicPassword);
            }
        }
        else
        {
            // A password no longer used is not kept around.
            service.BasicUserName = null;
            service.BasicPasswordProtected = null;
        }

        var source = input.Authentication is WebServiceAuthentication.TokenConfig or WebServiceAuthentication.FunctionalAccount
            ? TokenSource.Parse(input.TokenSource ?? "") : null;
        service.TokenSourceKind = source?.Kind;
        service.TokenSourceId = source?.Id;
        service.Headers.Clear();
        service.Headers.AddRange(headers);
        service.Enabled = input.Enabled;
        service.Comment = input.Comment?.Trim() ?? "";
        service.ChangedAt = now;
        service.ChangedBy = actor;
    }

    private static void Apply(Invoker invoker, InvokerInput input, string actor, DateTime now)
    {
        invoker.Name = input.Name;
        invoker.NormalizedName = WebService.Normalize(input.Name);
        invoker.Method = input.Method;
        invoker.Path = input.Path;
        invoker.TimeoutSeconds = input.TimeoutSeconds ?? Invoker.DefaultTimeoutSeconds;
        invoker.Comment = input.Comment?.Trim() ?? "";
        invoker.ChangedAt = now;
        invoker.ChangedBy = actor;
    }

    /// <summary>Consent to send credentials over plain http gets an audit entry of its own, so it is easy to find.</summary>
    private void AuditUnencrypted(WebService service, bool wasAllowed, string actor)
    {
        if (service.AllowUnencrypted && !wasAllowed)
        {
            AuditLog.Add(db, time, actor, "web-service.unencrypted-allowed", service.Name,
                $"{service.Authentication} credentials may go over plain http to {service.BaseUrl}");
        }
    }

    /// <summary>What the audit log says about a web service: never a password or secret header value.</summary>
    private static string Describe(WebService w)
    {
        var text = new StringBuilder().Append(CultureInfo.InvariantCulture, $"{w.BaseUrl}, {w.Authentication}");
        if (w.Authentication == WebServiceAuthentication.Basic)
        {
            text.Append(CultureInfo.InvariantCulture, $" as {w.BasicUserName}");
        }
        else if (w.TokenSource is { } s)
        {
            text.Append(CultureInfo.InvariantCulture, $" {s}, {w.TokenType}");
        }

        if (w.Headers.Count > 0)
        {
            text.Append(", headers ").AppendJoin(' ', w.Headers.Select(h => h.Secret ? h.Name + "(secret)" : h.Name));
        }

        if (w.AllowUnencrypted)
        {
            text.Append(", credentials allowed over unencrypted http");
        }

        return text.Append(w.Enabled ? "" : ", disabled").ToString();
    }

    private static string Describe(Invoker i) => $"{i.Method} {i.Path}, timeout {i.TimeoutSeconds} s";

    private static string? CheckBaseUrl(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || url.Length > 2000)
        {
            return "The base URL must be an absolute http or https address, e.g. https://crm.example.com/api.";
        }

        if (uri.UserInfo.Length > 0)
        {
            return "Put no user name or password into the URL: choose basic authentication instead.";
        }

        if (uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            return "The base URL has no query or fragment; give query values per call.";
        }

        return null;
    }

    private static string SampleUrl(string baseUrl, string path) =>
        baseUrl.TrimEnd('/') + (path.Length == 0 ? "" : "/" + WebServicePlaceholderSample().Replace(path.TrimStart('/'), "x"));

    private static string Shorten(string value) => value.Length <= 40 ? value : value[..40] + "…";

    [GeneratedRegex(@"^[A-Za-z0-9._\-]{1,100}$")]
    private static partial Regex NameRegex();

    [GeneratedRegex(@"^[A-Za-z0-9!#$%&'*+.^_`|~\-]{1,100}$")]
    private static partial Regex HeaderNameRegex();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex WebServicePlaceholderSample();
}
