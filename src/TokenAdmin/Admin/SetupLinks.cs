using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TokenAdmin.Data;
using TokenAdmin.Settings;

namespace TokenAdmin.Admin;

public enum SetupLinkStatus { Valid, Unknown, Expired, Used, AdminExists }

/// <summary>
/// One-time links for the first-run setup. A new link replaces all earlier unused ones; the database keeps only
/// a hash, so a copy of it cannot be turned into a working link.
/// </summary>
public sealed class SetupLinks(TokenAdminDb db, AdminAccounts accounts, IOptions<AdminOptions> options, TimeProvider time)
{
    /// <summary>Creates a new link value (shown once) valid for the configured lifetime.</summary>
    public async Task<(string Token, DateTime ExpiresAt)> CreateAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await db.SetupTokens.Where(t => t.UsedAt == null).ExecuteDeleteAsync(cancellationToken);
        var token = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var entry = new SetupToken { TokenHash = Hash(token), CreatedAt = now, ExpiresAt = now + options.Value.SetupLinkLifetime };
        db.SetupTokens.Add(entry);
        await db.SaveChangesAsync(cancellationToken);
        return (token, entry.ExpiresAt);
    }

    public async Task<SetupLinkStatus> CheckAsync(string? token, CancellationToken cancellationToken) =>
        (await FindAsync(token, cancellationToken)).Status;

    /// <summary>Creates the first admin and spends the link in one transaction.</summary>
    /// <param name="moreErrors">errors of other fields of the same form, found by the caller: the admin is created only when there are none</param>
    /// <param name="firstSettings">
    /// checked settings (the public URL) saved with the admin, in the same transaction, only if none of them has a stored
    /// value yet: a value set before (by the console, in another process) is never overwritten
    /// </param>
    public async Task<(SetupLinkStatus Status, Dictionary<string, string> Errors)> CompleteAsync(
        string? token, string? userName, string? password, string? confirmPassword, CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string>? moreErrors = null, IReadOnlyDictionary<string, string>? firstSettings = null)
    {
        var (status, entry) = await FindAsync(token, cancellationToken);
        if (status != SetupLinkStatus.Valid)
        {
            return (status, []);
        }

        var errors = await accounts.ValidateNewAsync(userName, password, cancellationToken);
        if (password != confirmPassword)
        {
            errors["ConfirmPassword"] = AdminManagement.PasswordsDiffer;
        }

        foreach (var (field, message) in moreErrors ?? new Dictionary<string, string>())
        {
            errors[field] = message;
        }

        if (errors.Count > 0)
        {
            return (status, errors);
        }

        var now = time.GetUtcNow().UtcDateTime;
        entry!.UsedAt = now;
        accounts.Add(userName!, password!, "setup-link");
        if (firstSettings is { Count: > 0 }
            && !await db.Settings.AnyAsync(s => firstSettings.Keys.Contains(s.Name), cancellationToken))
        {
            var actor = userName!.Trim();
            foreach (var (name, value) in firstSettings)
            {
                db.Settings.Add(new Setting { Name = name, Value = value, ChangedAt = now, ChangedBy = actor });
                AuditLog.Add(db, time, actor, "setting.updated", name, $"set at first-run setup: '{value}'");
            }
        }

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            // Note: two browsers posting the same link at once: the second save finds the row changed.
            return (SetupLinkStatus.Used, []);
        }

        await db.SetupTokens.Where(t => t.UsedAt == null).ExecuteDeleteAsync(cancellationToken);
        return (SetupLinkStatus.Valid, []);
    }

    private async Task<(SetupLinkStatus Status, SetupToken? Entry)> FindAsync(string? token, CancellationToken cancellationToken)
    {
        if (await accounts.AnyAsync(cancellationToken))
        {
            return (SetupLinkStatus.AdminExists, null);
        }

        if (string.IsNullOrEmpty(token) || token.Length > 100)
        {
            return (SetupLinkStatus.Unknown, null);
        }

        var hash = Hash(token);
        var entry = await db.SetupTokens.SingleOrDefaultAsync(t => t.TokenHash == hash, cancellationToken);
        if (entry is null)
        {
            return (SetupLinkStatus.Unknown, null);
        }

        if (entry.UsedAt is not null)
        {
            return (SetupLinkStatus.Used, entry);
        }

        return entry.ExpiresAt <= time.GetUtcNow().UtcDateTime ? (SetupLinkStatus.Expired, entry) : (SetupLinkStatus.Valid, entry);
    }

    public static string Message(SetupLinkStatus status) => status switch
    {
        SetupLinkStatus.AdminExists => "Setup is already done: an admin exists. Sign in instead.",
        SetupLinkStatus.Used => "This setup link has already been used. Sign in instead.",
        SetupLinkStatus.Expired => "This setup link has expired. Restart TokenAdmin or run `admin setup-link` for a new one.",
        SetupLinkStatus.Unknown => "This setup link is not valid. Use the link TokenAdmin printed at start, or run `admin setup-link` for a new one.",
        _ => "",
    };

    private static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
