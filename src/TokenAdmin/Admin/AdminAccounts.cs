using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TokenAdmin.Data;

namespace TokenAdmin.Admin;

public enum SignInStatus { Succeeded, Failed, LockedOut }

public sealed record SignInResult(SignInStatus Status, AdminUser? User = null, DateTime? LockedUntil = null);

/// <summary>Local admin accounts: creation, password check with growing delays after failures (<see cref="SignInThrottle"/>).</summary>
public sealed class AdminAccounts(TokenAdminDb db, IPasswordHasher<AdminUser> hasher, IOptions<AdminOptions> options, TimeProvider time, SignInThrottle throttle)
{
    // Note: verifying against a fixed hash when the user does not exist costs the same time as a real check,
    // so response times do not tell which user names exist.
    private static readonly string DummyHash = new PasswordHasher<AdminUser>().HashPassword(null!, "not-a-password-" + Guid.NewGuid());

    public Task<bool> AnyAsync(CancellationToken cancellationToken) => db.AdminUsers.AnyAsync(cancellationToken);

    /// <summary>Returns the problems with a new user name and password; empty when both are fine.</summary>
    public async Task<Dictionary<string, string>> ValidateNewAsync(string? userName, string? password, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string>();
        var name = userName?.Trim() ?? "";
        if (name.Length is < 1 or > 100 || name.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            errors["UserName"] = "User name must be 1 to 100 characters without spaces.";
        }
        else if (await db.AdminUsers.AnyAsync(u => u.NormalizedUserName == AdminUser.Normalize(name), cancellationToken))
        {
            errors["UserName"] = $"An admin named '{name}' already exists.";
        }

        if (PasswordProblem(name, password) is { } problem)
        {
            errors["Password"] = problem;
        }

        return errors;
    }

    /// <summary>What is wrong with <paramref name="password"/> as the password of <paramref name="userName"/>; null when nothing.</summary>
    public string? PasswordProblem(string userName, string? password)
    {
        var min = options.Value.MinPasswordLength;
        if (!string.IsNullOrEmpty(password) && password.Length <= 512 && PasswordRules.Weakness(userName, password) is { } weakness)
        {
            return weakness;
        }

        if (string.IsNullOrEmpty(password) || password.Length < min)
        {
            return $"Password must be at least {min} characters.";
        }

        return password.Length > 512 ? "Password must be at most 512 characters." : null;
    }

    /// <summary>Adds the admin to the unit of work (with its audit entry); the caller saves. Validate first.</summary>
    public AdminUser Add(string userName, string password, string actor)
    {
        var user = new AdminUser
        {
            UserName = userName.Trim(),
            NormalizedUserName = AdminUser.Normalize(userName),
            PasswordHash = "",
            CreatedAt = time.GetUtcNow().UtcDateTime,
        };
        user.PasswordHash = hasher.HashPassword(user, password);
        db.AdminUsers.Add(user);
        AuditLog.Add(db, time, actor, "admin.created", user.UserName);
        return user;
    }

    /// <summary>
    /// Checks a sign-in from <paramref name="client"/> (Hosting/ClientAddress.Key). Every failure looks and costs the
    /// same: an unknown name, a wrong password and a try that must still wait (<see cref="SignInThrottle"/>) all hash
    /// the password, write nothing and answer <see cref="SignInStatus.Failed"/>.
    /// </summary>
    public async Task<SignInResult> CheckPasswordAsync(string? userName, string? password, string client, CancellationToken cancellationToken)
    {
        var normalized = AdminUser.Normalize(userName ?? "");
        var user = normalized.Length == 0
            ? null
            : await db.AdminUsers.SingleOrDefaultAsync(u => u.NormalizedUserName == normalized, cancellationToken);
        var mustWait = throttle.MustWait(normalized, client);
        var verdict = hasher.VerifyHashedPassword(user!, user?.PasswordHash ?? DummyHash, password ?? "");
        if (user is null || user.Disabled || mustWait || verdict == PasswordVerificationResult.Failed)
        {
            throttle.Failed(normalized, client);
            // Note: every failure writes the same one audit entry (and, when tries start to wait, the same second one),
            // so a name that exists costs the same time as one that does not. The password typed is never written.
            var why = user is null ? "no such admin" : user.Disabled ? "admin is disabled" : verdict == PasswordVerificationResult.Failed ? "wrong password" : "tried again before its delay ended";
            AuditLog.Add(db, time, "anonymous", "admin.sign-in-failed", user?.UserName ?? Cut(userName?.Trim() ?? ""), $"local password: {why}");
            if (throttle.FailuresOf(normalized) == options.Value.MaxFailedSignIns)
            {
                // Note: audited once per run of failures, when tries start to wait, for names that exist and names
                // that do not alike (the same write, so the same time).
                AuditLog.Add(db, time, "system", "admin.sign-in-slowed", user?.UserName ?? Cut(normalized),
                    $"{options.Value.MaxFailedSignIns} failed sign-ins in a row{(user is null ? " for a name that is no admin" : "")}; " +
                    $"further tries wait longer each time, except from addresses the admin signed in from before (last try from {client})");
            }

            await db.SaveChangesAsync(cancellationToken);
            return new SignInResult(SignInStatus.Failed);
        }

        if (verdict == PasswordVerificationResult.SuccessRehashNeeded)
        {
            user.PasswordHash = hasher.HashPassword(user, password!);
        }

        throttle.Succeeded(normalized, client);
        user.FailedSignIns = 0;
        user.LockedUntil = null;
        user.LastSignInAt = time.GetUtcNow().UtcDateTime;
        AuditLog.Add(db, time, "admin:" + user.UserName, "admin.signed-in", user.UserName, "local password");
        await db.SaveChangesAsync(cancellationToken);
        return new SignInResult(SignInStatus.Succeeded, user);
    }

    private static string Cut(string value) => value.Length <= 100 ? value : value[..100];

    public async Task<bool> UnlockAsync(string userName, string actor, CancellationToken cancellationToken)
    {
        var normalized = AdminUser.Normalize(userName);
        var user = await db.AdminUsers.SingleOrDefaultAsync(u => u.NormalizedUserName == normalized, cancellationToken);
        if (user is null)
        {
            return false;
        }

        user.LockedUntil = null;
        user.FailedSignIns = 0;
        AuditLog.Add(db, time, actor, "admin.unlocked", user.UserName);
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }
}
