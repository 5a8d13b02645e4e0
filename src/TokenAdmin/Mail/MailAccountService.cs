using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Admin;
using TokenAdmin.Data;
using TokenAdmin.Secrets;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.Mail;

/// <summary>What an admin enters for a mail account. The password is write-only: empty keeps the stored one.</summary>
public sealed class MailAccountInput
{
    [Required(ErrorMessage = "{0} is required.")]
    [Display(Name = "Login")]
    public string Login { get; set; } = "";
    [Display(Name = "Host")]
    public string Host { get; set; } = "";
    [Display(Name = "Type")]
    public MailAccountType Type { get; set; } = MailAccountType.Imaps;
    /// <summary>Empty: the default port of the type.</summary>
    [Display(Name = "Port")]
    public int? Port { get; set; }
    [Display(Name = "Authentication")]
    public MailAuthentication Authentication { get; set; } = MailAuthentication.OAuth2;
    [Display(Name = "Password")]
    public string? Password { get; set; }
    /// <summary>"TokenConfig:12" or "FunctionalAccount:3".</summary>
    [Display(Name = "Token source")]
    public string? TokenSource { get; set; }
    [Display(Name = "SASL mechanism")]
    public MailSaslMechanism SaslMechanism { get; set; }
    [Display(Name = "Folder")]
    public string ImapFolder { get; set; } = "INBOX";
    [Display(Name = "Keep on server")]
    public bool KeepOnServer { get; set; }
    /// <summary>Graph: the national cloud, or Custom with <see cref="GraphEndpoint"/>.</summary>
    [Display(Name = "Microsoft Graph deployment")]
    public GraphCloud GraphCloud { get; set; } = GraphCloud.Global;
    [Display(Name = "Custom endpoint")]
    public string? GraphEndpoint { get; set; }
    /// <summary>Graph, mail not kept: move fetched mail to this folder instead of deleting it.</summary>
    [Display(Name = "Move fetched mail to")]
    public string? MoveToFolder { get; set; }
    [Display(Name = "Fetch interval (minutes)")]
    public int FetchIntervalMinutes { get; set; } = 5;
    [Display(Name = "Messages per run (at most)")]
    public int MaxMessagesPerRun { get; set; } = 100;
    [Display(Name = "Size limit per message (KB)")]
    public int MaxMessageSizeKb { get; set; } = 20 * 1024;
    [Display(Name = "Valid")]
    public bool Valid { get; set; } = true;
    [Display(Name = "Comment")]
    public string? Comment { get; set; }

    public static MailAccountInput From(MailAccount a) => new()
    {
        Login = a.Login,
        Host = a.Host,
        Type = a.Type,
        Port = a.Port,
        Authentication = a.Authentication,
        TokenSource = a.TokenSource is { } s ? s.Key : null,
        SaslMechanism = a.SaslMechanism,
        ImapFolder = a.ImapFolder,
        KeepOnServer = a.KeepOnServer,
        GraphCloud = a.GraphCloud ?? GraphCloud.Global,
        GraphEndpoint = a.GraphEndpoint,
        MoveToFolder = a.MoveToFolder,
        FetchIntervalMinutes = a.FetchIntervalMinutes,
        MaxMessagesPerRun = a.MaxMessagesPerRun,
        MaxMessageSizeKb = a.MaxMessageSizeKb,
        Valid = a.Valid,
        Comment = a.Comment,
    };
}

public sealed record MailAccountSaveResult(Dictionary<string, string> Errors, MailAccount? Account = null)
{
    public bool Succeeded => Errors.Count == 0;
    public static MailAccountSaveResult Fail(string field, string message) => new(new Dictionary<string, string> { [field] = message });
}

/// <summary>Creates, changes and deletes mail accounts: validated, audited, the password encrypted.</summary>
public sealed class MailAccountService(TokenAdminDb db, TokenSourcePicker sources, ISecretProtector protector, MailSpool spool, MailFetchLocks locks, TimeProvider time)
{
    public Task<MailAccount?> FindAsync(int id, CancellationToken cancellationToken) =>
        db.MailAccounts.AsNoTracking().SingleOrDefaultAsync(a => a.Id == id, cancellationToken);

    /// <summary>Token configs and functional accounts an account (or the SMTP settings) may take its token from.</summary>
    public Task<IReadOnlyList<(string Value, string Name)>> TokenSourcesAsync(CancellationToken cancellationToken) => sources.ChoicesAsync(cancellationToken);

    public async Task<MailAccountSaveResult> CreateAsync(MailAccountInput input, string actor, CancellationToken cancellationToken)
    {
        var errors = await ValidateAsync(input, hasPassword: false, cancellationToken);
        if (errors.Count > 0)
        {
            return new MailAccountSaveResult(errors);
        }

        var now = time.GetUtcNow().UtcDateTime;
        var account = new MailAccount { Login = "", Host = "", CreatedAt = now, CreatedBy = actor };
        Apply(account, input, actor, now);
        db.MailAccounts.Add(account);
        AuditLog.Add(db, time, actor, "mail-account.created", account.DisplayName, Describe(account));
        await db.SaveChangesAsync(cancellationToken);
        return new MailAccountSaveResult([], account);
    }

    public async Task<MailAccountSaveResult> UpdateAsync(int id, string version, MailAccountInput input, string actor, CancellationToken cancellationToken)
    {
        var account = await db.MailAccounts.SingleOrDefaultAsync(a => a.Id == id, cancellationToken);
        if (account is null)
        {
            return MailAccountSaveResult.Fail("", "This mail account no longer exists.");
        }

        if (account.Version != version)
        {
            return MailAccountSaveResult.Fail("", $"{account.ChangedBy} changed this mail account at {account.ChangedAt:yyyy-MM-dd HH:mm:ss} UTC while you were editing. Reload it and make your change again.");
        }

        var errors = await ValidateAsync(input, account.PasswordProtected is not null, cancellationToken);
        if (errors.Count > 0)
        {
            return new MailAccountSaveResult(errors);
        }

        var before = Describe(account);
        Apply(account, input, actor, time.GetUtcNow().UtcDateTime);
        var after = Describe(account);
        AuditLog.Add(db, time, actor, "mail-account.updated", account.DisplayName,
            (before == after ? "" : $"{before} → {after}") + (string.IsNullOrEmpty(input.Password) ? "" : " (password changed)"));
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            return MailAccountSaveResult.Fail("", "Someone changed this mail account at the same moment. Reload it and make your change again.");
        }

        return new MailAccountSaveResult([], account);
    }

    /// <summary>Deletes the account, its index of fetched mail and the stored .eml files.</summary>
    public async Task<(bool Deleted, string Message)> DeleteAsync(int id, string actor, CancellationToken cancellationToken)
    {
        var account = await db.MailAccounts.SingleOrDefaultAsync(a => a.Id == id, cancellationToken);
        if (account is null)
        {
            return (false, "This mail account no longer exists.");
        }

        // Note: not while this process fetches the account, or the fetch would write files into the folder being removed.
        var gate = locks.For(id);
        if (!await gate.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken))
        {
            return (false, "A fetch of this mail account is still running. Try again when it has finished.");
        }

        try
        {
            db.MailAccounts.Remove(account);
            AuditLog.Add(db, time, actor, "mail-account.deleted", account.DisplayName);
            await db.SaveChangesAsync(cancellationToken);
            spool.DeleteAccount(id);
        }
        finally
        {
            gate.Release();
        }

        return (true, $"Mail account {account.DisplayName} deleted.");
    }

    /// <summary>Every problem of <paramref name="input"/> by field name; empty when it can be saved.</summary>
    public async Task<Dictionary<string, string>> ValidateAsync(MailAccountInput input, bool hasPassword, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string>();
        // Note: model binding turns an empty field into null, whatever the property's default.
        input.Login = input.Login?.Trim() ?? "";
        input.Host = input.Host?.Trim() ?? "";
        input.ImapFolder = string.IsNullOrWhiteSpace(input.ImapFolder) ? (input.Type == MailAccountType.Graph ? "inbox" : "INBOX") : input.ImapFolder.Trim();
        input.GraphEndpoint = string.IsNullOrWhiteSpace(input.GraphEndpoint) ? null : input.GraphEndpoint.Trim();
        input.MoveToFolder = string.IsNullOrWhiteSpace(input.MoveToFolder) ? null : input.MoveToFolder.Trim();
        if (input.Login.Length is 0 or > 200 || input.Login.Any(char.IsControl) || (input.Type == MailAccountType.Graph && input.Login.Any(char.IsWhiteSpace)))
        {
            errors[nameof(input.Login)] = input.Type == MailAccountType.Graph
                ? "Login: enter the mailbox, the user's address, user principal name or object id (a shared mailbox's address too), or me for the token's own user."
                : "Login is required (up to 200 characters), usually the mailbox address.";
        }

        if (input.Type == MailAccountType.Graph)
        {
            ValidateGraph(input, errors);
        }
        else if (input.Host.Length == 0 || Uri.CheckHostName(input.Host) == UriHostNameType.Unknown)
        {
            errors[nameof(input.Host)] = "Host must be a host name or IP address, e.g. outlook.office365.com (no scheme, no port).";
        }

        if (!Enum.IsDefined(input.Type))
        {
            errors[nameof(input.Type)] = "Type: choose IMAP, POP3 or Microsoft Graph.";
        }

        if (input.Port is { } port && port is < 1 or > 65535)
        {
            errors[nameof(input.Port)] = "Port must be a number from 1 to 65535, or empty for the type's default.";
        }

        if (input.Authentication == MailAuthentication.Password)
        {
            if (string.IsNullOrEmpty(input.Password) && !hasPassword)
            {
                errors[nameof(input.Password)] = "Password is required for password authentication.";
            }
        }
        else if (input.Authentication == MailAuthentication.OAuth2)
        {
            var source = TokenSource.Parse(input.TokenSource ?? "");
            if (source is null)
            {
                errors[nameof(input.TokenSource)] = "Token source: choose the token config or functional account that gives this account its token.";
            }
            else if (source.Value.Kind == TokenSourceKind.TokenConfig && !await db.TokenConfigs.AnyAsync(c => c.Id == source.Value.Id, cancellationToken))
            {
                errors[nameof(input.TokenSource)] = "Token source: that token config no longer exists.";
            }
            else if (source.Value.Kind == TokenSourceKind.FunctionalAccount && !await db.FunctionalAccounts.AnyAsync(a => a.Id == source.Value.Id, cancellationToken))
            {
                errors[nameof(input.TokenSource)] = "Token source: that functional account no longer exists.";
            }
        }
        else
        {
            errors[nameof(input.Authentication)] = "Authentication: choose password or OAuth2.";
        }

        if (!Enum.IsDefined(input.SaslMechanism))
        {
            errors[nameof(input.SaslMechanism)] = "SASL mechanism: choose automatic, XOAUTH2 or OAUTHBEARER.";
        }

        if (input.ImapFolder.Length > 200 || input.ImapFolder.Any(char.IsControl))
        {
            // Note: MailKit would encode a line break, but the name also shows up raw in console output and errors.
            errors[nameof(input.ImapFolder)] = "Folder is up to 200 characters without control characters (line breaks, tabs, escapes).";
        }

        if (input.FetchIntervalMinutes is < 1 or > 1440)
        {
            errors[nameof(input.FetchIntervalMinutes)] = "Fetch interval (minutes) must be 1 to 1440.";
        }

        if (input.MaxMessagesPerRun is < 1 or > 10000)
        {
            errors[nameof(input.MaxMessagesPerRun)] = "Messages per run (at most) must be 1 to 10000.";
        }

        if (input.MaxMessageSizeKb is < 1 or > 1024 * 1024)
        {
            errors[nameof(input.MaxMessageSizeKb)] = "Size limit per message (KB) must be 1 to 1048576 (1 GB).";
        }

        if ((input.Comment?.Length ?? 0) > 250)
        {
            errors[nameof(input.Comment)] = "Comment is longer than 250 characters.";
        }

        return errors;
    }

    /// <summary>A Graph account takes its token from a source, talks to one cloud, and its folders are names or paths.</summary>
    private static void ValidateGraph(MailAccountInput input, Dictionary<string, string> errors)
    {
        if (input.Authentication != MailAuthentication.OAuth2)
        {
            errors[nameof(input.Authentication)] = "Authentication: Microsoft Graph takes only a bearer token; choose OAuth2 and the token source.";
        }

        if (!Enum.IsDefined(input.GraphCloud))
        {
            errors[nameof(input.GraphCloud)] = "Microsoft Graph deployment: choose global, US Government L4/L5, China, or a custom endpoint.";
        }
        else if (input.GraphCloud == GraphCloud.Custom && GraphClouds.CheckCustomEndpoint(input.GraphEndpoint) is { } problem)
        {
            errors[nameof(input.GraphEndpoint)] = "Custom endpoint: " + char.ToLowerInvariant(problem[0]) + problem[1..];
        }

        if (input.MoveToFolder is { } move && (move.Length > 200 || move.Any(char.IsControl)))
        {
            errors[nameof(input.MoveToFolder)] = "Move fetched mail to is up to 200 characters without control characters.";
        }
    }

    private void Apply(MailAccount account, MailAccountInput input, string actor, DateTime now)
    {
        account.Login = input.Login;
        account.Type = input.Type;
        if (input.Type == MailAccountType.Graph)
        {
            var root = new Uri(GraphClouds.Root(input.GraphCloud, input.GraphEndpoint));
            account.Host = root.Host;
            account.Port = root.Port;
            account.GraphCloud = input.GraphCloud;
            account.GraphEndpoint = input.GraphCloud == GraphCloud.Custom ? input.GraphEndpoint : null;
            account.MoveToFolder = input.KeepOnServer ? null : input.MoveToFolder;
        }
        else
        {
            account.Host = input.Host;
            account.Port = input.Port ?? MailAccount.DefaultPort(input.Type);
            account.GraphCloud = null;
            account.GraphEndpoint = null;
            account.MoveToFolder = null;
        }

        // Note: a saved delta link belongs to one mailbox, folder and endpoint; after any change a new round starts
        // (messages already stored are known by their immutable ids and not stored again).
        account.GraphSyncLink = null;
        account.Authentication = input.Authentication;
        if (input.Authentication == MailAuthentication.OAuth2)
        {
            var source = TokenSource.Parse(input.TokenSource!)!.Value;
            account.TokenSourceKind = source.Kind;
            account.TokenSourceId = source.Id;
        }
        else
        {
            account.TokenSourceKind = null;
            account.TokenSourceId = null;
        }

        if (!string.IsNullOrEmpty(input.Password))
        {
            account.PasswordProtected = protector.Protect(input.Password);
        }

        account.SaslMechanism = input.SaslMechanism;
        account.ImapFolder = input.ImapFolder;
        account.KeepOnServer = input.KeepOnServer;
        account.FetchIntervalMinutes = input.FetchIntervalMinutes;
        account.MaxMessagesPerRun = input.MaxMessagesPerRun;
        account.MaxMessageSizeKb = input.MaxMessageSizeKb;
        account.Valid = input.Valid;
        account.Comment = input.Comment?.Trim() ?? "";
        account.ChangedAt = now;
        account.ChangedBy = actor;
    }

    private static string Describe(MailAccount a) => string.Create(CultureInfo.InvariantCulture,
        $"{a.Type} {a.Host}:{a.Port}{(a.IsGraph ? " " + a.ImapFolder + (a.MoveToFolder is null ? "" : " → " + a.MoveToFolder) : "")}, {a.Authentication}{(a.TokenSource is { } s ? " " + s : "")}, {(a.KeepOnServer ? "keep" : "delete")}, every {a.FetchIntervalMinutes} min, {(a.Valid ? "valid" : "invalid")}");
}
