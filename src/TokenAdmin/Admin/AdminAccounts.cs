using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TokenAdmin.Data;

namespace TokenAdmin.Admin;

public enum SignInStatus { Succeeded, Failed, LockedOut }

public sealed record SignInResult(SignInStatus Status, AdminUser? User = null, DateTime? LockedUntil = null);

/// <summary>Local admin accounts: creation, password check with lockout.</summary>
public sealed class AdminAccounts(TokenAdminDb db, IPasswordHasher<AdminUser> hasher, IOptions<AdminOptions> options, TimeProvider time)
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
        if (string.IsNullOrEmpty(password) || password.Length < min)
        {
            return $"Password must be at least {min} characters.";
        }

        if (password.Length > 512)
        {
            return "Password must be at most 512 characters.";
        }

        if (userName.Length > 0 && password.Contains(userName, StringComparison.OrdinalIgnoreCase))
        {
            return "Password must not contain the user name.";
        }

        return null;
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

    public async Task<SignInResult> CheckPasswordAsync(string? userName, string? password, CancellationToken cancellationToken)
    {
        var normalized = AdminUser.Normalize(userName ?? "");
        var user = normalized.Length == 0
            ? null
            : await db.AdminUsers.SingleOrDefaultAsync(u => u.NormalizedUserName == normalized, cancellationToken);
        if (user is null || user.Disabled)
        {
            // Note: a disabled admin gets the same answer and costs the same time as an unknown name.
            hasher.VerifyHashedPassword(null!, DummyHash, password ?? "");
            AuditLog.Add(db, time, "anonymous", "admin.sign-in-failed", user?.UserName ?? userName?.Trim() ?? "",
                user is null ? "local password: no such admin" : "local password: admin is disabled");
            await db.SaveChangesAsync(cancellationToken);
            return new SignInResult(SignInStatus.Failed);
        }

        var now = time.GetUtcNow().UtcDateTime;
        if (user.LockedUntil > now)
        {
            AuditLog.Add(db, time, "anonymous", "admin.sign-in-failed", user.UserName, $"local password: locked until {user.LockedUntil:u}");
            await db.SaveChangesAsync(cancellationToken);
            return new SignInResult(SignInStatus.LockedOut, user, user.LockedUntil);
        }

        var verdict = hasher.VerifyHashedPassword(user, user.PasswordHash, password ?? "");
        if (verdict == PasswordVerificationResult.Failed)
        {
            AuditLog.Add(db, time, "anonymous", "admin.sign-in-failed", user.UserName, "local password: wrong password");
            user.FailedSignIns++;
            var limit = options.Value.MaxFailedSignIns;
            if (user.FailedSignIns >= limit)
            {
                user.LockedUntil = now + options.Value.LockoutDuration;
                user.FailedSignIns = 0;
                AuditLog.Add(db, time, "system", "admin.locked", user.UserName, $"{limit} failed sign-ins; locked until {user.LockedUntil:u}");
            }

            await db.SaveChangesAsync(cancellationToken);
            return user.LockedUntil > now
                ? new SignInResult(SignInStatus.LockedOut, user, user.LockedUntil)
                : new SignInResult(SignInStatus.Failed);
        }

        if (verdict == PasswordVerificationResult.SuccessRehashNeeded)
        {
            user.PasswordHash = hasher.HashPassword(user, password!);
        }

        user.FailedSignIns = 0;
        user.LockedUntil = null;
        user.LastSignInAt = now;
        AuditLog.Add(db, time, "admin:" + user.UserName, "admin.signed-in", user.UserName, "local password");
        await db.SaveChangesAsync(cancellationToken);
        return new SignInResult(SignInStatus.Succeeded, user);
    }

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
