using System.CommandLine;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Admin;
using TokenAdmin.Data;

namespace TokenAdmin.Cli;

internal static class AdminVerbs
{
    private static readonly Option<string> User = new("--user") { Description = "The admin's user name.", HelpName = "NAME", Required = true };

    private static readonly Option<bool> PasswordStdin = new("--password-stdin")
    {
        Description = "Read the password from the first line of standard input (required: a password never goes on the command line).",
        Required = true,
    };

    public static IReadOnlyList<CliVerb> All { get; } =
    [
        new(["admin", "create"], "Creates a local admin without a browser.",
            "The password is read from the first line of standard input, so it stays out of the shell history and the process list.",
            CreateAsync)
        {
            Symbols = [User, PasswordStdin],
            // Note: System.CommandLine lets a required flag go missing (it has a value, false), so this says it.
            Validate = command =>
            {
                if (command.GetResult(PasswordStdin) is null)
                {
                    command.AddError("Option '--password-stdin' is required: the password is read from standard input.");
                }
            },
            Examples = ["printf '%s\\n' \"$PASSWORD\" | TokenAdmin admin create --user alice --password-stdin"],
        },
        new(["admin", "list"], "Lists the local admins, with lockouts.", "", ListAsync),
        new(["admin", "unlock"], "Lifts the lockout of a local admin after too many failed sign-ins.", "", UnlockAsync)
        {
            Symbols = [User],
            Examples = ["TokenAdmin admin unlock --user alice"],
        },
        new(["admin", "setup-link"], "Prints a new one-time first-run setup link (only while no admin exists).",
            "Earlier unused links stop working.", SetupLinkAsync),
    ];

    private static async Task<int> CreateAsync(CliContext context, CancellationToken cancellationToken)
    {
        var user = context.Get(User)!;
        var password = await context.Stdin.ReadLineAsync(cancellationToken);
        var accounts = context.Services.GetRequiredService<AdminAccounts>();
        var errors = await accounts.ValidateNewAsync(user, password, cancellationToken);
        if (errors.Count > 0)
        {
            foreach (var error in errors.Values)
            {
                context.Stderr.WriteLine(error);
            }

            return CliApp.Refused;
        }

        accounts.Add(user, password!, "console");
        await context.Services.GetRequiredService<TokenAdminDb>().SaveChangesAsync(cancellationToken);
        context.Stdout.WriteLine($"Admin '{user.Trim()}' created.");
        return CliApp.Ok;
    }

    private static async Task<int> ListAsync(CliContext context, CancellationToken cancellationToken)
    {
        var db = context.Services.GetRequiredService<TokenAdminDb>();
        var now = context.Services.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
        var admins = await db.AdminUsers.AsNoTracking().OrderBy(u => u.NormalizedUserName).ToListAsync(cancellationToken);
        if (admins.Count == 0)
        {
            context.Stdout.WriteLine("No local admins.");
        }

        foreach (var admin in admins)
        {
            var disabled = admin.Disabled ? "  disabled" : "";
            var locked = admin.LockedUntil > now ? $"  locked until {admin.LockedUntil:yyyy-MM-dd HH:mm} UTC" : "";
            var last = admin.LastSignInAt is { } at ? $"last sign-in {at:yyyy-MM-dd HH:mm} UTC" : "never signed in";
            context.Stdout.WriteLine($"{admin.UserName}  {last}{disabled}{locked}");
        }

        return CliApp.Ok;
    }

    private static async Task<int> UnlockAsync(CliContext context, CancellationToken cancellationToken)
    {
        var user = context.Get(User)!;
        if (!await context.Services.GetRequiredService<AdminAccounts>().UnlockAsync(user, "console", cancellationToken))
        {
            context.Stderr.WriteLine($"There is no admin named '{user}'.");
            return CliApp.Refused;
        }

        context.Stdout.WriteLine($"Admin '{user}' is unlocked.");
        return CliApp.Ok;
    }

    private static async Task<int> SetupLinkAsync(CliContext context, CancellationToken cancellationToken)
    {
        if (await context.Services.GetRequiredService<AdminAccounts>().AnyAsync(cancellationToken))
        {
            context.Stderr.WriteLine("An admin exists already; setup links are only for the first one. Use 'admin create' for more.");
            return CliApp.Refused;
        }

        var (token, expires) = await context.Services.GetRequiredService<SetupLinks>().CreateAsync(cancellationToken);
        var settings = await context.Services.GetRequiredService<Settings.SettingsStore>().GetAsync(cancellationToken);
        context.Stdout.WriteLine($"{settings.PublicBaseUrl}/setup?token={token}");
        context.Stdout.WriteLine($"Valid until {expires:yyyy-MM-dd HH:mm} UTC, once.");
        return CliApp.Ok;
    }
}
