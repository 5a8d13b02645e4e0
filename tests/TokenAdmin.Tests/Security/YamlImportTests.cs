using System.Diagnostics;
using System.Text;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Tests.Infrastructure;
using TokenAdmin.Tokens;
using static TokenAdmin.Tests.Tokens.TokenTransferData;

namespace TokenAdmin.Tests.Security;

/// <summary>
/// Issue 17, item 3: a YAML import costs at most one linear pass before the parser sees deep nesting, stops when the
/// request is cancelled, and refuses duplicate keys (which YamlDotNet silently resolves to the last value).
/// </summary>
public sealed class YamlImportTests : IAsyncLifetime
{
    private const string Header = "tokenAdminExport: 1\nexportedAt: 2026-01-02T03:04:05Z\ntokenConfigs:\n";

    private readonly TokenAdminFactory _app = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private static string Entry(string extra = "") => $"""
        - name: Mailbox
          template: GoogleMail
          clientId: 5555.apps.googleusercontent.com
          scope: https://mail.google.com/
        {extra}  endpoints:
            authorization: https://accounts.google.com/o/oauth2/v2/auth
            token: https://oauth2.googleapis.com/token

        """;

    [Theory]
    [InlineData("[", "]")]
    [InlineData("{a: ", "}")]
    public async Task Import_NestedDeeperThan64_IsRefusedWithLineAndColumn_AndChangesNothing(string open, string close)
    {
        var deep = Header + Entry() + "  description: " + string.Concat(Enumerable.Repeat(open, 65)) + "x" + string.Concat(Enumerable.Repeat(close, 65)) + "\n";

        var result = await ImportAsync(_app, deep);

        Assert.False(result.Succeeded);
        Assert.Contains(result.Errors, e => e.Message.Contains("nested deeper than 64", StringComparison.Ordinal) && e.Message.StartsWith("Line 11, column", StringComparison.Ordinal));
        Assert.Equal(0, await _app.WithDbAsync(db => db.TokenConfigs.CountAsync()));
    }

    [Fact]
    public async Task Import_400000OpenBrackets_IsRefusedInAFewSeconds()
    {
        var bomb = Header + Entry() + "  description: " + new string('[', 400_000) + "\n";
        var clock = Stopwatch.StartNew();

        var result = await ImportAsync(_app, bomb).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.False(result.Succeeded);
        Assert.Contains("nested deeper than 64", Errors(result), StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task Import_BlockNestingDeeperThan64_IsRefused()
    {
        var block = new StringBuilder(Header + Entry() + "  parameters:\n    token:\n      resource:\n");
        for (var i = 0; i < 70; i++)
        {
            block.Append(' ', 8 + i).Append("- \n");
        }

        var result = await ImportAsync(_app, block.ToString());

        Assert.False(result.Succeeded);
        Assert.Contains("nested deeper than 64", Errors(result), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_64Deep_IsStillReadAsYaml()
    {
        // 64 levels in all pass the depth check; the YAML itself is then judged as before (here: not a string).
        var deep = Header + Entry() + "  description: " + new string('[', 60) + new string(']', 60) + "\n";

        var result = await ImportAsync(_app, deep);

        Assert.DoesNotContain("nested deeper", Errors(result), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_DuplicateKey_IsRefusedWithLineAndColumn_AndChangesNothing()
    {
        var duplicate = Header + Entry("  clientId: attacker-chosen-client\n");

        var result = await ImportAsync(_app, duplicate);

        Assert.False(result.Succeeded);
        Assert.Contains(result.Errors, e => e.Message.Contains("Line 8, column 3", StringComparison.Ordinal)
            && e.Message.Contains("duplicate key 'clientId'", StringComparison.Ordinal));
        Assert.Equal(0, await _app.WithDbAsync(db => db.TokenConfigs.CountAsync()));
    }

    [Fact]
    public void Read_DuplicateKeyInASingleConfig_IsRefused()
    {
        var ex = Assert.Throws<TokenConfigYamlException>(() => TokenConfigYaml.Read<object>("name: a\nclientId: b\nname: c\n"));

        Assert.Equal("Line 3, column 1: duplicate key 'name' (first at line 1).", ex.Message);
    }

    [Fact]
    public void Read_StopsWhenCancelled()
    {
        var big = new StringBuilder();
        for (var i = 0; i < 20_000; i++)
        {
            big.Append("key").Append(i).Append(": [1, 2, {a: b}]\n");
        }

        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => TokenConfigYaml.Read<object>(big.ToString(), cancelled.Token));
    }

    [Fact]
    public async Task Import_CancelledRequest_ChangesNothing()
    {
        using var scope = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.CreateScope(_app.Services);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(Header + Entry()));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            TokenConfigTransfer.Create(scope.ServiceProvider).ImportAsync(stream, false, "test", "import.yaml", cancelled.Token));
        Assert.Equal(0, await _app.WithDbAsync(db => db.TokenConfigs.CountAsync()));
    }
}
