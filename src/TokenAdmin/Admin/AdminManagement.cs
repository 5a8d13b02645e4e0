using System.Data;
using System.Security.Claims;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Data;

namespace TokenAdmin.Admin;

public sealed record AdminRow(int Id, string UserName, bool Disabled, DateTime? LockedUntil, DateTime CreatedAt, DateTime? LastSignInAt, int Sessions);

/// <summary>The outcome of an action on an admin: done, or why not, in words for the admin who asked.</summary>
public sealed record AdminChange(bool Done, string Message);

/// <summary>
/// What admins do to admins: list, add, disable, enable, remove, unlock, change their own password. Two rules hold
/// throughout: the last enabled local admin is never disabled or removed, and nobody disables or removes themselves
/// (another admin has to, so a slip of the mouse cannot lock anyone out).
/// </summary>
public sealed class AdminManagement(TokenAdminDb db, AdminAccounts accounts, IPasswordHasher<AdminUser> hasher, TimeProvider time)
{
    /// <summary>The local admin id of a signed-in principal; null for OIDC admins.</summary>
    public static int? LocalId(ClaimsPrincipal user) =>
        user.FindFirstValue(AdminAuthentication.MethodClaim) == "local"
        && user.FindFirstValue(ClaimTypes.NameIdentifier) is { } id
        && int.TryParse(id.AsSpan("local:".Length), out var value) ? value : null;

    public async Task<IReadOnlyList<AdminRow>> ListAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        return await db.AdminUsers.AsNoTracking()
            .OrderBy(u => u.NormalizedUserName)
            .Select(u => new AdminRow(u.Id, u.UserName, u.Disabled, u.LockedUntil > now ? u.LockedUntil : null, u.CreatedAt, u.LastSignInAt,
                db.AdminSessions.Count(s => s.AdminUserId == u.Id && s.ExpiresAt > now)))
            .ToListAsync(cancellationToken);
    }

    public Task<AdminRow?> FindAsync(int id, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        return db.AdminUsers.AsNoTracking().Where(u => u.Id == id)
            .Select(u => new AdminRow(u.Id, u.UserName, u.Disabled, u.LockedUntil > now ? u.LockedUntil : null, u.CreatedAt, u.LastSignInAt,
                db.AdminSessions.Count(s => s.AdminUserId == u.Id && s.ExpiresAt > now)))
            .SingleOrDefaultAsync(cancellationToken);
    }

    /// <summary>Every problem at once, keyed by the input's field name; empty when the admin was added.</summary>
    /// <summary>The message for a repeated password that is not the password (the form's labels).</summary>
    public const string PasswordsDiffer = "Repeat password must be the same as Password.";

    public async Task<Dictionary<string, string>> AddAsync(string? userName, string? password, string? confirmPassword, string actor, CancellationToken cancellationToken)
    {
        var errors = await accounts.ValidateNewAsync(userName, password, cancellationToken);
        if (password != confirmPassword)
        {
            errors["ConfirmPassword"] = PasswordsDiffer;
        }

        if (errors.Count == 0)
        {
            accounts.Add(userName!, password!, actor);
            await db.SaveChangesAsync(cancellationToken);
        }

        return errors;
    }

    /// <summary>Why <paramref name="target"/> cannot be disabled or removed by <paramref name="actor"/>; empty when it can.</summary>
    public async Task<IReadOnlyList<string>> BlockersAsync(int target, ClaimsPrincipal actor, CancellationToken cancellationToken)
    {
        var blockers = new List<string>();
        if (LocalId(actor) == target)
        {
            blockers.Add("You are signed in as this admin. Another admin has to do this, so nobody locks themselves out by mistake.");
        }

        var enabled = await db.AdminUsers.Where(u => !u.Disabled).Select(u => u.Id).ToListAsync(cancellationToken);
        if (enabled.Count == 1 && enabled[0] == target)
        {
            blockers.Add("This is the last enabled local admin. Add or enable another admin first.");
        }

        return blockers;
    }

    public Task<AdminChange> DisableAsync(int id, ClaimsPrincipal actor, CancellationToken cancellationToken) =>
        ChangeGuardedAsync(id, actor, async user =>
        {
            if (user.Disabled)
            {
                return new AdminChange(true, $"Admin '{user.UserName}' was disabled already.");
            }

            user.Disabled = true;
            AuditLog.Add(db, time, AdminAuthentication.Actor(actor), "admin.disabled", user.UserName);
            await db.SaveChangesAsync(cancellationToken);
            var ended = await AdminSessions.EndAllAsync(db, user.Id, cancellationToken);
            return new AdminChange(true, $"Admin '{user.UserName}' is disabled{Ended(ended)}.");
        }, cancellationToken);

    public Task<AdminChange> RemoveAsync(int id, ClaimsPrincipal actor, CancellationToken cancellationToken) =>
        ChangeGuardedAsync(id, actor, async user =>
        {
            // Note: removing the row removes its sessions too (cascade), which signs the admin out everywhere.
            var ended = await AdminSessions.EndAllAsync(db, user.Id, cancellationToken);
            db.AdminUsers.Remove(user);
            AuditLog.Add(db, time, AdminAuthentication.Actor(actor), "admin.removed", user.UserName);
            await db.SaveChangesAsync(cancellationToken);
            return new AdminChange(true, $"Admin '{user.UserName}' was removed{Ended(ended)}.");
        }, cancellationToken);

    public async Task<AdminChange> EnableAsync(int id, ClaimsPrincipal actor, CancellationToken cancellationToken)
    {
        if (await db.AdminUsers.FindAsync([id], cancellationToken) is not { } user)
        {
            return new AdminChange(false, "That admin does not exist (any more).");
        }

        if (user.Disabled)
        {
            user.Disabled = false;
            AuditLog.Add(db, time, AdminAuthentication.Actor(actor), "admin.enabled", user.UserName);
            await db.SaveChangesAsync(cancellationToken);
        }

        return new AdminChange(true, $"Admin '{user.UserName}' is enabled.");
    }

    public async Task<AdminChange> UnlockAsync(int id, ClaimsPrincipal actor, CancellationToken cancellationToken)
    {
        var name = await db.AdminUsers.Where(u => u.Id == id).Select(u => u.UserName).SingleOrDefaultAsync(cancellationToken);
        return name is not null && await accounts.UnlockAsync(name, AdminAuthentication.Actor(actor), cancellationToken)
            ? new AdminChange(true, $"Admin '{name}' is unlocked.")
            : new AdminChange(false, "That admin does not exist (any more).");
    }

    /// <summary>
    /// Changes the signed-in local admin's own password. Every session of that admin ends, this one included; the
    /// caller signs the admin in again. Every problem at once, keyed by the input's field name.
    /// </summary>
    public async Task<(Dictionary<string, string> Errors, AdminUser? User)> ChangeOwnPasswordAsync(
        ClaimsPrincipal actor, string? currentPassword, string? newPassword, string? confirmPassword, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string>();
        if (LocalId(actor) is not { } id || await db.AdminUsers.FindAsync([id], cancellationToken) is not { } user)
        {
            errors[""] = "Only local admins have a password here; change yours at your identity provider.";
            return (errors, null);
        }

        if (string.IsNullOrEmpty(currentPassword))
        {
            errors["CurrentPassword"] = "Current password is required.";
        }
        else if (hasher.VerifyHashedPassword(user, user.PasswordHash, currentPassword) == PasswordVerificationResult.Failed)
        {
            errors["CurrentPassword"] = "Current password is wrong.";
        }

        if (accounts.PasswordProblem(user.UserName, newPassword) is { } problem)
        {
            errors["NewPassword"] = problem.StartsWith("Password ", StringComparison.Ordinal) ? "New password " + problem[9..] : problem;
        }
        else if (newPassword == currentPassword)
        {
            errors["NewPassword"] = "New password must differ from the current password.";
        }

        if (newPassword != confirmPassword)
        {
            errors["ConfirmPassword"] = "Repeat new password must be the same as New password.";
        }

        if (errors.Count > 0)
        {
            if (errors.ContainsKey("CurrentPassword"))
            {
                AuditLog.Add(db, time, AdminAuthentication.Actor(actor), "admin.password-change-failed", user.UserName, "wrong current password");
                await db.SaveChangesAsync(cancellationToken);
            }

            return (errors, null);
        }

        user.PasswordHash = hasher.HashPassword(user, newPassword!);
        user.SecurityStamp = Guid.NewGuid().ToString("N");
        AuditLog.Add(db, time, AdminAuthentication.Actor(actor), "admin.password-changed", user.UserName);
        await db.SaveChangesAsync(cancellationToken);
        await AdminSessions.EndAllAsync(db, user.Id, cancellationToken);
        return (errors, user);
    }

    /// <summary>
    /// Checks the rules and makes the change in one serializable transaction, so two admins disabling each other at
    /// the same moment cannot leave no enabled admin.
    /// </summary>
    private async Task<AdminChange> ChangeGuardedAsync(int id, ClaimsPrincipal actor, Func<AdminUser, Task<AdminChange>> change, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.Serializable, cancellationToken);
        if (await db.AdminUsers.FindAsync([id], cancellationToken) is not { } user)
        {
            return new AdminChange(false, "That admin does not exist (any more).");
        }

        if (await BlockersAsync(id, actor, cancellationToken) is { Count: > 0 } blockers)
        {
            return new AdminChange(false, string.Join(" ", blockers));
        }

        var result = await change(user);
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    private static string Ended(int sessions) => sessions switch
    {
        0 => "",
        1 => "; its one session ended",
        _ => $"; its {sessions} sessions ended",
    };
}
