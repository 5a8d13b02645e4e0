using System.CommandLine;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using TokenAdmin.Data;
using TokenAdmin.Settings;
using TokenAdmin.TokenProvider;
using TokenAdmin.Tokens;

namespace TokenAdmin.Cli;

/// <summary>Console verbs that read and renew tokens: list, auth-url, refresh, request, device, diagnose.</summary>
internal static class TokenStateVerbs
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static readonly Option<bool> Json = new("--json")
    {
        Description = "Print one JSON array (name, template, flow, valid, status, accessTokenExpiresAt, refreshTokenExpiresAt, lastError).",
    };

    private static readonly Argument<string> Name = new("NAME") { Description = "The token config's name, as 'tokens list' shows it." };

    private static readonly Option<bool> FunctionalAccount = new("--functional-account")
    {
        Description = "NAME names a functional account rather than a token config.",
    };

    public static IReadOnlyList<CliVerb> All { get; } =
    [
        new(["tokens", "list"], "Lists the token configs with their status.", "", ListAsync)
        {
            Symbols = [Json],
            Examples = ["TokenAdmin tokens list --json"],
        },
        new(["tokens", "auth-url"], "Prints the provider link that starts the authorization-code flow for a token config.",
            "Open the link in a browser where you are signed in to TokenAdmin; the provider sends it back to the redirect URI. " +
            "The link works once and for 10 minutes.", AuthUrlAsync)
        {
            Symbols = [Name],
            Examples = ["TokenAdmin tokens auth-url 'Support mailbox'"],
        },
        new(["tokens", "refresh"], "Refreshes a token with its refresh token (refresh_token grant).", "", RefreshAsync)
        {
            Symbols = [Name],
            Examples = ["TokenAdmin tokens refresh 'Support mailbox'"],
        },
        new(["tokens", "request"], "Requests a new token for a client-credentials or password token config.", "", RequestAsync)
        {
            Symbols = [Name],
            Examples = ["TokenAdmin tokens request 'Backend API'"],
        },
        new(["tokens", "device"], "Starts the device sign-in (device code flow) of a token config or functional account and waits for it.",
            "Prints the user code and the address where a person enters it, then polls the provider until the tokens are stored, " +
            "the person declines, or the code expires (at most its lifetime, which the provider states). Exit code 0 when the tokens " +
            "were stored, 1 otherwise.", DeviceAsync)
        {
            Symbols = [Name, FunctionalAccount],
            Examples = ["TokenAdmin tokens device 'Support mailbox'", "TokenAdmin tokens device 'Mail robot' --functional-account"],
        },
        new(["tokens", "diagnose"], "Decodes the current access token of a token config or functional account and explains it.",
            "Prints the token's audience, tenant, app, roles or scp, user and expiry in words, what Exchange Online or Gmail will likely " +
            "answer to it, and what uses the source. Claims only: never the token; the signature is not verified. Exit code 1 when " +
            "no access token is held.", DiagnoseAsync)
        {
            Symbols = [Name, FunctionalAccount],
            Examples = ["TokenAdmin tokens diagnose 'Support mailbox'", "TokenAdmin tokens diagnose 'Mail robot' --functional-account"],
        },
    ];

    private static async Task<int> DeviceAsync(CliContext context, CancellationToken cancellationToken)
    {
        if (await SourceAsync(context, cancellationToken) is not { } source)
        {
            return CliApp.Refused;
        }

        var (signIn, message) = await context.Services.GetRequiredService<DeviceSignIns>().StartAsync(source, "console", cancellationToken);
        if (signIn is null)
        {
            context.Stderr.WriteLine(message);
            return CliApp.Refused;
        }

        context.Stdout.WriteLine($"Open {signIn.VerificationUri} and enter the code {signIn.UserCode}");
        if (signIn.VerificationUriComplete is { } complete)
        {
            context.Stdout.WriteLine($"(or open {complete})");
        }

        context.Stdout.WriteLine($"The code is valid until {signIn.ExpiresAt:yyyy-MM-dd HH:mm:ss} UTC. Waiting for the sign-in ...");
        context.Stdout.Flush();
        // Note: bounded: the poller ends the sign-in by the codes' expiry at the latest.
        await signIn.Finished.WaitAsync(cancellationToken);
        (signIn.Status == DeviceSignInStatus.Succeeded ? context.Stdout : context.Stderr).WriteLine(signIn.Message);
        return signIn.Status == DeviceSignInStatus.Succeeded ? CliApp.Ok : CliApp.Refused;
    }

    /// <summary>The source NAME names: a token config, or with --functional-account a functional account; null (said why) when none.</summary>
    private static async Task<TokenSource?> SourceAsync(CliContext context, CancellationToken cancellationToken)
    {
        var name = context.Get(Name);
        if (context.Get(FunctionalAccount))
        {
            var db = context.Services.GetRequiredService<TokenAdminDb>();
            var id = await db.FunctionalAccounts.AsNoTracking().Where(a => a.Name == name).Select(a => (int?)a.Id).SingleOrDefaultAsync(cancellationToken);
            if (id is null)
            {
                context.Stderr.WriteLine($"There is no functional account named '{name}'.");
                return null;
            }

            return TokenSource.Account(id.Value);
        }

        return await FindAsync(context, cancellationToken) is { } config ? TokenSource.Config(config.Id) : null;
    }

    private static async Task<int> DiagnoseAsync(CliContext context, CancellationToken cancellationToken)
    {
        if (await SourceAsync(context, cancellationToken) is not { } source)
        {
            return CliApp.Refused;
        }

        SourceDiagnosis? result;
        try
        {
            result = await context.Services.GetRequiredService<TokenDiagnostics>().DiagnoseAsync(source, cancellationToken);
        }
        catch (TokenSourceUnreadableException ex)
        {
            context.Stderr.WriteLine(ex.Message);
            return CliApp.Refused;
        }

        if (result is null)
        {
            context.Stderr.WriteLine($"'{context.Get(Name)}' no longer exists.");
            return CliApp.Refused;
        }

        var d = result.Diagnosis;
        var output = context.Stdout;
        output.WriteLine($"Diagnosis of the access token of {result.Noun} '{result.Name}' (claims only; the signature is not verified):");
        output.WriteLine(d.Summary);
        foreach (var fact in d.Facts)
        {
            output.WriteLine($"  {fact.Label}: {fact.Value}");
            output.WriteLine($"      {fact.Meaning}");
        }

        if (d.MailServers.Count > 0)
        {
            output.WriteLine("What a mail server will likely say:");
            foreach (var server in d.MailServers)
            {
                var word = server.Verdict switch { MailVerdict.LikelyAccepted => "likely accepted", MailVerdict.Refused => "refused", _ => "cannot tell" };
                output.WriteLine($"  {server.Server}: {word}. {server.Reason}");
            }
        }

        output.WriteLine(result.UsedBy.Count == 0 ? "Used by: nothing." : $"Used by: {string.Join("; ", result.UsedBy)}.");
        return d.Format == TokenFormat.None ? CliApp.Refused : CliApp.Ok;
    }

    private static async Task<int> ListAsync(CliContext context, CancellationToken cancellationToken)
    {
        var db = context.Services.GetRequiredService<TokenAdminDb>();
        var now = context.Services.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
        var configs = await db.TokenConfigs.AsNoTracking().Include(c => c.State).OrderBy(c => c.NormalizedName).ToListAsync(cancellationToken);
        var rows = configs.Select(c => (Config: c, Status: TokenStatus.Of(TokenStatus.FactsOf(c.Valid, c.State), c.ExpiringSoonDays, now))).ToList();
        if (context.Get(Json))
        {
            context.Stdout.WriteLine(JsonSerializer.Serialize(rows.Select(r => new
            {
                name = r.Config.Name,
                template = r.Config.Template,
                flow = r.Config.Flow,
                valid = r.Config.Valid,
                status = r.Status.Kind.ToString(),
                statusText = r.Status.Text,
                accessTokenExpiresAt = r.Config.State?.AccessTokenExpiresAt,
                refreshTokenExpiresAt = r.Config.State?.RefreshTokenExpiresAt,
                lastError = r.Status.LastError,
            }), Indented));
            return CliApp.Ok;
        }

        if (rows.Count == 0)
        {
            context.Stdout.WriteLine("No token configs.");
        }

        foreach (var (config, status) in rows)
        {
            context.Stdout.WriteLine($"{config.Name}  [{config.Template}, {config.Flow}{(config.Valid ? "" : ", invalid")}]  {status.Text}{(status.LastError is null ? "" : "  last error: " + status.LastError)}");
        }

        return CliApp.Ok;
    }

    private static async Task<int> AuthUrlAsync(CliContext context, CancellationToken cancellationToken)
    {
        if (await FindAsync(context, cancellationToken) is not { } config)
        {
            return CliApp.Refused;
        }

        if (!config.Valid)
        {
            context.Stderr.WriteLine($"'{config.Name}' is set to invalid; make it valid first.");
            return CliApp.Refused;
        }

        if (config.Flow != TokenFlows.AuthorizationCode)
        {
            context.Stderr.WriteLine($"'{config.Name}' uses the {config.Flow} flow; use 'tokens request {config.Name}'.");
            return CliApp.Refused;
        }

        var settings = await context.Services.GetRequiredService<SettingsStore>().GetAsync(cancellationToken);
        if (settings.IsInsecurePublicUrl)
        {
            context.Stderr.WriteLine($"The redirect URI {settings.RedirectUri} uses plain http on a host other than this machine. " +
                $"Run 'config update --setting-name {PublicUrlSettings.HttpType} --value https' and serve TokenAdmin over https first.");
            return CliApp.Refused;
        }

        try
        {
            context.Stdout.WriteLine(await context.Services.GetRequiredService<AuthorizationFlow>().CreateConsoleLinkAsync(TokenSource.Config(config.Id), cancellationToken));
            return CliApp.Ok;
        }
        catch (InvalidOperationException ex)
        {
            context.Stderr.WriteLine(ex.Message);
            return CliApp.Refused;
        }
    }

    private static Task<int> RefreshAsync(CliContext context, CancellationToken cancellationToken) =>
        RunAsync(context, (engine, id) => engine.RenewAsync(TokenSource.Config(id), "console", cancellationToken), cancellationToken);

    private static Task<int> RequestAsync(CliContext context, CancellationToken cancellationToken) =>
        RunAsync(context, (engine, id) => engine.RequestAsync(TokenSource.Config(id), "console", cancellationToken), cancellationToken);

    private static async Task<int> RunAsync(CliContext context, Func<TokenEngine, int, Task<TokenOperationResult>> operation, CancellationToken cancellationToken)
    {
        if (await FindAsync(context, cancellationToken) is not { } config)
        {
            return CliApp.Refused;
        }

        var result = await operation(context.Services.GetRequiredService<TokenEngine>(), config.Id);
        (result.Succeeded ? context.Stdout : context.Stderr).WriteLine(result.Message);
        return result.Succeeded ? CliApp.Ok : CliApp.Refused;
    }

    private static async Task<TokenConfig?> FindAsync(CliContext context, CancellationToken cancellationToken)
    {
        var name = context.Get(Name);
        var config = await context.Services.GetRequiredService<TokenConfigService>().FindByNameAsync(name, cancellationToken);
        if (config is null)
        {
            context.Stderr.WriteLine($"There is no token config named '{name}'. Run 'tokens list' for the names.");
        }

        return config;
    }
}
