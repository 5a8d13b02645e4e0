using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Data;
using TokenAdmin.Mail;

namespace TokenAdmin.Tests.Mail;

/// <summary>
/// The fetcher's one-statement insert of index rows stores what EF Core's own insert stored, and a batch goes in whole
/// or not at all. Runs on SQLite and, in the PostgreSQL pass of tests/run.sh, on PostgreSQL.
/// </summary>
public sealed class FetchedMessageRowsTests : GraphMailTestBase
{
    private static FetchedMessage Row(int accountId, string key, int size = 100) => new()
    {
        MailAccountId = accountId,
        ServerKey = key,
        SpoolPath = $"{accountId}/{key}.eml",
        Size = size,
        From = "a@example.test",
        Subject = "subject " + key,
        FetchedAt = new DateTime(2026, 12, 4, 5, 6, 7, DateTimeKind.Utc).AddTicks(1234560),
    };

    private async Task<T> WithDbAsync<T>(Func<TokenAdminDb, Task<T>> work)
    {
        using var scope = App.Services.CreateScope();
        return await work(scope.ServiceProvider.GetRequiredService<TokenAdminDb>());
    }

    [Fact]
    public async Task Insert_SetsEachRowsId_AndStoresEveryColumnAsEfCoreReadsIt()
    {
        var account = await CreateAccountAsync();
        var full = Row(account, "graph:full");
        full.MessageId = "<m1@example.test>";
        full.From = "Jürgen Ä <j@example.test>";
        full.Subject = "Grüße – ünïcode ✓";
        full.Date = new DateTime(2026, 12, 1, 23, 59, 58, DateTimeKind.Utc);
        full.ParseError = null;
        var bare = Row(account, "graph:bare", size: 0);
        bare.ParseError = "no headers";
        var rows = new List<FetchedMessage> { full, bare, Row(account, "graph:third") };

        await WithDbAsync(async db =>
        {
            await FetchedMessageRows.InsertAsync(db, rows, default);
            return 0;
        });

        Assert.All(rows, r => Assert.True(r.Id > 0));
        Assert.Equal(3, rows.Select(r => r.Id).Distinct().Count());
        var stored = await StoredAsync(account);
        Assert.Equal(3, stored.Count);
        foreach (var row in rows)
        {
            var back = stored.Single(s => s.Id == row.Id);
            Assert.Equal(row.ServerKey, back.ServerKey);
            Assert.Equal(row.MailAccountId, back.MailAccountId);
            Assert.Equal(row.MessageId, back.MessageId);
            Assert.Equal(row.From, back.From);
            Assert.Equal(row.Subject, back.Subject);
            Assert.Equal(row.Date, back.Date);
            Assert.Equal(row.Size, back.Size);
            Assert.Equal(row.SpoolPath, back.SpoolPath);
            Assert.Equal(row.ParseError, back.ParseError);
            // Whole microseconds survive on both engines; the time comes back as UTC (the model's converter).
            Assert.Equal(row.FetchedAt, back.FetchedAt);
            Assert.Equal(DateTimeKind.Utc, back.FetchedAt.Kind);
        }
    }

    [Fact]
    public async Task Insert_ABatchWithAKeyStoredBefore_IsRefusedWhole_WithADbUpdateException()
    {
        var account = await CreateAccountAsync();
        await WithDbAsync(async db =>
        {
            await FetchedMessageRows.InsertAsync(db, [Row(account, "graph:1")], default);
            return 0;
        });
        var batch = new List<FetchedMessage> { Row(account, "graph:2"), Row(account, "graph:1"), Row(account, "graph:3") };

        var refused = await Assert.ThrowsAsync<DbUpdateException>(() => WithDbAsync(async db =>
        {
            await FetchedMessageRows.InsertAsync(db, batch, default);
            return 0;
        }));

        Assert.NotNull(refused.InnerException);
        Assert.All(batch, r => Assert.Equal(0, r.Id));
        Assert.Equal(["graph:1"], (await StoredAsync(account)).Select(m => m.ServerKey));
    }

    [Fact]
    public async Task Insert_MoreRowsThanOneStatementTakes_GoesInWholeOrNotAtAll()
    {
        var account = await CreateAccountAsync();
        var broken = Enumerable.Range(0, 1200).Select(i => Row(account, $"graph:{i % 1100}")).ToList();

        await Assert.ThrowsAsync<DbUpdateException>(() => WithDbAsync(async db =>
        {
            await FetchedMessageRows.InsertAsync(db, broken, default);
            return 0;
        }));

        // The first two statements (1,000 rows) went in before the third failed: rolled back with it.
        Assert.Empty(await StoredAsync(account));
        Assert.All(broken, r => Assert.Equal(0, r.Id));

        var rows = Enumerable.Range(0, 1200).Select(i => Row(account, $"graph:{i}")).ToList();
        await WithDbAsync(async db =>
        {
            await FetchedMessageRows.InsertAsync(db, rows, default);
            return 0;
        });

        var stored = await StoredAsync(account);
        Assert.Equal(1200, stored.Count);
        Assert.Equal(stored.Select(s => (s.Id, s.ServerKey)).Order(), rows.Select(r => (r.Id, r.ServerKey)).Order());
    }

    [Fact]
    public async Task Insert_ATimeOfLocalKind_IsStoredAsUtc_ThroughTheModelsConverter()
    {
        var account = await CreateAccountAsync();
        var row = Row(account, "graph:local");
        row.FetchedAt = new DateTime(2026, 12, 4, 8, 30, 0, DateTimeKind.Local);
        row.Date = new DateTime(2026, 12, 3, 22, 15, 0, DateTimeKind.Local);

        await WithDbAsync(async db =>
        {
            await FetchedMessageRows.InsertAsync(db, [row], default);
            return 0;
        });

        // Without the converter PostgreSQL refuses a local time for a timestamptz, and SQLite would keep the local clock.
        var back = Assert.Single(await StoredAsync(account));
        Assert.Equal(row.FetchedAt.ToUniversalTime(), back.FetchedAt);
        Assert.Equal(row.Date.Value.ToUniversalTime(), back.Date);
    }

    [Fact]
    public async Task Insert_Cancelled_IsACancellation_NotARefusal_AndStoresNothing()
    {
        var account = await CreateAccountAsync();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => WithDbAsync(async db =>
        {
            await FetchedMessageRows.InsertAsync(db, [Row(account, "graph:c")], cancelled.Token);
            return 0;
        }));

        Assert.Empty(await StoredAsync(account));
    }

    [Fact]
    public async Task Insert_InACallersTransactionThatRollsBack_LeavesNothing()
    {
        var account = await CreateAccountAsync();

        await WithDbAsync(async db =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            await FetchedMessageRows.InsertAsync(db, [Row(account, "graph:a"), Row(account, "graph:b")], default);
            Assert.Equal(2, await db.FetchedMessages.CountAsync(m => m.MailAccountId == account));
            await transaction.RollbackAsync();
            return 0;
        });

        Assert.Empty(await StoredAsync(account));
    }
}
