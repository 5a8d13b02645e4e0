using Microsoft.Extensions.DependencyInjection;
using TokenAdmin.Admin;
using TokenAdmin.Tests.Infrastructure;

namespace TokenAdmin.Tests.Security;

/// <summary>Issue 17, item 6: common passwords, runs of one character and the user name are refused with a clear message.</summary>
public sealed class WeakPasswordTests : IAsyncLifetime
{
    private readonly TokenAdminFactory _app = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private async Task<Dictionary<string, string>> ValidateAsync(string user, string password)
    {
        using var scope = _app.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<AdminAccounts>().ValidateNewAsync(user, password, default);
    }

    [Theory]
    [InlineData("aaaaaaaaaaaa", "one character")]
    [InlineData("777777777777777", "one character")]
    [InlineData("password1234", "common")]
    [InlineData("Password1234", "common")]
    [InlineData("123456789012", "common")]
    [InlineData("qwertyuiop123", "common")]
    [InlineData("iloveyou1234", "common")]
    [InlineData("administrator", "common")]
    [InlineData("margaret-admin", "user name")]
    [InlineData("MARGARET", "user name")]
    public async Task NewAdmin_WeakPassword_IsRefusedWithAClearMessage(string password, string reason)
    {
        var errors = await ValidateAsync("margaret", password);

        Assert.True(errors.TryGetValue("Password", out var message), $"'{password}' was accepted");
        Assert.Contains(reason, message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NewAdmin_GoodPassword_IsAccepted()
    {
        Assert.Empty(await ValidateAsync("margaret", "plum tractor overlay 41"));
    }

    [Fact]
    public async Task Console_AdminCreate_WithARunOfOneCharacter_IsRefused()
    {
        _ = _app.Services;
        var (exit, _, err) = await ConsoleVerbs.RunAsync(_app.DataDirectory, "aaaaaaaaaaaaaaaa\n", "admin", "create", "--user", "margaret", "--password-stdin");

        Assert.NotEqual(0, exit);
        Assert.Contains("one character", err, StringComparison.Ordinal);
    }
}
