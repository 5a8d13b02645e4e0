using Microsoft.Extensions.DependencyInjection;
using Quartz;
using TokenAdmin.Mail;
using TokenAdmin.Tests.Infrastructure;

namespace TokenAdmin.Tests.Mail;

public sealed class MailJobRegistrationTests : IAsyncLifetime
{
    private readonly TokenAdminFactory _app = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task MailFetchJob_IsScheduledEveryMinute_BesideTheTokenStoreUpdater()
    {
        _ = _app.Server;
        var scheduler = await _app.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();

        var triggers = await scheduler.GetTriggersOfJob(MailFetchJob.Key);

        var cron = Assert.IsAssignableFrom<ICronTrigger>(Assert.Single(triggers));
        Assert.Equal("0 * * * * ?", cron.CronExpressionString);
        Assert.True((await scheduler.GetJobDetail(MailFetchJob.Key))!.ConcurrentExecutionDisallowed);
        Assert.NotNull(await scheduler.GetJobDetail(TokenAdmin.Refresh.RefreshSchedule.JobKey));
    }
}
