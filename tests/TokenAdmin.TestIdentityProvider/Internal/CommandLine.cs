using System.Globalization;

namespace TokenAdmin.TestIdentityProvider.Internal;

/// <summary>Thrown for invalid command-line arguments (exit code 2).</summary>
internal sealed class CommandLineException(string message) : Exception(message);

/// <summary>The parsed standalone command line.</summary>
internal sealed class CommandLineOptions
{
    public bool ShowHelp { get; set; }

    public int Port { get; set; } = CommandLine.DefaultPort;

    public string? DatabasePath { get; set; }

    public bool RequirePkce { get; set; } = true;

    public bool Verbose { get; set; }

    public TimeSpan? AccessTokenLifetime { get; set; }

    public List<string> Audiences { get; } = [];

    public List<TestUser> Users { get; } = [];

    public List<TestClient> Clients { get; } = [];
}

/// <summary>Parses the standalone command line.</summary>
internal static class CommandLine
{
    public const int DefaultPort = 5081;

    public const string Usage = """
        TokenAdmin.TestIdentityProvider - a local OpenID Connect provider (OpenIddict) for trying TokenAdmin flows.

        Usage:
          dotnet run --project tests/TokenAdmin.TestIdentityProvider -- [options]

        Options:
          --port <n>                       Port on 127.0.0.1 (default 5081; 0 = any free port).
          --user <name>:<password>         Adds a user (repeatable). The password may contain ':'.
          --claim <user>:<type>=<value>    Adds a claim value to a user (repeatable; repeat a type for several values),
                                           e.g. --claim alice:roles=tokenadmin-admins --claim alice:email=alice@example.test
          --client <id>:<secret>:<uris>    Adds a client (repeatable). <uris> is a comma-separated list of redirect URIs;
                                           an empty <secret> (id::uris) makes a public client. The secret cannot contain ':'.
          --access-token-lifetime <secs>   Access token lifetime in seconds (default 3600).
          --audience <aud>                 Puts this aud into every access token (repeatable; default none), e.g. for TokenAdmin's API.
          --db <path>                      Keeps OpenIddict's SQLite database in this file (default: a temp file deleted on exit).
          --no-pkce                        Does not require PKCE (S256) for the authorization code flow.
          --verbose                        Logs at Information level (default: Warning).
          -h, --help                       Shows this help.

        Defaults:
          without --user:   alice / alice-password-1 with roles=tokenadmin-admins, name=Alice, email=alice@example.test
          without --client: tokenadmin / tokenadmin-secret with redirect URIs
                            http://localhost:5080/oauth2/callback, http://localhost:5080/signin-oidc,
                            http://127.0.0.1:5080/oauth2/callback, http://127.0.0.1:5080/signin-oidc
          Post-logout redirect URIs are <origin>/ and <origin>/signout-callback-oidc for each redirect URI origin.

        Test hooks:
          An authorization request with login_hint=deny is answered with error=access_denied;
          prompt=none is always answered with error=login_required (the provider keeps no login session).

        Example:
          dotnet run --project tests/TokenAdmin.TestIdentityProvider -- --port 5081 --user alice:Secret123! \
            --client tokenadmin:client-secret:http://localhost:5080/oauth2/callback,http://localhost:5080/signin-oidc \
            --claim alice:roles=tokenadmin-admins
        """;

    public static CommandLineOptions Parse(IReadOnlyList<string> args)
    {
        var result = new CommandLineOptions();
        var users = new List<(string Name, string Password)>();
        var claims = new List<(string User, string Type, string Value)>();
        var clients = new List<TestClient>();

        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            string? inlineValue = null;
            if (arg.StartsWith("--", StringComparison.Ordinal) && arg.IndexOf('=', StringComparison.Ordinal) is > 2 and var equals)
            {
                inlineValue = arg[(equals + 1)..];
                arg = arg[..equals];
            }

            switch (arg)
            {
                case "-h" or "--help" or "-?":
                    result.ShowHelp = true;
                    break;
                case "--port":
                    result.Port = ParsePort(Value());
                    break;
                case "--user":
                    users.Add(ParseUser(Value()));
                    break;
                case "--claim":
                    claims.Add(ParseClaim(Value()));
                    break;
                case "--client":
                    clients.Add(ParseClient(Value()));
                    break;
                case "--access-token-lifetime":
                    result.AccessTokenLifetime = ParseSeconds(arg, Value());
                    break;
                case "--audience":
                    result.Audiences.Add(NonEmpty(arg, Value()));
                    break;
                case "--db":
                    result.DatabasePath = NonEmpty(arg, Value());
                    break;
                case "--no-pkce":
                    NoValue();
                    result.RequirePkce = false;
                    break;
                case "--verbose":
                    NoValue();
                    result.Verbose = true;
                    break;
                default:
                    throw new CommandLineException($"Unknown argument '{args[i]}'.");
            }

            string Value()
            {
                if (inlineValue is not null)
                {
                    return inlineValue;
                }

                if (i + 1 >= args.Count)
                {
                    throw new CommandLineException($"Missing value for {arg}.");
                }

                return args[++i];
            }

            void NoValue()
            {
                if (inlineValue is not null)
                {
                    throw new CommandLineException($"{arg} takes no value.");
                }
            }
        }

        if (users.Count == 0)
        {
            users.Add(("alice", "alice-password-1"));
            claims.InsertRange(0,
            [
                ("alice", "roles", "tokenadmin-admins"),
                ("alice", "name", "Alice"),
                ("alice", "email", "alice@example.test"),
            ]);
        }

        if (clients.Count == 0)
        {
            clients.Add(CreateClient("tokenadmin", "tokenadmin-secret",
            [
                "http://localhost:5080/oauth2/callback",
                "http://localhost:5080/signin-oidc",
                "http://127.0.0.1:5080/oauth2/callback",
                "http://127.0.0.1:5080/signin-oidc",
            ]));
        }

        var duplicateUser = users.GroupBy(static user => user.Name, StringComparer.Ordinal).FirstOrDefault(static group => group.Count() > 1);
        if (duplicateUser is not null)
        {
            throw new CommandLineException($"User '{duplicateUser.Key}' is given more than once.");
        }

        var duplicateClient = clients.GroupBy(static client => client.ClientId, StringComparer.Ordinal).FirstOrDefault(static group => group.Count() > 1);
        if (duplicateClient is not null)
        {
            throw new CommandLineException($"Client '{duplicateClient.Key}' is given more than once.");
        }

        foreach (var (user, _, _) in claims)
        {
            if (!users.Exists(candidate => string.Equals(candidate.Name, user, StringComparison.Ordinal)))
            {
                throw new CommandLineException($"--claim names user '{user}', which is not defined (use --user {user}:<password>).");
            }
        }

        foreach (var (name, password) in users)
        {
            var userClaims = claims
                .Where(claim => string.Equals(claim.User, name, StringComparison.Ordinal))
                .GroupBy(static claim => claim.Type, StringComparer.Ordinal)
                .ToDictionary(static group => group.Key, static group => group.Select(static claim => claim.Value).ToArray(), StringComparer.Ordinal);
            result.Users.Add(new TestUser(name, password) { Claims = userClaims });
        }

        result.Clients.AddRange(clients);
        return result;
    }

    private static int ParsePort(string value)
    {
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            throw new CommandLineException($"Invalid port '{value}': expected a number from 0 to 65535.");
        }

        return port;
    }

    private static TimeSpan ParseSeconds(string name, string value)
    {
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds <= 0)
        {
            throw new CommandLineException($"Invalid {name} '{value}': expected a positive number of seconds.");
        }

        return TimeSpan.FromSeconds(seconds);
    }

    private static string NonEmpty(string name, string value) =>
        string.IsNullOrWhiteSpace(value) ? throw new CommandLineException($"{name} needs a non-empty value.") : value;

    private static (string Name, string Password) ParseUser(string value)
    {
        var colon = value.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == value.Length - 1)
        {
            throw new CommandLineException($"Invalid --user '{value}': expected <name>:<password>.");
        }

        return (value[..colon], value[(colon + 1)..]);
    }

    private static (string User, string Type, string Value) ParseClaim(string value)
    {
        var colon = value.IndexOf(':', StringComparison.Ordinal);
        var equals = colon < 0 ? -1 : value.IndexOf('=', colon + 1);
        if (colon <= 0 || equals <= colon + 1)
        {
            throw new CommandLineException($"Invalid --claim '{value}': expected <user>:<type>=<value>.");
        }

        return (value[..colon], value[(colon + 1)..equals], value[(equals + 1)..]);
    }

    private static TestClient ParseClient(string value)
    {
        var first = value.IndexOf(':', StringComparison.Ordinal);
        var second = first < 0 ? -1 : value.IndexOf(':', first + 1);
        if (first <= 0 || second < 0)
        {
            throw new CommandLineException($"Invalid --client '{value}': expected <id>:<secret>:<redirect-uri>[,<redirect-uri>...].");
        }

        var clientId = value[..first];
        var secret = value[(first + 1)..second];
        var uris = value[(second + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var uri in uris)
        {
            if (!Uri.TryCreate(uri, UriKind.Absolute, out var parsed) || (parsed.Scheme != Uri.UriSchemeHttp && parsed.Scheme != Uri.UriSchemeHttps))
            {
                throw new CommandLineException($"Invalid redirect URI '{uri}' for client '{clientId}': expected an absolute http(s) URI.");
            }
        }

        return CreateClient(clientId, secret.Length == 0 ? null : secret, uris);
    }

    private static TestClient CreateClient(string clientId, string? secret, IReadOnlyList<string> redirectUris)
    {
        var postLogout = redirectUris
            .Select(static uri => new Uri(uri).GetLeftPart(UriPartial.Authority))
            .Distinct(StringComparer.Ordinal)
            .SelectMany(static origin => new[] { origin + "/", origin + "/signout-callback-oidc" })
            .ToArray();
        return new TestClient(clientId, secret, redirectUris) { PostLogoutRedirectUris = postLogout };
    }
}
