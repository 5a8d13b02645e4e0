using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Refresh;
using TokenAdmin.Tests.Tokens;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.Tests.Refresh;

/// <summary>
/// The app and test identity provider of <see cref="TokenTestBase"/>, with helpers to put token configs into a given
/// state and to run or await token store updater runs.
/// </summary>
public abstract class UpdaterTestBase : TokenTestBase
{
    protected static readonly TimeSpan Bounded = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Whether this app starts its Quartz scheduler. Tests that count provider requests keep it off, so a scheduled run
    /// (the default schedule fires every hour) cannot add requests of its own.
    /// </summary>
    protected abstract bool SchedulerEnabled { get; }

    public override async Task InitializeAsync()
    {
        App.Settings["TokenAdmin:TokenStoreUpdater:Enabled"] = SchedulerEnabled ? "true" : "false";
        App.Settings["TokenAdmin:Providers:RetryDelay"] = "00:00:00.010";
        await base.InitializeAsync();
    }

    /// <summary>A token config that went through the authorization-code flow at the test provider.</summary>
    protected async Task<int> AuthorizedConfigAsync(string name, Action<TokenConfigDocument>? change = null)
    {
        var id = await CreateConfigAsync(name, change: change);
        Assert.Equal(HttpStatusCode.Redirect, (await AuthorizeAsync(id)).StatusCode);
        return id;
    }

    /// <summary>A client-credentials config that has received a token.</summary>
    protected async Task<int> ClientCredentialsConfigWithTokenAsync(string name)
    {
        var id = await CreateConfigAsync(name, TokenFlows.ClientCredentials);
        using var scope = App.Services.CreateScope();
        var result = await scope.ServiceProvider.GetRequiredService<TokenEngine>().RequestAsync(TokenSource.Config(id), "test", default);
        Assert.True(result.Succeeded, result.Message);
        return id;
    }

    /// <summary>Changes a stored token state, as time passing or a provider's answer would have.</summary>
    protected Task ChangeStateAsync(int id, Action<TokenState> change) =>
        App.WithDbAsync(async db =>
        {
            var state = await db.TokenStates.SingleAsync(s => s.TokenConfigId == id);
            change(state);
            state.Version = Guid.NewGuid().ToString("N");
            return await db.SaveChangesAsync();
        });

    /// <summary>One updater pass in this process, the way the Quartz job runs it.</summary>
    protected async Task<UpdaterRunSummary> RunUpdaterAsync(string triggeredBy = "test")
    {
        using var scope = App.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<TokenStoreUpdater>().RunAsync(triggeredBy, default);
    }

    /// <summary>Does <paramref name="act"/> and returns the first run summary recorded afterwards that matches.</summary>
    protected async Task<UpdaterRunSummary> RecordedRunAsync(Func<UpdaterRunSummary, bool> match, Func<Task> act)
    {
        var log = App.Services.GetRequiredService<UpdaterRunLog>();
        var recorded = new TaskCompletionSource<UpdaterRunSummary>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnRecorded(UpdaterRunSummary summary)
        {
            if (match(summary))
            {
                recorded.TrySetResult(summary);
            }
        }

        log.Recorded += OnRecorded;
        try
        {
            await act();
            return await recorded.Task.WaitAsync(Bounded);
        }
        finally
        {
            log.Recorded -= OnRecorded;
        }
    }

    protected static DateTime Now => DateTime.UtcNow;
}
