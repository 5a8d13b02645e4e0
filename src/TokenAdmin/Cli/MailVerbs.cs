using System.CommandLine;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Data;
using TokenAdmin.Mail;

namespace TokenAdmin.Cli;

/// <summary>Console verbs for mail accounts: `mail accounts`, `mail fetch 3`.</summary>
internal static class MailVerbs
{
    private static readonly Argument<int> Id = new("id") { Description = "The mail account's id, as 'mail accounts' shows it." };

    public static IReadOnlyList<CliVerb> All { get; } =
    [
        new(["mail", "accounts"], "Lists the mail accounts with their last fetch.",
            "One line per mail account: id, login at host, type, valid, last fetch and its count, last error.", ListAsync),
        new(["mail", "fetch"], "Fetches one mail account now and prints what it stored.",
            "Fetches like the scheduled job: each new message is stored (.eml under the data directory, then its index row) " +
            "before it is deleted or flagged on the server. Exit code 1 when the fetch reported an error (shown on the account too).",
            FetchAsync)
        {
            Symbols = [Id],
            Examples = ["TokenAdmin mail fetch 3"],
        },
    ];

    private static async Task<int> ListAsync(CliContext context, CancellationToken cancellationToken)
    {
        var db = context.Services.GetRequiredService<TokenAdminDb>();
        var accounts = await db.MailAccounts.AsNoTracking().OrderBy(a => a.Id).ToListAsync(cancellationToken);
        if (accounts.Count == 0)
        {
            context.Stdout.WriteLine("No mail accounts.");
        }

        foreach (var a in accounts)
        {
            var last = a.LastFetchAt is { } at ? string.Create(CultureInfo.InvariantCulture, $"last fetch {at:yyyy-MM-dd HH:mm:ss} UTC, {a.LastFetchCount} new") : "never fetched";
            context.Stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{a.Id,4}  {a.DisplayName}  {a.Type}  {(a.Valid ? "valid" : "invalid")}  {last}{(a.LastError is null ? "" : "  error: " + a.LastError)}"));
        }

        return CliApp.Ok;
    }

    private static async Task<int> FetchAsync(CliContext context, CancellationToken cancellationToken)
    {
        var id = context.Get(Id);
        if (!await context.Services.GetRequiredService<TokenAdminDb>().MailAccounts.AnyAsync(a => a.Id == id, cancellationToken))
        {
            context.Stderr.WriteLine($"There is no mail account {id}. 'mail accounts' lists them.");
            return CliApp.Refused;
        }

        var result = await context.Services.GetRequiredService<MailFetcher>().FetchAsync(id, cancellationToken);
        (result.Ran && result.Errors.Count == 0 ? context.Stdout : context.Stderr).WriteLine(result.Summary);
        return result.Ran && result.Errors.Count == 0 ? CliApp.Ok : CliApp.Refused;
    }
}
