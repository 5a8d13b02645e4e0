using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using TokenAdmin.TestIdentityProvider.Internal;

namespace TokenAdmin.TestIdentityProvider;

/// <summary>
/// Standalone entry point: runs the test identity provider until Ctrl+C.
/// (No top-level statements: test projects reference this exe next to a web app whose Program is global.)
/// </summary>
public static class Program
{
    /// <summary>Runs the provider; exit code 0 on Ctrl+C, 1 when it cannot start, 2 for bad arguments.</summary>
    public static async Task<int> Main(string[] args)
    {
        CommandLineOptions parsed;
        try
        {
            parsed = CommandLine.Parse(args);
        }
        catch (CommandLineException exception)
        {
            await Console.Error.WriteLineAsync($"error: {exception.Message}");
            await Console.Error.WriteLineAsync("Run with --help for usage.");
            return 2;
        }

        if (parsed.ShowHelp)
        {
            Console.WriteLine(CommandLine.Usage);
            return 0;
        }

        var options = new TestIdentityProviderOptions
        {
            Port = parsed.Port,
            DatabasePath = parsed.DatabasePath,
            RequirePkce = parsed.RequirePkce,
            MinimumLogLevel = parsed.Verbose ? LogLevel.Information : LogLevel.Warning,
        };
        foreach (var user in parsed.Users)
        {
            options.Users.Add(user);
        }

        foreach (var audience in parsed.Audiences)
        {
            options.AccessTokenAudiences.Add(audience);
        }

        foreach (var client in parsed.Clients)
        {
            options.Clients.Add(client);
        }

        using var stop = new CancellationTokenSource();
        void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
        {
            e.Cancel = true;
            stop.Cancel();
        }

        Console.CancelKeyPress += OnCancelKeyPress;
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stop.Cancel();
        });

        try
        {
            TestIdentityProviderServer server;
            try
            {
                server = await TestIdentityProviderServer.StartAsync(options, stop.Token);
            }
            catch (IOException exception)
            {
                await Console.Error.WriteLineAsync($"error: cannot start on 127.0.0.1:{parsed.Port}: {exception.Message}");
                return 1;
            }
            catch (OperationCanceledException)
            {
                return 0;
            }

            await using (server)
            {
                if (parsed.AccessTokenLifetime is { } lifetime)
                {
                    server.AccessTokenLifetime = lifetime;
                }

                PrintSummary(server, parsed);

                try
                {
                    await Task.Delay(Timeout.Infinite, stop.Token);
                }
                catch (OperationCanceledException)
                {
                    Console.WriteLine("Stopping...");
                }
            }

            return 0;
        }
        finally
        {
            Console.CancelKeyPress -= OnCancelKeyPress;
        }
    }

    private static void PrintSummary(TestIdentityProviderServer server, CommandLineOptions parsed)
    {
        Console.WriteLine("TokenAdmin test identity provider is running.");
        Console.WriteLine($"  Issuer:          {server.Issuer}");
        Console.WriteLine($"  Metadata:        {server.MetadataAddress}");
        Console.WriteLine($"  Authorization:   {server.AuthorizationEndpoint}");
        Console.WriteLine($"  Token:           {server.TokenEndpoint}");
        Console.WriteLine($"  Introspection:   {server.IntrospectionEndpoint}");
        Console.WriteLine($"  Userinfo:        {server.UserInfoEndpoint}");
        Console.WriteLine($"  End session:     {server.EndSessionEndpoint}");
        Console.WriteLine($"  PKCE (S256):     {(parsed.RequirePkce ? "required" : "optional")}");
        Console.WriteLine($"  Database:        {parsed.DatabasePath ?? "temporary (deleted on exit)"}");
        Console.WriteLine("Users:");
        foreach (var user in parsed.Users)
        {
            var claims = string.Join("; ", user.Claims.Select(static claim => $"{claim.Key}={string.Join(",", claim.Value)}"));
            Console.WriteLine($"  {user.UserName} / {user.Password}{(claims.Length > 0 ? $"  ({claims})" : "")}");
        }

        Console.WriteLine("Clients:");
        foreach (var client in parsed.Clients)
        {
            Console.WriteLine($"  {client.ClientId} ({(client.IsPublic ? "public" : "confidential, secret " + client.ClientSecret)})");
            Console.WriteLine($"    redirect URIs:             {string.Join(", ", client.RedirectUris)}");
            Console.WriteLine($"    post-logout redirect URIs: {string.Join(", ", client.PostLogoutRedirectUris)}");
        }

        Console.WriteLine("Press Ctrl+C to stop.");
    }
}
