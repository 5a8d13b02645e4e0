using TokenAdmin.Refresh;

namespace TokenAdmin.Cli;

/// <summary>Console verbs that run a background job once, in this process: `jobs run token-store-updater`.</summary>
internal static class JobVerbs
{
    public static IReadOnlyList<CliVerb> All { get; } =
    [
        new(["jobs", "run", "token-store-updater"], "Runs the token store updater once and prints what it did.",
            "Refreshes the tokens that would expire before the next scheduled run and the refresh tokens a provider would drop " +
            "for being unused, like a scheduled run (settings TokenStoreUpdater.*). The run is listed on the Scheduler page. " +
            "Exit code 1 when a token config could not be refreshed.",
            RunTokenStoreUpdaterAsync)
        {
            Examples = ["TokenAdmin jobs run token-store-updater"],
        },
    ];

    private static async Task<int> RunTokenStoreUpdaterAsync(CliContext context, CancellationToken cancellationToken)
    {
        var summary = await context.Services.GetRequiredService<TokenStoreUpdater>().RunAsync("console", cancellationToken);
        context.Stdout.WriteLine($"Token store updater: {summary.Headline}.");
        foreach (var refreshed in summary.Refreshed)
        {
            context.Stdout.WriteLine($"  refreshed  {refreshed.Name}: {refreshed.Why}");
        }

        foreach (var skipped in summary.Skipped)
        {
            context.Stdout.WriteLine($"  skipped    {skipped.Name}: {skipped.Reason}");
        }

        foreach (var failed in summary.Failed)
        {
            context.Stderr.WriteLine($"  failed     {failed.Name} ({failed.Reason}): {failed.Message}");
        }

        return summary.Failed.Count == 0 ? CliApp.Ok : CliApp.Refused;
    }
}
